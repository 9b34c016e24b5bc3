// Package consumer drains queues (lists in a queue.Keyspace) into a Sink,
// MySQL, PostgreSQL or an embedded bbolt file, in batches, through a fixed pool of
// writers, exactly once. It is the "worker" of the FaaS-mullet pattern:
// however many functions LPUSH, the database sees at most PoolSize
// connections.
//
// # Basics
//
//	c, err := consumer.New(ks, cfg) // cfg.Routes: queue -> table
//	c.Start()
//	...
//	c.Stop(ctx) // finishes or abandons in-flight batches safely
//
// For each route a goroutine waits for items (queue.Keyspace.Subscribe,
// no polling), lingers up to Linger for a full batch, takes a writer slot,
// and claims up to BatchSize items from the queue's right end (BRPOP's
// end: producers LPUSH). A claim moves the items, in one logged keyspace
// transaction, to a new list key
//
//	QUEUE:inflight:BATCH-ID
//
// so LLEN QUEUE is the backlog and KEYS QUEUE:inflight:* shows the batches
// being written. The writer waits until the claim is on stable storage
// (queue.Keyspace.Sync, an fdatasync of the AOF), writes the batch with
// Sink.Write (one transaction: the rows plus the batch ID in the ledger),
// and deletes the batch key.
//
// Batch IDs are BOOT-SEQ: BOOT is the start time in base 36 plus 32
// random bits, SEQ counts claims since start. They are unique across
// restarts without any stored counter (a counter kept in the keyspace
// would restart from zero without the AOF while the ledger remembers).
//
// # Guarantees
//
//   - Exactly once, with kill -9 at any moment, given appendonly yes: a
//     claim is durable before its rows are written, and the rows commit
//     atomically with the batch ID in the ledger. At start every batch
//     key found in the keyspace is settled against the ledger: recorded
//     batches are deleted, the others written again under the same ID
//     (Settle).
//   - Poison items (not a JSON object, unknown column, too long, a
//     constraint) do not block the queue: the batch is split, atomically,
//     into new batch keys until the bad item is alone; the good rows
//     commit; the bad item moves to the list QUEUE:dead and its reason, a
//     JSON record, to the list QUEUE:dead:reasons, both pushed on the left,
//     so index i of one matches index i of the other. Requeue the oldest
//     with one command: LMOVE QUEUE:dead QUEUE RIGHT LEFT (then RPOP
//     QUEUE:dead:reasons to drop its reason).
//   - A sink that is down, restarting, slow, deadlocked or full is retried
//     with exponential backoff and jitter (RetryMin doubling to RetryMax);
//     the route claims nothing new meanwhile, items stay in the queue, and
//     draining resumes by itself. An unknown table (*TableError) parks the
//     route the same way rather than dead-lettering every item.
//   - Every keyspace change is logged as commands redis-server replays:
//     LMOVE per claimed item in MULTI/EXEC, RENAME and LMOVE for splits,
//     LPUSH for reasons, DEL for acknowledgements.
//   - With StrictOrder one batch per route is written at a time, so rows
//     commit in queue order (dead letters excepted).
//
// # Caveats
//
//   - Without a log (appendonly no) queue.Keyspace.Sync returns
//     queue.ErrNoLog, which the consumer takes as "durable enough": there
//     is no durability to promise, a restart loses the queues anyway, and
//     the ledger still deduplicates retries within one run.
//   - The key names QUEUE:inflight:*, QUEUE:dead and QUEUE:dead:reasons
//     belong to the consumer: a client writing to an in-flight batch key
//     changes what is inserted.
//   - Ledger records are pruned (Sink.Forget) once the DEL of their batch
//     key is on stable storage; a crash between the two leaves a harmless
//     orphan record.
//   - Queues live in one database (Config.DB, normally 0).
package consumer
