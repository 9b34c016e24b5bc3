package consumer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"mullet/internal/testutil"
	"mullet/queue"
)

// The consumer's scenarios against a real database, written once and run
// against both SQL sinks (TestConsumerMySQL, TestConsumerPostgres): each
// sink brings a small harness (sqlHarness) that opens it, runs SQL as an
// administrator and stops, restarts or kills its server.

// A sqlHarness is one SQL sink and its throwaway server.
type sqlHarness struct {
	kind string // the sink's INFO consumer_sink: "mysql" or "postgres"
	user string // the role the sink logs in as
	ddl  string // CREATE TABLE of the orders table, %s = name
	// open returns an OpenSink with pool connections.
	open func(pool int) func(context.Context) (Sink, error)
	// exec and queryInt run SQL as the administrator.
	exec     func(q string) error
	queryInt func(q string) (int64, error)
	strs     func(q string) ([]string, error)
	// connections counts the sessions of user on the server.
	connections func() (int, error)
	// stop stops the server cleanly (MariaDB: SIGTERM; PostgreSQL:
	// pg_ctl stop -m fast), kill by SIGKILL, start starts it again on
	// the same data and port.
	stop  func() error
	kill  func()
	start func() error
	// hold inserts order_id into table in an open transaction, so a
	// write of the same order_id waits for its lock until the returned
	// func rolls it back (idempotent).
	hold func(t *testing.T, table, orderID string) func()
	// writing reports whether a write into table is waiting for a lock.
	writing string
}

// sql picks the statement for the harness's dialect.
func (h *sqlHarness) sql(mysql, postgres string) string {
	if h.kind == "mysql" {
		return mysql
	}
	return postgres
}

func (h *sqlHarness) mustExec(t testing.TB, q string) {
	t.Helper()
	if err := h.exec(q); err != nil {
		t.Fatal(err)
	}
}

func (h *sqlHarness) count(t testing.TB, q string) int64 {
	t.Helper()
	n, err := h.queryInt(q)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// mariaHarness runs the scenarios against m.
func mariaHarness(m *testutil.MariaDB) *sqlHarness {
	return &sqlHarness{
		kind: "mysql",
		user: testutil.MariaDBUser,
		ddl:  ordersDDL,
		open: func(pool int) func(context.Context) (Sink, error) {
			return func(ctx context.Context) (Sink, error) {
				return NewMySQL(ctx, m.DSN(testutil.MariaDBDatabase), pool, nil)
			}
		},
		exec:     func(q string) error { return m.Exec(q) },
		queryInt: func(q string) (int64, error) { return m.QueryInt(q) },
		strs: func(q string) ([]string, error) {
			db, err := sql.Open("mysql", m.DSN(testutil.MariaDBDatabase))
			if err != nil {
				return nil, err
			}
			defer db.Close()
			rows, err := db.Query(q)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					return nil, err
				}
				out = append(out, s)
			}
			return out, rows.Err()
		},
		connections: func() (int, error) { return m.ConnectionsFrom(testutil.MariaDBUser) },
		stop:        m.Stop,
		kill:        m.Kill,
		start:       m.Start,
		hold: func(t *testing.T, table, orderID string) func() {
			return holdOrderLock(t, m, table, orderID)
		},
		writing: "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO `%s`%%'",
	}
}

// pgOrdersDDL is ordersDDL in PostgreSQL's types.
const pgOrdersDDL = `CREATE TABLE %s (
	id bigserial PRIMARY KEY,
	order_id varchar(32) NOT NULL UNIQUE,
	customer varchar(64) NOT NULL,
	sku varchar(16) NOT NULL DEFAULT 'none',
	qty integer NOT NULL DEFAULT 1,
	price numeric(12,2) NULL,
	paid boolean NULL,
	meta jsonb NULL,
	note text NULL,
	ratio numeric(40,30) NULL
)`

// pgHarness runs the scenarios against p.
func pgHarness(p *testutil.Postgres) *sqlHarness {
	return &sqlHarness{
		kind: "postgres",
		user: testutil.PostgresUser,
		ddl:  pgOrdersDDL,
		open: func(pool int) func(context.Context) (Sink, error) {
			return func(ctx context.Context) (Sink, error) {
				return NewPostgres(ctx, p.DSN(testutil.PostgresDatabase), pool, nil)
			}
		},
		exec:        func(q string) error { return p.Exec(q) },
		queryInt:    func(q string) (int64, error) { return p.QueryInt(q) },
		strs:        func(q string) ([]string, error) { return p.QueryStrings(q) },
		connections: func() (int, error) { return p.ConnectionsFrom(testutil.PostgresUser) },
		stop:        p.Stop,
		kill:        p.Kill,
		start:       p.Start,
		hold: func(t *testing.T, table, orderID string) func() {
			return pgHoldOrderLock(t, p, table, orderID)
		},
		writing: "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY \"%s\"%%' AND wait_event_type = 'Lock'",
	}
}

