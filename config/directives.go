package config

import (
	"errors"
	"math"
	"strings"
)

// The directive table: every directive mullet knows, in one place.
//
// Each entry gives the name (and Redis's alias, if any), the type, the
// default in file syntax, the unit, the flags (immutable at run time,
// protected, multi-argument, repeatable, sensitive, compatibility-only)
// and the help text printed by Usage. Types, bounds, defaults, flags and
// enum spellings are redis-server 7.0.15's (config.c static_configs, and
// `CONFIG GET *` on the real server), so that `CONFIG GET *` on mullet
// returns a superset of Redis's reply in the same format. Where mullet
// differs, the entry says why:
//
//   - appendonly defaults to yes: mullet is a durable queue.
//   - bind defaults to "127.0.0.1 -::1" (Redis's redis.conf, not its
//     compiled-in "* -::*"): a queue should not listen on every interface
//     unless asked.
//   - bind, port, dir and the tls-* directives are immutable: the server
//     binds and loads certificates once; Redis can rebind at run time.
//   - maxmemory-policy accepts only noeviction, replicaof only "no one",
//     cluster-enabled only no: mullet never evicts, replicates or shards.
//
// Directives marked compat are Redis tuning knobs with no effect in
// mullet. They are parsed and validated exactly as Redis does, stored, and
// reported by CONFIG GET, so that clients and harnesses that set them keep
// working.

// C integer limits used as Redis's bounds.
const (
	intMin    = math.MinInt32
	intMax    = math.MaxInt32
	uintMax   = math.MaxUint32
	longMax   = math.MaxInt64 // LONG_MAX, LLONG_MAX and SSIZE_MAX on LP64
	ullongMax = -1            // ULLONG_MAX as uint64 bits (bounds of nUnsigned are compared as uint64)
)

func boolD(name, alias, def string, f dflag, help string) directive {
	return directive{name: name, alias: alias, kind: kBool, def: def, flags: f, help: help}
}

func strD(name, alias, def string, f dflag, help string) directive {
	return directive{name: name, alias: alias, kind: kString, def: def, flags: f, help: help}
}

func enumD(name, alias, def string, items []enumItem, f dflag, help string) directive {
	return directive{name: name, alias: alias, kind: kEnum, def: def, enum: items, flags: f, help: help}
}

// flagsD is an enum of flags: several names may be given, their values
// OR'ed (Redis's MULTI_ARG enum).
func flagsD(name, def string, items []enumItem, f dflag, help string) directive {
	d := enumD(name, "", def, items, f, help)
	d.bits = true
	return d
}

func numD(name, alias, def string, lo, hi int64, nf numFlag, f dflag, unit, help string) directive {
	if nf&nMemory != 0 && unit == "" {
		unit = "bytes"
	}
	return directive{name: name, alias: alias, kind: kNum, def: def, lo: lo, hi: hi, nf: nf, flags: f, unit: unit, help: help}
}

func specD(name, alias, def string, sp *special, f dflag, help string) directive {
	return directive{name: name, alias: alias, kind: kSpecial, def: def, sp: sp, flags: f, help: help}
}

// items builds an enum whose names have distinct values in order.
func items(names ...string) []enumItem {
	out := make([]enumItem, len(names))
	for i, n := range names {
		out[i] = enumItem{n, int64(i)}
	}
	return out
}

var (
	protectedAction = items("no", "yes", "local")
	shutdownFlags   = []enumItem{{"default", 0}, {"save", 1}, {"nosave", 2}, {"now", 4}, {"force", 8}}
	evictionPolicy  = items("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
		"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")
)

// Shorthands for the flag sets the table uses most.
const (
	imm    = fImmutable
	compat = fCompat
	ci     = fCompat | fImmutable
	null   = fEmptyIsNull
)

var table = []directive{
	// ---- Network -------------------------------------------------------
	specD("bind", "", "127.0.0.1 -::1", spBind, imm|fMultiArg,
		"Addresses to listen on, space-separated; a leading '-' makes an address optional (skipped if unavailable)."),
	numD("port", "", "6379", 0, 65535, 0, imm, "",
		"TCP port to listen on; 0 disables the plain TCP listener."),
	boolD("protected-mode", "", "yes", 0,
		"When no password is set (requirepass empty), refuse clients from outside the loopback interface with -DENIED."),
	numD("tcp-keepalive", "", "300", 0, intMax, 0, 0, "s",
		"Send TCP keepalives to idle clients at this interval; 0 disables."),
	numD("timeout", "", "0", 0, intMax, 0, 0, "s",
		"Close a client connection after this many idle seconds; 0 never."),
	numD("maxclients", "", "10000", 1, uintMax, nUnsigned, 0, "",
		"Maximum number of connected clients; further connections are refused."),
	numD("tcp-backlog", "", "511", 0, intMax, 0, ci, "", "Listen backlog."),
	strD("unixsocket", "", "", ci|null, "Unix socket path."),
	numD("unixsocketperm", "", "0", 0, 0777, nOctal|nUnsigned, ci, "", "Unix socket permissions (octal)."),
	numD("socket-mark-id", "", "0", 0, uintMax, nUnsigned, ci, "", "SO_MARK for listening sockets."),
	strD("bind-source-addr", "", "", compat|null, "Source address for outgoing connections."),

	// ---- Security ------------------------------------------------------
	strD("requirepass", "", "", null|fSensitive,
		"Password clients must AUTH with; empty means none."),
	strD("aclfile", "", "", ci, "ACL file."),
	numD("acllog-max-len", "", "128", 0, longMax, 0, compat, "", "Maximum ACL LOG entries."),
	enumD("acl-pubsub-default", "", "resetchannels", items("allchannels", "resetchannels"), compat,
		"Default Pub/Sub permissions of new ACL users."),
	enumD("enable-protected-configs", "", "no", protectedAction, imm,
		"Allow CONFIG SET of protected directives (dbfilename): yes, no, or local (loopback clients only)."),
	enumD("enable-debug-command", "", "no", protectedAction, imm,
		"Allow DEBUG (mullet has only DEBUG SLEEP): yes, no, or local (loopback clients only)."),
	enumD("enable-module-command", "", "no", protectedAction, ci, "Allow the MODULE command."),

	// ---- Databases and memory -------------------------------------------
	numD("databases", "", "16", 1, intMax, 0, imm, "",
		"Number of logical databases (SELECT 0..N-1)."),
	numD("maxmemory", "", "0", 0, ullongMax, nMemory|nUnsigned, 0, "",
		"Memory limit for queued data; writes that would exceed it are refused with OOM, nothing is evicted. 0 means no limit."),
	enumD("maxmemory-policy", "", "noeviction", evictionPolicy, 0,
		"Must be noeviction: a queue never drops items. Redis's other policy names are refused.").with(checkNoEviction),
	numD("maxmemory-samples", "", "5", 1, intMax, 0, compat, "", "LRU/LFU sample size."),
	numD("maxmemory-eviction-tenacity", "", "10", 0, 100, 0, compat, "", "Eviction effort."),
	numD("maxmemory-clients", "", "0", -100, longMax, nMemory|nPercent, compat, "", "Client memory limit (bytes or N%)."),

	// ---- Protocol limits -----------------------------------------------
	numD("proto-max-bulk-len", "", "512mb", 1024*1024, longMax, nMemory, 0, "",
		"Largest bulk string a client may send."),
	numD("client-query-buffer-limit", "", "1gb", 1024*1024, longMax, nMemory|nUnsigned, 0, "",
		"Largest amount of unparsed input buffered for one client before it is disconnected."),
	specD("client-output-buffer-limit", "", "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60", spOutputBuffer, fMultiArg,
		"Per class (normal, replica, pubsub): hard limit, soft limit, soft seconds for replies buffered to a client. Only normal applies (no replicas, no pub/sub); its 0 0 0 means 1gb 256mb 60 in mullet, not unlimited."),

	// ---- Logging and slow log --------------------------------------------
	enumD("loglevel", "", "notice", items("debug", "verbose", "notice", "warning"), 0,
		"Log verbosity: debug, verbose, notice or warning."),
	strD("logfile", "", "", imm,
		"Log file path; empty logs to standard output."),
	numD("slowlog-log-slower-than", "", "10000", -1, longMax, 0, 0, "us",
		"Log commands slower than this to SLOWLOG; 0 logs every command, -1 disables."),
	numD("slowlog-max-len", "", "128", 0, longMax, 0, 0, "",
		"Number of entries SLOWLOG keeps."),
	boolD("syslog-enabled", "", "no", ci, "Log to syslog."),
	strD("syslog-ident", "", "redis", ci, "Syslog identity."),
	enumD("syslog-facility", "", "local0", items("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"), ci,
		"Syslog facility."),

	// ---- Append-only file ------------------------------------------------
	specD("dir", "", ".", spDir, imm|fProtected|fDenyLoading,
		"Data directory: the AOF directory and the embedded sink (sink.db) live here. It must exist. CONFIG GET shows the absolute path."),
	boolD("appendonly", "", "yes", fDenyLoading,
		"Log every write to the append-only file and replay it at start-up (mullet's default is yes)."),
	enumD("appendfsync", "", "everysec", items("everysec", "always", "no"), 0,
		"When to fsync the AOF: always (before replying), everysec (once a second), or no (leave it to the OS)."),
	strD("appenddirname", "", "appendonlydir", imm,
		"Directory, inside dir, holding the AOF manifest and segments.").with(checkBaseName("appenddirname", "dirname")),
	strD("appendfilename", "", "appendonly.aof", imm,
		"Base name of the AOF files.").with(checkBaseName("appendfilename", "filename")),
	numD("auto-aof-rewrite-percentage", "", "100", 0, intMax, 0, 0, "",
		"Rewrite the AOF when it has grown by this percentage since the last rewrite; 0 disables."),
	numD("auto-aof-rewrite-min-size", "", "64mb", 0, longMax, nMemory, 0, "",
		"Do not rewrite the AOF automatically below this size."),
	boolD("aof-load-truncated", "", "yes", 0,
		"Load an AOF whose last record is truncated (cutting it off) instead of refusing to start."),
	boolD("aof-use-rdb-preamble", "", "yes", 0,
		"Write rewritten AOF bases in RDB format (*.base.rdb, LZF-compressed, as Redis 7.0); no writes RESP commands (*.base.aof)."),
	boolD("aof-rewrite-incremental-fsync", "", "yes", compat, "fsync every 4 MB while rewriting the AOF."),
	boolD("aof-timestamp-enabled", "", "no", compat, "Write timestamp annotations into the AOF."),
	boolD("aof-disable-auto-gc", "", "no", compat, "Keep history AOF files after a rewrite."),
	boolD("no-appendfsync-on-rewrite", "", "no", compat, "Skip fsync while a rewrite runs."),

	// ---- Snapshots --------------------------------------------------------
	specD("save", "", "3600 1 300 100 60 10000", spSave, compat|fMultiArg|fRepeatable,
		"Snapshot after SECONDS if at least CHANGES writes happened: pairs, several lines accumulate; \"\" disables."),
	strD("dbfilename", "", "dump.rdb", compat|fProtected,
		"Snapshot file name, inside dir.").with(checkDBFileName),
	boolD("rdbcompression", "", "yes", compat, "Compress strings in snapshots."),
	boolD("rdbchecksum", "", "yes", ci, "Append a CRC64 checksum to snapshots."),
	boolD("stop-writes-on-bgsave-error", "", "yes", compat, "Refuse writes after a failed background save."),
	boolD("rdb-save-incremental-fsync", "", "yes", compat, "fsync every 4 MB while saving a snapshot."),
	boolD("rdb-del-sync-files", "", "no", compat, "Delete snapshots made only for replication."),
	enumD("sanitize-dump-payload", "", "no", items("no", "yes", "clients"), compat, "Deep-check RESTORE payloads."),

	// ---- TLS ------------------------------------------------------------
	numD("tls-port", "", "0", 0, 65535, 0, imm, "",
		"TLS port to listen on; 0 disables TLS."),
	strD("tls-cert-file", "", "", imm|null, "Server certificate (PEM)."),
	strD("tls-key-file", "", "", imm|null, "Server private key (PEM)."),
	strD("tls-ca-cert-file", "", "", imm|null, "CA certificates used to verify clients (PEM)."),
	enumD("tls-auth-clients", "", "yes", items("no", "yes", "optional"), imm,
		"Require client certificates: yes, no, or optional (verified when presented)."),
	strD("tls-key-file-pass", "", "", imm|null|fSensitive,
		"Passphrase of tls-key-file: not supported, so with tls-port set mullet refuses to start; decrypt the key instead."),
	strD("tls-client-cert-file", "", "", ci|null, "Client certificate for outgoing TLS."),
	strD("tls-client-key-file", "", "", ci|null, "Client private key for outgoing TLS."),
	strD("tls-client-key-file-pass", "", "", ci|null|fSensitive, "Passphrase of tls-client-key-file."),
	strD("tls-dh-params-file", "", "", ci|null, "DH parameters file."),
	strD("tls-ca-cert-dir", "", "", imm|null, "Directory of PEM files of CA certificates used to verify clients, beside tls-ca-cert-file."),
	strD("tls-protocols", "", "", imm|null, "TLS versions allowed, space-separated (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3); empty means TLSv1.2 and TLSv1.3."),
	strD("tls-ciphers", "", "", ci|null, "TLS 1.2 cipher list."),
	strD("tls-ciphersuites", "", "", ci|null, "TLS 1.3 cipher suites."),
	boolD("tls-prefer-server-ciphers", "", "no", ci, "Prefer the server's cipher order."),
	boolD("tls-session-caching", "", "yes", imm, "Let TLS clients resume sessions (session tickets); no disables resumption."),
	numD("tls-session-cache-size", "", "20480", 0, intMax, 0, ci, "", "TLS session cache size."),
	numD("tls-session-cache-timeout", "", "300", 0, intMax, 0, ci, "s", "TLS session cache lifetime."),
	boolD("tls-replication", "", "no", ci, "Use TLS for replication links."),
	boolD("tls-cluster", "", "no", ci, "Use TLS on the cluster bus."),

	// ---- mullet: metrics --------------------------------------------------
	strD("metrics-addr", "", "", imm,
		"Address (host:port) serving Prometheus metrics at /metrics; empty disables."),

	// ---- mullet: the consumer --------------------------------------------
	specD("consumer-route", "", "", spRoute, imm|fMultiArg|fRepeatable,
		"QUEUE TABLE: drain list QUEUE into table TABLE. Repeat the directive for more routes."),
	strD("consumer-mysql-dsn", "", "", imm|fSensitive,
		"MySQL DSN (go-sql-driver syntax) of the sink; empty uses the embedded bbolt sink in dir. Also from $MULLET_MYSQL_DSN; CONFIG GET and errors show it with the password masked."),
	strD("consumer-postgres-dsn", "", "", imm|fSensitive,
		"PostgreSQL connection string (pgx: postgres:// URL or key=value) of the sink; not together with consumer-mysql-dsn. Also from $MULLET_POSTGRES_DSN; CONFIG GET and errors show it with the password masked."),
	numD("consumer-pool-size", "", "10", 1, 1000, 0, imm, "",
		"Connections (and parallel writers) to the sink."),
	numD("consumer-batch-size", "", "500", 1, 1000000, 0, 0, "",
		"Most items written to the sink in one transaction."),
	numD("consumer-linger", "", "5", 0, 3600000, 0, 0, "ms",
		"How long a partial batch waits for more items before it is written."),
	numD("consumer-retry-min", "", "100", 1, intMax, 0, 0, "ms",
		"First delay before retrying a failed sink write; doubles on each failure."),
	numD("consumer-retry-max", "", "30000", 1, intMax, 0, 0, "ms",
		"Longest delay between retries of a failed sink write."),
	boolD("consumer-strict-order", "", "no", imm,
		"Write each queue's items strictly in order (one writer per queue) instead of in parallel batches."),
	boolD("consumer-enabled", "", "yes", 0,
		"Run the consumer; no leaves items in their queues (CONFIG SET consumer-enabled no pauses it)."),

	// ---- Redis compatibility: process ----------------------------------
	boolD("daemonize", "", "no", ci, "Fork into the background."),
	enumD("supervised", "", "no", items("upstart", "systemd", "auto", "no"), ci, "Supervision protocol."),
	strD("pidfile", "", "", ci|null, "PID file path."),
	boolD("always-show-logo", "", "no", ci, "Show the ASCII logo."),
	boolD("set-proc-title", "", "yes", ci, "Set the process title."),
	strD("proc-title-template", "", "{title} {listen-addr} {server-mode}", compat,
		"Process title template.").with(checkProcTitle),
	numD("io-threads", "", "1", 1, 128, 0, fImmutable, "", "Threads that run clients and commands (GOMAXPROCS); 1, the default, means half the CPUs."),
	boolD("io-threads-do-reads", "", "no", ci, "Also read and parse in I/O threads."),
	boolD("crash-log-enabled", "", "yes", compat, "Log a stack trace on crash."),
	boolD("crash-memcheck-enabled", "", "yes", compat, "Run a memory check on crash."),
	enumD("oom-score-adj", "", "no", []enumItem{{"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}}, compat,
		"Adjust the OOM killer score."),
	specD("oom-score-adj-values", "", "0 200 800", spOOMValues, compat|fMultiArg, "OOM score adjustments (master, replica, child)."),
	boolD("disable-thp", "", "yes", ci, "Disable transparent huge pages."),
	boolD("jemalloc-bg-thread", "", "yes", compat, "Let jemalloc purge in the background."),
	strD("server_cpulist", "", "", ci|null, "CPU affinity of the main thread."),
	strD("bio_cpulist", "", "", ci|null, "CPU affinity of background I/O threads."),
	strD("aof_rewrite_cpulist", "", "", ci|null, "CPU affinity of AOF rewrites."),
	strD("bgsave_cpulist", "", "", ci|null, "CPU affinity of background saves."),
	strD("ignore-warnings", "", "", compat, "Start-up warnings to silence."),
	numD("shutdown-timeout", "", "10", 0, intMax, 0, compat, "s", "Wait for replicas on shutdown."),
	flagsD("shutdown-on-sigint", "default", shutdownFlags, compat|fMultiArg, "SHUTDOWN flags on SIGINT.").with(checkShutdownFlags),
	flagsD("shutdown-on-sigterm", "default", shutdownFlags, compat|fMultiArg, "SHUTDOWN flags on SIGTERM.").with(checkShutdownFlags),

	// ---- Redis compatibility: event loop and expiry ----------------------
	numD("hz", "", "10", 0, intMax, 0, compat, "", "Background task frequency (clamped to 1..500).").with(clampHz),
	boolD("dynamic-hz", "", "yes", compat, "Scale hz with the number of clients."),
	boolD("activerehashing", "", "yes", compat, "Rehash the main dictionary incrementally."),
	numD("active-expire-effort", "", "1", 1, 10, 0, compat, "", "Active expiry effort."),
	boolD("lazyfree-lazy-eviction", "", "no", compat, "Free evicted keys in the background."),
	boolD("lazyfree-lazy-expire", "", "no", compat, "Free expired keys in the background."),
	boolD("lazyfree-lazy-server-del", "", "no", compat, "Free implicitly deleted keys in the background."),
	boolD("lazyfree-lazy-user-del", "", "no", compat, "Make DEL behave like UNLINK."),
	boolD("lazyfree-lazy-user-flush", "", "no", compat, "Make FLUSHALL/FLUSHDB asynchronous by default."),
	numD("lfu-log-factor", "", "10", 0, intMax, 0, compat, "", "LFU counter logarithm factor."),
	numD("lfu-decay-time", "", "1", 0, intMax, 0, compat, "", "LFU counter decay, in minutes."),
	boolD("activedefrag", "", "no", compat, "Active defragmentation."),
	numD("active-defrag-ignore-bytes", "", "100mb", 1, longMax, nMemory|nUnsigned, compat, "", "Defragment above this waste."),
	numD("active-defrag-threshold-lower", "", "10", 0, 1000, 0, compat, "", "Defragment above this fragmentation percentage."),
	numD("active-defrag-threshold-upper", "", "100", 0, 1000, 0, compat, "", "Maximum defragmentation effort at this percentage."),
	numD("active-defrag-cycle-min", "", "1", 1, 99, 0, compat, "", "Minimum defragmentation CPU percentage."),
	numD("active-defrag-cycle-max", "", "25", 1, 99, 0, compat, "", "Maximum defragmentation CPU percentage."),
	numD("active-defrag-max-scan-fields", "", "1000", 1, longMax, 0, compat, "", "Fields scanned per defragmentation step."),

	// ---- Redis compatibility: latency and scripting ----------------------
	numD("latency-monitor-threshold", "", "0", 0, longMax, 0, compat, "ms", "LATENCY monitor threshold."),
	boolD("latency-tracking", "", "yes", compat, "Per-command latency tracking."),
	specD("latency-tracking-info-percentiles", "", "50 99 99.9", spPercentiles, compat|fMultiArg, "Percentiles shown by INFO latencystats."),
	numD("busy-reply-threshold", "lua-time-limit", "5000", 0, longMax, 0, compat, "ms", "Script run time before BUSY replies."),
	specD("notify-keyspace-events", "", "", spNotify, compat, "Keyspace notification classes."),
	numD("tracking-table-max-keys", "", "1000000", 0, longMax, nUnsigned, compat, "", "Client-side caching table size."),
	enumD("propagation-error-behavior", "", "ignore", items("ignore", "panic", "panic-on-replicas"), compat, "Reaction to errors in replicated commands."),

	// ---- Redis compatibility: encodings ----------------------------------
	numD("list-max-listpack-size", "list-max-ziplist-size", "-2", intMin, intMax, 0, compat, "", "List node size."),
	numD("list-compress-depth", "", "0", 0, intMax, 0, 0, "",
		"Compress every list chunk except this many at each end (0: none); CONFIG SET applies to lists created afterwards."),
	numD("hash-max-listpack-entries", "hash-max-ziplist-entries", "512", 0, longMax, nUnsigned, compat, "", "Compact hash entries."),
	numD("hash-max-listpack-value", "hash-max-ziplist-value", "64", 0, longMax, nMemory|nUnsigned, compat, "", "Compact hash value size."),
	numD("set-max-intset-entries", "", "512", 0, longMax, nUnsigned, compat, "", "Integer set entries."),
	numD("zset-max-listpack-entries", "zset-max-ziplist-entries", "128", 0, longMax, nUnsigned, compat, "", "Compact sorted set entries."),
	numD("zset-max-listpack-value", "zset-max-ziplist-value", "64", 0, longMax, nMemory|nUnsigned, compat, "", "Compact sorted set value size."),
	numD("stream-node-max-bytes", "", "4096", 0, longMax, nMemory|nUnsigned, compat, "", "Stream node size."),
	numD("stream-node-max-entries", "", "100", 0, longMax, 0, compat, "", "Stream node entries."),
	numD("hll-sparse-max-bytes", "", "3000", 0, longMax, nMemory|nUnsigned, compat, "", "HyperLogLog sparse size."),

	// ---- Redis compatibility: replication ---------------------------------
	specD("replicaof", "slaveof", "no one", spReplicaOf, ci|fMultiArg, "Must be 'no one': mullet does not replicate."),
	strD("masterauth", "", "", compat|null|fSensitive, "Password for the master."),
	strD("masteruser", "", "", compat|null|fSensitive, "User for the master."),
	boolD("replica-read-only", "slave-read-only", "yes", compat, "Replicas refuse writes."),
	boolD("replica-serve-stale-data", "slave-serve-stale-data", "yes", compat, "Replicas answer while out of sync."),
	boolD("replica-lazy-flush", "slave-lazy-flush", "no", compat, "Flush asynchronously on full sync."),
	boolD("replica-ignore-maxmemory", "slave-ignore-maxmemory", "yes", compat, "Replicas ignore maxmemory."),
	boolD("replica-ignore-disk-write-errors", "", "no", compat, "Replicas keep going after disk errors."),
	boolD("replica-announced", "", "yes", compat, "Announce this replica to Sentinel."),
	numD("replica-priority", "slave-priority", "100", 0, intMax, 0, compat, "", "Failover priority."),
	strD("replica-announce-ip", "slave-announce-ip", "", compat|null, "Address announced to the master."),
	numD("replica-announce-port", "slave-announce-port", "0", 0, 65535, 0, compat, "", "Port announced to the master."),
	numD("min-replicas-to-write", "min-slaves-to-write", "0", 0, intMax, 0, compat, "", "Replicas required for writes."),
	numD("min-replicas-max-lag", "min-slaves-max-lag", "10", 0, intMax, 0, compat, "s", "Lag allowed for those replicas."),
	boolD("repl-diskless-sync", "", "yes", compat, "Stream snapshots to replicas without disk."),
	numD("repl-diskless-sync-delay", "", "5", 0, intMax, 0, compat, "s", "Wait for more replicas before a diskless sync."),
	numD("repl-diskless-sync-max-replicas", "", "0", 0, intMax, 0, compat, "", "Start a diskless sync once this many replicas wait."),
	enumD("repl-diskless-load", "", "disabled", items("disabled", "on-empty-db", "swapdb"), compat|fDenyLoading, "Load snapshots from the socket."),
	boolD("repl-disable-tcp-nodelay", "", "no", compat, "Disable TCP_NODELAY on replica links."),
	numD("repl-ping-replica-period", "repl-ping-slave-period", "10", 1, intMax, 0, compat, "s", "Replica ping period."),
	numD("repl-timeout", "", "60", 1, intMax, 0, compat, "s", "Replication timeout."),
	numD("repl-backlog-size", "", "1mb", 1, longMax, nMemory, compat, "", "Replication backlog size."),
	numD("repl-backlog-ttl", "", "3600", 0, longMax, 0, compat, "s", "Free the backlog after this long without replicas."),

	// ---- Redis compatibility: cluster -------------------------------------
	boolD("cluster-enabled", "", "no", ci, "Must be no: mullet does not shard.").with(checkNoCluster),
	strD("cluster-config-file", "", "nodes.conf", ci, "Cluster state file."),
	numD("cluster-node-timeout", "", "15000", 0, longMax, 0, compat, "ms", "Cluster node timeout."),
	numD("cluster-port", "", "0", 0, 65535, 0, ci, "", "Cluster bus port."),
	numD("cluster-announce-port", "", "0", 0, 65535, 0, compat, "", "Announced client port."),
	numD("cluster-announce-bus-port", "", "0", 0, 65535, 0, compat, "", "Announced bus port."),
	numD("cluster-announce-tls-port", "", "0", 0, 65535, 0, compat, "", "Announced TLS port."),
	strD("cluster-announce-ip", "", "", compat|null, "Announced address."),
	strD("cluster-announce-hostname", "", "", compat|null, "Announced host name.").with(checkHostname),
	enumD("cluster-preferred-endpoint-type", "", "ip", items("ip", "hostname", "unknown-endpoint"), compat, "Endpoint type shown to clients."),
	numD("cluster-replica-validity-factor", "cluster-slave-validity-factor", "10", 0, intMax, 0, compat, "", "Replica data age factor."),
	numD("cluster-migration-barrier", "", "1", 0, intMax, 0, compat, "", "Replicas a master keeps before one migrates."),
	boolD("cluster-require-full-coverage", "", "yes", compat, "Refuse queries unless all slots are covered."),
	boolD("cluster-replica-no-failover", "cluster-slave-no-failover", "no", compat, "Never fail over this replica."),
	boolD("cluster-allow-reads-when-down", "", "no", compat, "Serve reads while the cluster is down."),
	boolD("cluster-allow-pubsubshard-when-down", "", "yes", compat, "Serve shard Pub/Sub while the cluster is down."),
	boolD("cluster-allow-replica-migration", "", "yes", compat, "Allow replica migration."),
	numD("cluster-link-sendbuf-limit", "", "0", 0, ullongMax, nMemory|nUnsigned, compat, "", "Cluster link buffer limit."),
}

// checkNoEviction refuses every eviction policy: a queue that evicted
// would silently lose items, and there is no safe default but refusing.
func checkNoEviction(v *val) error {
	if v.n != int64(len(evictionPolicy)-1) { // noeviction is last
		return errors.New(reasonEviction)
	}
	return nil
}

func checkNoCluster(v *val) error {
	if v.n != 0 {
		return errors.New("mullet does not support cluster mode: cluster-enabled must be no")
	}
	return nil
}

// checkBaseName is Redis's isValidAOFfilename / isValidAOFdirname.
func checkBaseName(name, what string) func(v *val) error {
	return func(v *val) error {
		if v.s == "" {
			return errors.New(name + " can't be empty")
		}
		if strings.IndexByte(v.s, '/') >= 0 {
			return errors.New(name + " can't be a path, just a " + what)
		}
		return nil
	}
}

func checkDBFileName(v *val) error {
	if strings.IndexByte(v.s, '/') >= 0 {
		return errors.New("dbfilename can't be a path, just a filename")
	}
	return nil
}

// clampHz is Redis's updateHZ: out-of-range values are accepted and
// clamped to CONFIG_MIN_HZ..CONFIG_MAX_HZ, and CONFIG GET shows the result.
func clampHz(v *val) error {
	v.n = min(max(v.n, 1), 500)
	return nil
}

func checkShutdownFlags(v *val) error {
	if v.n&1 != 0 && v.n&2 != 0 {
		return errors.New("shutdown options SAVE and NOSAVE can't be used simultaneously")
	}
	return nil
}

// checkHostname is Redis's isValidAnnouncedHostname.
func checkHostname(v *val) error {
	if len(v.s) >= 256 {
		return errors.New("Hostnames must be less than 256 characters")
	}
	for _, c := range []byte(v.s) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return errors.New("Hostnames may only contain alphanumeric characters, hyphens or dots")
		}
	}
	return nil
}

// checkProcTitle is Redis's validateProcTitleTemplate: the template must
// expand (known {variables}, balanced braces, "{{" for a literal brace)
// to something non-empty. Variables are expanded as at start-up with an
// empty title, so "{title}" alone is refused, as in Redis.
func checkProcTitle(v *val) error {
	bad := errors.New("template format is invalid or contains unknown variables")
	t := v.s
	var out strings.Builder
	for len(t) > 0 {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			out.WriteString(t)
			break
		}
		out.WriteString(t[:i])
		t = t[i+1:]
		if t == "" {
			return bad
		}
		if t[0] == '{' {
			out.WriteByte('{')
			t = t[1:]
			continue
		}
		j := strings.IndexByte(t, '}')
		if j < 0 {
			return bad
		}
		switch t[:j] {
		case "title", "server-mode", "unixsocket", "config-file":
			// empty in a plain server started without those
		case "listen-addr", "port", "tls-port":
			out.WriteByte('x')
		default:
			return bad
		}
		t = t[j+1:]
	}
	if out.Len() == 0 {
		return bad
	}
	return nil
}