// pgHoldOrderLock is holdOrderLock on PostgreSQL.
func pgHoldOrderLock(t *testing.T, p *testutil.Postgres, table, orderID string) func() {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), p.DSN(testutil.PostgresDatabase))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "INSERT INTO "+table+" (order_id, customer) VALUES ($1, 'locker')", orderID); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			tx.Rollback(context.Background())
			conn.Close(context.Background())
		})
	}
}

// sqlConsumer starts a consumer of routes on ks writing through h.
func (h *sqlHarness) consumer(t *testing.T, ks *queue.Keyspace, edit func(*Config), routes ...Route) *Consumer {
	t.Helper()
	probe := DefaultConfig()
	if edit != nil {
		edit(&probe)
	}
	return startConsumer(t, ks, h.open(probe.PoolSize), edit, routes...)
}

// orderItems returns n order items with order_id PREFIX-00000...
func orderItems(prefix string, n int) [][]byte {
	its := make([][]byte, n)
	for i := range its {
		its[i] = fmt.Appendf(nil, `{"order_id":"%s-%05d","customer":"c%d","qty":%d,"price":%d.25,"note":"line\n%d"}`,
			prefix, i, i, 1+i%7, i, i)
	}
	return its
}

// orderIDs returns the order_id column of table in insertion order.
func (h *sqlHarness) orderIDs(t *testing.T, table string) []string {
	t.Helper()
	out, err := h.strs("SELECT order_id FROM " + table + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkExactlyOnce fails unless table holds the orders prefix-00000 to
// prefix-(n-1) once each.
func (h *sqlHarness) checkExactlyOnce(t *testing.T, table, prefix string, n int) {
	t.Helper()
	got := h.orderIDs(t, table)
	slices.Sort(got)
	var dups, missing []string
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
		if seen[id] == 2 {
			dups = append(dups, id)
		}
	}
	for i := range n {
		if id := fmt.Sprintf("%s-%05d", prefix, i); seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	if len(got) != n || len(dups) > 0 || len(missing) > 0 {
		t.Fatalf("%s: %d rows for %d items; %d duplicated (%.5q), %d missing (%.5q)", table, len(got), n, len(dups), dups, len(missing), missing)
	}
}

func (h *sqlHarness) newTable(t *testing.T, name string) {
	t.Helper()
	h.mustExec(t, "DROP TABLE IF EXISTS "+name)
	h.mustExec(t, fmt.Sprintf(h.ddl, name))
}

// TestConsumerMySQL runs the shared scenarios against one real MariaDB.
func TestConsumerMySQL(t *testing.T) {
	// A short lock wait makes the lock-wait scenario quick.
	m := testutil.StartMariaDB(t, testutil.WithServerArgs("--innodb-lock-wait-timeout=1"))
	consumerScenarios(t, mariaHarness(m))
}

// TestConsumerPostgres runs the shared scenarios against one real
// PostgreSQL 15, then the PostgreSQL-only ones (schema-qualified tables,
// json/jsonb/timestamptz columns).
func TestConsumerPostgres(t *testing.T) {
	// lock_timeout plays InnoDB's lock wait timeout (55P03, retried).
	p := testutil.StartPostgres(t, testutil.WithSettings("lock_timeout=1000"))
	h := pgHarness(p)
	consumerScenarios(t, h)
	postgresScenarios(t, h)
}

// consumerScenarios runs the consumer against h's server; each subtest
// has its own tables, queues and keyspace.
func consumerScenarios(t *testing.T, h *sqlHarness) {
	t.Run("drain 10k exactly", func(t *testing.T) {
		h.newTable(t, "drain")
		ks := queue.New(queue.Config{})
		its := orderItems("d", 10000)
		lpush(t, ks, "dq", its...)
		c := h.consumer(t, ks, nil, Route{"dq", "drain"})
		testutil.WaitFor(t, 60*time.Second, "10000 rows", func() bool { return routeStats(c, "dq").Rows == 10000 })
		h.checkExactlyOnce(t, "drain", "d", 10000)
		// Content, not just count: every column as sent.
		sum := h.count(t, h.sql("SELECT CAST(SUM(price*4) AS SIGNED) FROM drain", "SELECT SUM(price*4)::bigint FROM drain"))
		qty := h.count(t, "SELECT SUM(qty) FROM drain")
		notes := h.count(t, h.sql(
			"SELECT COUNT(*) FROM drain WHERE note = CONCAT('line\n', SUBSTRING(order_id, 3) + 0) AND customer = CONCAT('c', SUBSTRING(order_id, 3) + 0)",
			"SELECT count(*) FROM drain WHERE note = 'line\n' || substring(order_id from 3)::int AND customer = 'c' || substring(order_id from 3)::int"))
		var wantSum, wantQty int64
		for i := range 10000 {
			wantSum += int64(i)*4 + 1
			wantQty += int64(1 + i%7)
		}
		if sum != wantSum || qty != wantQty || notes != 10000 {
			t.Errorf("content: sum(price*4)=%d want %d, sum(qty)=%d want %d, matching note/customer %d want 10000", sum, wantSum, qty, wantQty, notes)
		}
		if k := keysOf(t, ks, "*"); len(k) != 0 {
			t.Errorf("keys left after the drain: %q", k)
		}
		st := routeStats(c, "dq")
		if st.Batches < 20 || st.DeadLetters != 0 || st.InflightBatches != 0 || st.LatencyP50 <= 0 || st.LatencyP99 < st.LatencyP50 {
			t.Errorf("stats: %+v", st)
		}
		// Acknowledged batches leave the ledger (pruned within ~1s).
		testutil.WaitFor(t, 10*time.Second, "ledger pruned", func() bool {
			return h.count(t, "SELECT COUNT(*) FROM mullet_ledger WHERE table_name = 'drain'") == 0
		})
	})

	t.Run("pool limit", func(t *testing.T) {
		h.newTable(t, "pooled")
		const pool = 3
		before, err := h.connections()
		if err != nil || before != 0 {
			t.Fatalf("connections from %s before the test: %d, %v", h.user, before, err)
		}
		ks := queue.New(queue.Config{})
		lpush(t, ks, "pq", orderItems("p", 20000)...)
		var peak atomic.Int64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if n, err := h.connections(); err == nil && int64(n) > peak.Load() {
					peak.Store(int64(n))
				}
			}
		}()
		c := h.consumer(t, ks, func(cfg *Config) { cfg.PoolSize = pool; cfg.BatchSize = 50 }, Route{"pq", "pooled"})
		testutil.WaitFor(t, 60*time.Second, "20000 rows", func() bool { return routeStats(c, "pq").Rows == 20000 })
		close(stop)
		<-sampled
		h.checkExactlyOnce(t, "pooled", "p", 20000)
		st := routeStats(c, "pq")
		t.Logf("peak connections from %s: %d; peak parallel batches: %d; pool %+v", h.user, peak.Load(), st.PeakWriters, c.Pool())
		if peak.Load() > pool || peak.Load() == 0 {
			t.Errorf("the server saw %d connections from mullet; consumer-pool-size is %d", peak.Load(), pool)
		}
		if st.PeakWriters < 2 || st.PeakWriters > pool {
			t.Errorf("peak parallel batches %d; want 2..%d", st.PeakWriters, pool)
		}
		if ps := c.Pool(); ps.Open > pool || ps.Size != pool {
			t.Errorf("pool stats %+v", ps)
		}
	})

	t.Run("poison", func(t *testing.T) {
		h.newTable(t, "poison")
		h.mustExec(t, "INSERT INTO poison (order_id, customer) VALUES ('taken', 'pre')")
		h.mustExec(t, "DROP TABLE IF EXISTS poison_parents")
		h.mustExec(t, "CREATE TABLE poison_parents (id INT PRIMARY KEY)")
		h.mustExec(t, "INSERT INTO poison_parents (id) VALUES (1)")
		h.mustExec(t, "ALTER TABLE poison ADD CONSTRAINT qty_sane CHECK (qty >= 0)")
		h.mustExec(t, "ALTER TABLE poison ADD COLUMN parent INT NULL, ADD CONSTRAINT poison_fk FOREIGN KEY (parent) REFERENCES poison_parents (id)")
		h.mustExec(t, h.sql("ALTER TABLE poison ADD COLUMN at DATETIME(3) NULL", "ALTER TABLE poison ADD COLUMN at timestamptz NULL"))
		// Sixteen kinds of poison: the sink's own (not JSON, not an
		// object, no columns, bad names) and the database's (each its own
		// error number or SQLSTATE), with what the reason must say.
		cases := []struct{ item, mysql, postgres string }{
			{`not json at all`, "JSON", "JSON"},
			{`[1,2,3]`, "object", "object"},
			{`"a string"`, "object", "object"},
			{`{}`, "no columns", "no columns"},
			{`{"":1}`, "empty name", "empty name"},
			{`{"` + strings.Repeat("k", 70) + `":1}`, "longer than", "longer than"},
			{`{"order_id":"x1","customer":"c","bogus":1}`, "Unknown column", "42703"},
			{`{"order_id":"x2","customer":"c","sku":"` + strings.Repeat("s", 40) + `"}`, "too long", "22001"},
			{`{"order_id":"x3","customer":null}`, "cannot be null", "23502"},
			{`{"order_id":"taken","customer":"dup"}`, "Duplicate", "23505"},
			{`{"order_id":"x4","customer":"c","meta":"{not json"}`, "CONSTRAINT", "22P02"},
			{`{"order_id":"x5","customer":"c","qty":99999999999}`, "Out of range", "22003"},
			{`{"order_id":"x6","customer":"c","price":"abc"}`, "Incorrect decimal value", "22P02"},
			{`{"order_id":"x7","customer":"c","qty":-5}`, "qty_sane", "23514"},
			{`{"order_id":"x8","customer":"c","parent":2}`, "foreign key constraint fails", "23503"},
			{`{"order_id":"x9","customer":"c","at":"not a date"}`, "Incorrect datetime value", "22007"},
		}
		poison := map[string]string{}
		for _, tc := range cases {
			poison[tc.item] = h.sql(tc.mysql, tc.postgres)
		}
		var its [][]byte
		good := orderItems("g", 300)
		var bad []string
		for s := range poison {
			bad = append(bad, s)
		}
		slices.Sort(bad)
		for i, g := range good {
			its = append(its, g)
			if i%18 == 7 && len(bad) > 0 {
				its = append(its, []byte(bad[0]))
				bad = bad[1:]
			}
		}
		if len(bad) > 0 {
			t.Fatal("test setup: not every poison item was queued")
		}
		ks := queue.New(queue.Config{})
		lpush(t, ks, "xq", its...)
		c := h.consumer(t, ks, func(cfg *Config) { cfg.BatchSize = 40 }, Route{"xq", "poison"})
		testutil.WaitFor(t, 60*time.Second, "the queue to drain", func() bool {
			st := routeStats(c, "xq")
			return st.Rows == 300 && st.DeadLetters == int64(len(poison))
		})
		got := h.orderIDs(t, "poison")
		slices.Sort(got)
		if len(got) != 301 || got[300] != "taken" {
			t.Errorf("rows: %d (%q...), want the 300 good ones plus the pre-existing one", len(got), got[:min(len(got), 3)])
		}
		checkDeadLetters(t, ks, "xq", "poison", poison)
		if k := keysOf(t, ks, "xq:inflight:*"); len(k) != 0 {
			t.Errorf("in-flight keys left: %q", k)
		}
	})

	t.Run("log replays in redis-server", func(t *testing.T) {
		h.newTable(t, "replayed")
		log := testutil.NewLog()
		ks := queue.New(queue.Config{Log: log})
		its := orderItems("r", 400)
		// A JSON error names its item (cut out); an unknown column fails a
		// multi-row INSERT without saying which row (halving).
		its = slices.Insert(its, 333, []byte(`{"order_id":"r-bad1","customer":"c","nope":1}`))
		its = slices.Insert(its, 100, []byte(`{oops`))
		lpush(t, ks, "rq", its...)
		c := h.consumer(t, ks, func(cfg *Config) { cfg.BatchSize = 64 }, Route{"rq", "replayed"})
		testutil.WaitFor(t, 30*time.Second, "the drain", func() bool {
			st := routeStats(c, "rq")
			return st.Rows == 400 && st.DeadLetters == 2
		})
		h.checkExactlyOnce(t, "replayed", "r", 400)
		checkReplay(t, ks, log)
	})

	t.Run("strict order", func(t *testing.T) {
		h.newTable(t, "strict")
		ks := queue.New(queue.Config{})
		its := orderItems("s", 3000)
		// Poison in the middle must not reorder the good rows around it.
		its = slices.Insert(its, 1234, []byte(`{"order_id":"s-bad","customer":"c","nope":1}`))
		lpush(t, ks, "sq", its...)
		c := h.consumer(t, ks, func(cfg *Config) { cfg.StrictOrder = true; cfg.BatchSize = 100; cfg.PoolSize = 4 }, Route{"sq", "strict"})
		testutil.WaitFor(t, 60*time.Second, "3000 rows", func() bool { return routeStats(c, "sq").Rows == 3000 })
		got := h.orderIDs(t, "strict")
		var want []string
		for i := range 3000 {
			want = append(want, fmt.Sprintf("s-%05d", i))
		}
		if !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("row %d is %s, want %s: not in queue order", i, got[i], want[i])
				}
			}
			t.Fatalf("%d rows, want %d", len(got), len(want))
		}
		if st := routeStats(c, "sq"); st.PeakWriters != 1 || st.DeadLetters != 1 {
			t.Errorf("strict order wrote %d batches at once (want 1), %d dead letters (want 1)", st.PeakWriters, st.DeadLetters)
		}
	})

	t.Run("settle after restart", func(t *testing.T) {
		h.newTable(t, "settled")
		ks := queue.New(queue.Config{})
		prev := &Consumer{boot: bootID(time.Now().Add(-time.Hour))}
		committed, pending := prev.nextID(), prev.nextID()
		// The previous run claimed two batches; the first committed (its
		// rows and ledger record are in the database), then it died.
		lpush(t, ks, "tq", orderItems("t", 10)...)
		claimKey := func(id string, n int) {
			tx := ks.Begin()
			_, err := tx.Claim(0, []byte("tq"), []byte("tq:inflight:"+id), n, nil)
			tx.End()
			if err != nil {
				t.Fatal(err)
			}
		}
		claimKey(committed, 3) // t-00000..2
		claimKey(pending, 3)   // t-00003..5
		s, err := h.open(1)(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(t.Context(), Batch{ID: committed, Table: "settled", Items: bytesOf(listOf(t, ks, "tq:inflight:"+committed))}); err != nil {
			t.Fatal(err)
		}
		s.Close()

		c := h.consumer(t, ks, func(cfg *Config) { cfg.StrictOrder = true }, Route{"tq", "settled"})
		testutil.WaitFor(t, 30*time.Second, "settlement and drain", func() bool { return routeStats(c, "tq").Rows == 7 })
		got := h.orderIDs(t, "settled")
		want := []string{"t-00000", "t-00001", "t-00002", "t-00003", "t-00004", "t-00005", "t-00006", "t-00007", "t-00008", "t-00009"}
		if !slices.Equal(got, want) {
			t.Errorf("rows %q\nwant %q (committed batch once, pending batch before newer items)", got, want)
		}
		st := routeStats(c, "tq")
		if st.SettledDropped != 1 || st.SettledRetried != 1 {
			t.Errorf("settled dropped %d, retried %d; want 1, 1", st.SettledDropped, st.SettledRetried)
		}
		if k := keysOf(t, ks, "*"); len(k) != 0 {
			t.Errorf("keys left: %q", k)
		}
	})

	t.Run("unknown table parks the route", func(t *testing.T) {
		h.mustExec(t, "DROP TABLE IF EXISTS later")
		ks := queue.New(queue.Config{})
		lpush(t, ks, "lq", orderItems("l", 50)...)
		c := h.consumer(t, ks, nil, Route{"lq", "later"})
		testutil.WaitFor(t, 30*time.Second, "backoff on the missing table", func() bool {
			st := routeStats(c, "lq")
			return st.State == "backoff" && strings.Contains(st.LastError, "no such table") && st.Retries >= 2
		})
		if st := routeStats(c, "lq"); st.DeadLetters != 0 {
			t.Errorf("parked route: %+v; want no dead letters", st)
		}
		// The queue's true length, not Stats' Backlog: that one is
		// refreshed every backlogEvery, so just after the claim it may
		// still count the 50 items that are now in flight.
		testutil.WaitFor(t, 5*time.Second, "all 50 items still queued or in flight", func() bool {
			return llen(ks, "lq")+routeStats(c, "lq").InflightItems == 50
		})
		h.newTable(t, "later")
		testutil.WaitFor(t, 30*time.Second, "the route to resume", func() bool { return routeStats(c, "lq").Rows == 50 })
		h.checkExactlyOnce(t, "later", "l", 50)
		if st := routeStats(c, "lq"); st.State != "running" {
			t.Errorf("state %s after recovery", st.State)
		}
	})

	t.Run("lock wait timeout retries", func(t *testing.T) {
		h.newTable(t, "locked")
		release := h.hold(t, "locked", "k-00003")
		defer release()
		ks := queue.New(queue.Config{})
		lpush(t, ks, "kq", orderItems("k", 10)...)
		c := h.consumer(t, ks, nil, Route{"kq", "locked"})
		testutil.WaitFor(t, 30*time.Second, "a retry after lock wait timeout", func() bool { return routeStats(c, "kq").Retries >= 1 })
		if st := routeStats(c, "kq"); st.Rows != 0 || st.DeadLetters != 0 {
			t.Errorf("while locked: %+v", st)
		}
		release()
		testutil.WaitFor(t, 30*time.Second, "10 rows", func() bool { return routeStats(c, "kq").Rows == 10 })
		h.checkExactlyOnce(t, "locked", "k", 10)
	})

	t.Run("claims work at maxmemory", func(t *testing.T) {
		h.newTable(t, "capped")
		ks := queue.New(queue.Config{MaxMemory: 1024})
		lpush(t, ks, "mq", orderItems("m", 500)...)
		if !ks.OverLimit() {
			t.Fatal("test setup: the keyspace should be past maxmemory")
		}
		c := h.consumer(t, ks, nil, Route{"mq", "capped"})
		testutil.WaitFor(t, 30*time.Second, "500 rows", func() bool { return routeStats(c, "mq").Rows == 500 })
		h.checkExactlyOnce(t, "capped", "m", 500)
	})

	t.Run("pause and resume", func(t *testing.T) {
		h.newTable(t, "paused")
		ks := queue.New(queue.Config{})
		lpush(t, ks, "zq", orderItems("z", 100)...)
		c := h.consumer(t, ks, func(cfg *Config) { cfg.Disabled = true }, Route{"zq", "paused"})
		testutil.WaitFor(t, 10*time.Second, "the backlog to be seen", func() bool { return routeStats(c, "zq").Backlog == 100 })
		if st := routeStats(c, "zq"); st.State != "stopped" || st.Rows != 0 {
			t.Errorf("paused: %+v", st)
		}
		c.SetEnabled(true)
		testutil.WaitFor(t, 30*time.Second, "100 rows", func() bool { return routeStats(c, "zq").Rows == 100 })
		h.checkExactlyOnce(t, "paused", "z", 100)
	})

	t.Run("info", func(t *testing.T) {
		h.newTable(t, "informed")
		ks := queue.New(queue.Config{})
		lpush(t, ks, "iq", orderItems("i", 1000)...)
		lpush(t, ks, "iq", []byte(`{"order_id":"i-bad","customer":"c","nope":1}`))
		c := h.consumer(t, ks, func(cfg *Config) { cfg.PoolSize = 4; cfg.BatchSize = 100 }, Route{"iq", "informed"}, Route{"idle", "informed"})
		testutil.WaitFor(t, 30*time.Second, "1000 rows", func() bool { return routeStats(c, "iq").Rows == 1000 })
		testutil.WaitFor(t, 10*time.Second, "the backlog to be seen", func() bool { return routeStats(c, "iq").Backlog == 0 })
		info := map[string]string{}
		var order []string
		c.Info(func(k, v string) { info[k] = v; order = append(order, k) })
		t.Logf("INFO consumer:\n%s", strings.Join(order, "\n"))
		for k, want := range map[string]string{
			"consumer_enabled":      "1",
			"consumer_sink":         h.kind,
			"consumer_pool_size":    "4",
			"consumer_pool_in_use":  "0",
			"consumer_batch_size":   "100",
			"consumer_strict_order": "0",
			"consumer_routes":       "2",
		} {
			if info[k] != want {
				t.Errorf("%s:%s, want %s", k, info[k], want)
			}
		}
		if open, idle := info["consumer_pool_open"], info["consumer_pool_idle"]; open == "0" || open != idle {
			t.Errorf("pool open %s idle %s: want the same, > 0", open, idle)
		}
		fields := map[string]string{}
		for _, kv := range strings.Split(info["route0"], ",") {
			k, v, _ := strings.Cut(kv, "=")
			fields[k] = v
		}
		for k, want := range map[string]string{
			"queue": "iq", "table": "informed", "state": "running", "rows": "1000", "dead_letters": "1",
			"backlog": "0", "lag_ms": "0.00", "inflight_batches": "0", "inflight_items": "0",
		} {
			if fields[k] != want {
				t.Errorf("route0 %s=%s, want %s (%s)", k, fields[k], want, info["route0"])
			}
		}
		for _, k := range []string{"batches", "latency_p50_ms", "latency_p99_ms", "retries"} {
			if _, ok := fields[k]; !ok {
				t.Errorf("route0 lacks %s: %s", k, info["route0"])
			}
		}
		if fields["latency_p50_ms"] == "0.00" {
			t.Errorf("latency not measured: %s", info["route0"])
		}
		if !strings.HasPrefix(info["route1"], "queue=idle,table=informed,state=running,rows=0,") {
			t.Errorf("route1:%s", info["route1"])
		}
		// Lag: paused with items waiting, it grows; drained, it is 0.
		c.SetEnabled(false)
		lpush(t, ks, "iq", orderItems("j", 10)...)
		testutil.WaitFor(t, 10*time.Second, "the lag to show", func() bool { return routeStats(c, "iq").Lag >= 600*time.Millisecond })
		c.SetEnabled(true)
		testutil.WaitFor(t, 10*time.Second, "the lag to clear", func() bool {
			st := routeStats(c, "iq")
			return st.Backlog == 0 && st.Lag == 0
		})
	})

	t.Run("stop mid-write, settle on the next start", func(t *testing.T) {
		h.newTable(t, "abandoned")
		release := h.hold(t, "abandoned", "a-00001")
		defer release()
		ks := queue.New(queue.Config{})
		lpush(t, ks, "aq", orderItems("a", 5)...)
		cfg := DefaultConfig()
		cfg.Routes = []Route{{"aq", "abandoned"}}
		cfg.OpenSink = h.open(2)
		cfg.Logger = testLog(t)
		c, err := New(ks, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Start()
		testutil.WaitFor(t, 20*time.Second, "the insert to wait for the lock", func() bool {
			n, err := h.queryInt(fmt.Sprintf(h.writing, "abandoned"))
			return err == nil && n > 0
		})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err = c.Stop(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop = %v; want it to abort the write at its deadline", err)
		}
		if k := keysOf(t, ks, "aq:inflight:*"); len(k) != 1 {
			t.Fatalf("in-flight keys after an aborted write: %q; want the batch kept", k)
		}
		release()
		c2 := h.consumer(t, ks, nil, Route{"aq", "abandoned"})
		testutil.WaitFor(t, 30*time.Second, "the abandoned batch", func() bool { return routeStats(c2, "aq").Rows == 5 })
		h.checkExactlyOnce(t, "abandoned", "a", 5)
	})
}

// checkDeadLetters checks QUEUE:dead holds exactly the poison items, and
// QUEUE:dead:reasons a record for each at the same index with a reason
// containing the expected text.
func checkDeadLetters(t *testing.T, ks *queue.Keyspace, q, table string, poison map[string]string) {
	t.Helper()
	dead := listOf(t, ks, q+":dead")
	reasons := listOf(t, ks, q+":dead:reasons")
	if len(dead) != len(poison) || len(reasons) != len(dead) {
		t.Fatalf("%d dead letters, %d reasons; want %d each:\n%s", len(dead), len(reasons), len(poison), strings.Join(dead, "\n"))
	}
	for i, item := range dead {
		want, ok := poison[item]
		if !ok {
			t.Errorf("dead letter %q is not a poison item", item)
			continue
		}
		var rec deadReason
		if err := json.Unmarshal([]byte(reasons[i]), &rec); err != nil {
			t.Errorf("reason %d: %v: %s", i, err, reasons[i])
			continue
		}
		if rec.Item != item || rec.Table != table || rec.Batch == "" || rec.Reason == "" || rec.At.IsZero() ||
			!strings.Contains(strings.ToLower(rec.Reason), strings.ToLower(want)) {
			t.Errorf("reason for %q: %+v; want %q in the reason", item, rec, want)
		}
		t.Logf("dead: %-60.60s  reason: %s", item, rec.Reason)
	}
}

func bytesOf(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// TestConsumerMariaDBDown stops MariaDB mid-drain, cleanly and then by
// crash: items stay queued or in flight, the route backs off, and when the
// server is back it resumes on its own, writing each item exactly once.
func TestConsumerMariaDBDown(t *testing.T) {
	serverDown(t, mariaHarness(testutil.StartMariaDB(t)))
}

// TestConsumerPostgresDown is TestConsumerMariaDBDown with PostgreSQL:
// pg_ctl stop -m fast mid-drain (sessions terminated with 57P01), then a
// crash of every PostgreSQL process.
func TestConsumerPostgresDown(t *testing.T) {
	serverDown(t, pgHarness(testutil.StartPostgres(t)))
}

func serverDown(t *testing.T, h *sqlHarness) {
	h.newTable(t, "outage")
	ks := queue.New(queue.Config{})
	const n = 30000
	lpush(t, ks, "oq", orderItems("o", n)...)
	c := h.consumer(t, ks, func(cfg *Config) { cfg.BatchSize = 100; cfg.PoolSize = 4 }, Route{"oq", "outage"})
	total := func(st RouteStats) int64 { return st.Rows + st.Backlog + st.InflightItems }

	for round, down := range []func(){func() {
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
	}, h.kill} {
		from := routeStats(c, "oq").Rows
		testutil.WaitFor(t, 60*time.Second, "some progress", func() bool { return routeStats(c, "oq").Rows > from+1000 })
		down()
		testutil.WaitFor(t, 30*time.Second, "backoff", func() bool { return routeStats(c, "oq").State == "backoff" })
		st := routeStats(c, "oq")
		rows := st.Rows
		testutil.WaitFor(t, 10*time.Second, "an up-to-date backlog", func() bool { st = routeStats(c, "oq"); return total(st) == n })
		// Batches already committing when the database went down may
		// still land (at most one per writer); nothing more may.
		if st.Retries == 0 || st.DeadLetters != 0 || st.Rows-rows > 4*100 {
			t.Errorf("round %d while down: %+v", round, st)
		}
		t.Logf("round %d: down after %d rows; %+v", round, rows, st)
		if err := h.start(); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, 120*time.Second, "the drain to finish", func() bool { return routeStats(c, "oq").Rows >= n })
	if st := routeStats(c, "oq"); st.Rows != n || st.State != "running" {
		t.Errorf("after the outages: %+v", st)
	}
	h.checkExactlyOnce(t, "outage", "o", n)
}

// postgresScenarios are the PostgreSQL sink's own: what MySQL has no
// equivalent of.
func postgresScenarios(t *testing.T, h *sqlHarness) {
	t.Run("schema-qualified table", func(t *testing.T) {
		h.mustExec(t, "DROP SCHEMA IF EXISTS sales CASCADE")
		ks := queue.New(queue.Config{})
		lpush(t, ks, "sales_q", orderItems("q", 500)...)
		c := h.consumer(t, ks, func(cfg *Config) { cfg.BatchSize = 100 }, Route{"sales_q", "sales.orders"})
		// The schema does not exist yet (3F000): parked, like a missing table.
		testutil.WaitFor(t, 30*time.Second, "backoff on the missing schema", func() bool {
			st := routeStats(c, "sales_q")
			return st.State == "backoff" && strings.Contains(st.LastError, "no such table") && st.Retries >= 1
		})
		h.mustExec(t, "CREATE SCHEMA sales AUTHORIZATION "+testutil.PostgresUser)
		h.mustExec(t, fmt.Sprintf(h.ddl, "sales.orders"))
		h.mustExec(t, "GRANT ALL ON sales.orders TO "+testutil.PostgresUser)
		// A table of the same name in public must not receive the rows.
		h.newTable(t, "orders")
		testutil.WaitFor(t, 30*time.Second, "500 rows", func() bool { return routeStats(c, "sales_q").Rows == 500 })
		h.checkExactlyOnce(t, "sales.orders", "q", 500)
		if n := h.count(t, "SELECT count(*) FROM public.orders"); n != 0 {
			t.Errorf("public.orders got %d rows", n)
		}
		if st := routeStats(c, "sales_q"); st.State != "running" || st.DeadLetters != 0 {
			t.Errorf("after recovery: %+v", st)
		}
	})

	t.Run("json jsonb timestamptz and exact numbers", func(t *testing.T) {
		h.mustExec(t, "DROP TABLE IF EXISTS typed")
		h.mustExec(t, `CREATE TABLE typed (
			id bigserial PRIMARY KEY,
			order_id text NOT NULL UNIQUE,
			doc json, docb jsonb, at timestamptz, paid boolean,
			big numeric(40,20), n bigint, note text, tags text[]
		)`)
		its := items(
			`{"order_id":"t1","doc":{"b":[1,2.50,{"c":null}],"a":"x\ty"},"docb":{"z":1,"a":[true,false]},"at":"2026-11-25T19:33:12.123456Z","paid":true,"big":12345678901234567890.12345678901234567890,"n":-9223372036854775808,"note":"tab\there\nnew line \\ backslash \\N not null","tags":"{a,b}"}`,
			`{"order_id":"t2","doc":[1,"two"],"docb":"{\"s\":\"json in a string\"}","at":"2026-11-25 20:33:12+01","paid":false,"big":1e-20,"n":0,"note":"\\.","tags":null}`,
			`{"order_id":"t3","doc":null,"docb":null,"at":null,"paid":null,"big":null,"n":null,"note":""}`,
		)
		ks := queue.New(queue.Config{})
		lpush(t, ks, "typed_q", its...)
		c := h.consumer(t, ks, nil, Route{"typed_q", "typed"})
		testutil.WaitFor(t, 30*time.Second, "3 rows", func() bool { return routeStats(c, "typed_q").Rows == 3 })
		got, err := h.strs(`SELECT concat_ws(' | ', order_id, doc::text, docb::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),
			paid::text, big::text, n::text, replace(replace(note, E'\t', '<TAB>'), E'\n', '<NL>'), array_length(tags, 1)::text, (note = '')::text) FROM typed ORDER BY order_id`)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			`t1 | {"b":[1,2.50,{"c":null}],"a":"x\ty"} | {"a": [true, false], "z": 1} | 2026-11-25 19:33:12.123456 | true | 12345678901234567890.12345678901234567890 | -9223372036854775808 | tab<TAB>here<NL>new line \ backslash \N not null | 2 | false`,
			`t2 | [1,"two"] | {"s": "json in a string"} | 2026-11-25 19:33:12.000000 | false | 0.00000000000000000001 | 0 | \. | false`,
			`t3 |  | true`, // note is the empty string, not NULL
		}
		if !slices.Equal(got, want) {
			t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("bool into an integer column is poison", func(t *testing.T) {
		h.newTable(t, "boolint")
		ks := queue.New(queue.Config{})
		lpush(t, ks, "bi_q", []byte(`{"order_id":"b1","customer":"c","qty":true}`), []byte(`{"order_id":"b2","customer":"c","qty":3,"paid":true}`))
		c := h.consumer(t, ks, nil, Route{"bi_q", "boolint"})
		testutil.WaitFor(t, 30*time.Second, "1 row, 1 dead letter", func() bool {
			st := routeStats(c, "bi_q")
			return st.Rows == 1 && st.DeadLetters == 1
		})
		if n := h.count(t, "SELECT count(*) FROM boolint WHERE order_id = 'b2' AND paid AND qty = 3"); n != 1 {
			t.Errorf("b2 not stored as sent")
		}
		checkDeadLetters(t, ks, "bi_q", "boolint", map[string]string{`{"order_id":"b1","customer":"c","qty":true}`: "22P02"})
	})
}
