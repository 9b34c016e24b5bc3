package consumer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mullet/internal/testutil"
	"mullet/queue"
)

// mysqlSink returns an OpenSink for m's test database with pool
// connections.
func mysqlSink(m *testutil.MariaDB, pool int) func(context.Context) (Sink, error) {
	return func(ctx context.Context) (Sink, error) {
		return NewMySQL(ctx, m.DSN(testutil.MariaDBDatabase), pool, nil)
	}
}

// mysqlConsumer starts a consumer of routes on ks writing to m.
func mysqlConsumer(t *testing.T, ks *queue.Keyspace, m *testutil.MariaDB, edit func(*Config), routes ...Route) *Consumer {
	t.Helper()
	pool := DefaultConfig().PoolSize
	probe := DefaultConfig()
	if edit != nil {
		edit(&probe)
		pool = probe.PoolSize
	}
	return startConsumer(t, ks, mysqlSink(m, pool), edit, routes...)
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
func orderIDs(t *testing.T, m *testutil.MariaDB, table string) []string {
	t.Helper()
	db, err := sql.Open("mysql", m.DSN(testutil.MariaDBDatabase))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT order_id FROM " + table + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkExactlyOnce fails unless table holds the orders prefix-00000 to
// prefix-(n-1) once each.
func checkExactlyOnce(t *testing.T, m *testutil.MariaDB, table, prefix string, n int) {
	t.Helper()
	got := orderIDs(t, m, table)
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

func newTable(t *testing.T, m *testutil.MariaDB, name string) {
	t.Helper()
	mustExec(t, m, "DROP TABLE IF EXISTS "+name)
	mustExec(t, m, fmt.Sprintf(ordersDDL, name))
}

// TestConsumerMySQL runs the consumer against one real MariaDB; each
// subtest has its own tables, queues and keyspace.
func TestConsumerMySQL(t *testing.T) {
	// A short lock wait makes the lock-wait subtest quick.
	m := testutil.StartMariaDB(t, testutil.WithServerArgs("--innodb-lock-wait-timeout=1"))

	t.Run("drain 10k exactly", func(t *testing.T) {
		newTable(t, m, "drain")
		ks := queue.New(queue.Config{})
		its := orderItems("d", 10000)
		lpush(t, ks, "dq", its...)
		c := mysqlConsumer(t, ks, m, nil, Route{"dq", "drain"})
		testutil.WaitFor(t, 60*time.Second, "10000 rows", func() bool { return routeStats(c, "dq").Rows == 10000 })
		checkExactlyOnce(t, m, "drain", "d", 10000)
		// Content, not just count: every column as sent.
		var sum, qty int64
		var notes int64
		if err := m.Exec("SELECT 1"); err != nil {
			t.Fatal(err)
		}
		sum = count(t, m, "SELECT CAST(SUM(price*4) AS SIGNED) FROM drain")
		qty = count(t, m, "SELECT SUM(qty) FROM drain")
		notes = count(t, m, "SELECT COUNT(*) FROM drain WHERE note = CONCAT('line\n', SUBSTRING(order_id, 3) + 0) AND customer = CONCAT('c', SUBSTRING(order_id, 3) + 0)")
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
			return count(t, m, "SELECT COUNT(*) FROM mullet_ledger WHERE table_name = 'drain'") == 0
		})
	})

	t.Run("pool limit", func(t *testing.T) {
		newTable(t, m, "pooled")
		const pool = 3
		before, err := m.ConnectionsFrom(testutil.MariaDBUser)
		if err != nil || before != 0 {
			t.Fatalf("connections from %s before the test: %d, %v", testutil.MariaDBUser, before, err)
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
				if n, err := m.ConnectionsFrom(testutil.MariaDBUser); err == nil && int64(n) > peak.Load() {
					peak.Store(int64(n))
				}
			}
		}()
		c := mysqlConsumer(t, ks, m, func(cfg *Config) { cfg.PoolSize = pool; cfg.BatchSize = 50 }, Route{"pq", "pooled"})
		testutil.WaitFor(t, 60*time.Second, "20000 rows", func() bool { return routeStats(c, "pq").Rows == 20000 })
		close(stop)
		<-sampled
		checkExactlyOnce(t, m, "pooled", "p", 20000)
		st := routeStats(c, "pq")
		t.Logf("peak connections from %s: %d; peak parallel batches: %d; pool %+v", testutil.MariaDBUser, peak.Load(), st.PeakWriters, c.Pool())
		if peak.Load() > pool || peak.Load() == 0 {
			t.Errorf("MariaDB saw %d connections from mullet; consumer-pool-size is %d", peak.Load(), pool)
		}
		if st.PeakWriters < 2 || st.PeakWriters > pool {
			t.Errorf("peak parallel batches %d; want 2..%d", st.PeakWriters, pool)
		}
		if ps := c.Pool(); ps.Open > pool || ps.Size != pool {
			t.Errorf("pool stats %+v", ps)
		}
	})

	t.Run("poison", func(t *testing.T) {
		newTable(t, m, "poison")
		mustExec(t, m, "INSERT INTO poison (order_id, customer) VALUES ('taken', 'pre')")
		poison := map[string]string{
			`not json at all`: "JSON",
			`[1,2,3]`:         "object",
			`"a string"`:      "object",
			`{}`:              "",
			`{"order_id":"x1","customer":"c","bogus":1}`:                               "Unknown column",
			`{"order_id":"x2","customer":"c","sku":"` + strings.Repeat("s", 40) + `"}`: "too long",
			`{"order_id":"x3","customer":null}`:                                        "cannot be null",
			`{"order_id":"taken","customer":"dup"}`:                                    "Duplicate",
			`{"order_id":"x4","customer":"c","meta":"{not json"}`:                      "CONSTRAINT",
			`{"order_id":"x5","customer":"c","qty":99999999999}`:                       "Out of range",
			`{"":1}`: "",
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
			if i%25 == 7 && len(bad) > 0 {
				its = append(its, []byte(bad[0]))
				bad = bad[1:]
			}
		}
		if len(bad) > 0 {
			t.Fatal("test setup: not every poison item was queued")
		}
		ks := queue.New(queue.Config{})
		lpush(t, ks, "xq", its...)
		c := mysqlConsumer(t, ks, m, func(cfg *Config) { cfg.BatchSize = 40 }, Route{"xq", "poison"})
		testutil.WaitFor(t, 60*time.Second, "the queue to drain", func() bool {
			st := routeStats(c, "xq")
			return st.Rows == 300 && st.DeadLetters == int64(len(poison))
		})
		got := orderIDs(t, m, "poison")
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
		newTable(t, m, "replayed")
		log := testutil.NewLog()
		ks := queue.New(queue.Config{Log: log})
		its := orderItems("r", 400)
		// A JSON error names its item (cut out); an unknown column fails a
		// multi-row INSERT without saying which row (halving).
		its = slices.Insert(its, 333, []byte(`{"order_id":"r-bad1","customer":"c","nope":1}`))
		its = slices.Insert(its, 100, []byte(`{oops`))
		lpush(t, ks, "rq", its...)
		c := mysqlConsumer(t, ks, m, func(cfg *Config) { cfg.BatchSize = 64 }, Route{"rq", "replayed"})
		testutil.WaitFor(t, 30*time.Second, "the drain", func() bool {
			st := routeStats(c, "rq")
			return st.Rows == 400 && st.DeadLetters == 2
		})
		checkExactlyOnce(t, m, "replayed", "r", 400)
		checkReplay(t, ks, log)
	})

	t.Run("strict order", func(t *testing.T) {
		newTable(t, m, "strict")
		ks := queue.New(queue.Config{})
		its := orderItems("s", 3000)
		// Poison in the middle must not reorder the good rows around it.
		its = slices.Insert(its, 1234, []byte(`{"order_id":"s-bad","customer":"c","nope":1}`))
		lpush(t, ks, "sq", its...)
		c := mysqlConsumer(t, ks, m, func(cfg *Config) { cfg.StrictOrder = true; cfg.BatchSize = 100; cfg.PoolSize = 4 }, Route{"sq", "strict"})
		testutil.WaitFor(t, 60*time.Second, "3000 rows", func() bool { return routeStats(c, "sq").Rows == 3000 })
		got := orderIDs(t, m, "strict")
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
		newTable(t, m, "settled")
		ks := queue.New(queue.Config{})
		prev := &Consumer{boot: bootID(time.Now().Add(-time.Hour))}
		committed, pending := prev.nextID(), prev.nextID()
		// The previous run claimed two batches; the first committed (its
		// rows and ledger record are in MariaDB), then it died.
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
		s := newMySQL(t, m, 1, nil)
		if err := s.Write(t.Context(), Batch{ID: committed, Table: "settled", Items: bytesOf(listOf(t, ks, "tq:inflight:"+committed))}); err != nil {
			t.Fatal(err)
		}
		s.Close()

		c := mysqlConsumer(t, ks, m, func(cfg *Config) { cfg.StrictOrder = true }, Route{"tq", "settled"})
		testutil.WaitFor(t, 30*time.Second, "settlement and drain", func() bool { return routeStats(c, "tq").Rows == 7 })
		got := orderIDs(t, m, "settled")
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
		mustExec(t, m, "DROP TABLE IF EXISTS later")
		ks := queue.New(queue.Config{})
		lpush(t, ks, "lq", orderItems("l", 50)...)
		c := mysqlConsumer(t, ks, m, nil, Route{"lq", "later"})
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
		newTable(t, m, "later")
		testutil.WaitFor(t, 30*time.Second, "the route to resume", func() bool { return routeStats(c, "lq").Rows == 50 })
		checkExactlyOnce(t, m, "later", "l", 50)
		if st := routeStats(c, "lq"); st.State != "running" {
			t.Errorf("state %s after recovery", st.State)
		}
	})

	t.Run("lock wait timeout retries", func(t *testing.T) {
		newTable(t, m, "locked")
		release := holdOrderLock(t, m, "locked", "k-00003")
		defer release()
		ks := queue.New(queue.Config{})
		lpush(t, ks, "kq", orderItems("k", 10)...)
		c := mysqlConsumer(t, ks, m, nil, Route{"kq", "locked"})
		testutil.WaitFor(t, 30*time.Second, "a retry after lock wait timeout", func() bool { return routeStats(c, "kq").Retries >= 1 })
		if st := routeStats(c, "kq"); st.Rows != 0 || st.DeadLetters != 0 {
			t.Errorf("while locked: %+v", st)
		}
		release()
		testutil.WaitFor(t, 30*time.Second, "10 rows", func() bool { return routeStats(c, "kq").Rows == 10 })
		checkExactlyOnce(t, m, "locked", "k", 10)
	})

	t.Run("claims work at maxmemory", func(t *testing.T) {
		newTable(t, m, "capped")
		ks := queue.New(queue.Config{MaxMemory: 1024})
		lpush(t, ks, "mq", orderItems("m", 500)...)
		if !ks.OverLimit() {
			t.Fatal("test setup: the keyspace should be past maxmemory")
		}
		c := mysqlConsumer(t, ks, m, nil, Route{"mq", "capped"})
		testutil.WaitFor(t, 30*time.Second, "500 rows", func() bool { return routeStats(c, "mq").Rows == 500 })
		checkExactlyOnce(t, m, "capped", "m", 500)
	})

	t.Run("pause and resume", func(t *testing.T) {
		newTable(t, m, "paused")
		ks := queue.New(queue.Config{})
		lpush(t, ks, "zq", orderItems("z", 100)...)
		c := mysqlConsumer(t, ks, m, func(cfg *Config) { cfg.Disabled = true }, Route{"zq", "paused"})
		testutil.WaitFor(t, 10*time.Second, "the backlog to be seen", func() bool { return routeStats(c, "zq").Backlog == 100 })
		if st := routeStats(c, "zq"); st.State != "stopped" || st.Rows != 0 {
			t.Errorf("paused: %+v", st)
		}
		c.SetEnabled(true)
		testutil.WaitFor(t, 30*time.Second, "100 rows", func() bool { return routeStats(c, "zq").Rows == 100 })
		checkExactlyOnce(t, m, "paused", "z", 100)
	})

	t.Run("info", func(t *testing.T) {
		newTable(t, m, "informed")
		ks := queue.New(queue.Config{})
		lpush(t, ks, "iq", orderItems("i", 1000)...)
		lpush(t, ks, "iq", []byte(`{"order_id":"i-bad","customer":"c","nope":1}`))
		c := mysqlConsumer(t, ks, m, func(cfg *Config) { cfg.PoolSize = 4; cfg.BatchSize = 100 }, Route{"iq", "informed"}, Route{"idle", "informed"})
		testutil.WaitFor(t, 30*time.Second, "1000 rows", func() bool { return routeStats(c, "iq").Rows == 1000 })
		testutil.WaitFor(t, 10*time.Second, "the backlog to be seen", func() bool { return routeStats(c, "iq").Backlog == 0 })
		info := map[string]string{}
		var order []string
		c.Info(func(k, v string) { info[k] = v; order = append(order, k) })
		t.Logf("INFO consumer:\n%s", strings.Join(order, "\n"))
		for k, want := range map[string]string{
			"consumer_enabled":      "1",
			"consumer_sink":         "mysql",
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
		newTable(t, m, "abandoned")
		release := holdOrderLock(t, m, "abandoned", "a-00001")
		defer release()
		ks := queue.New(queue.Config{})
		lpush(t, ks, "aq", orderItems("a", 5)...)
		cfg := DefaultConfig()
		cfg.Routes = []Route{{"aq", "abandoned"}}
		cfg.OpenSink = mysqlSink(m, 2)
		cfg.Logger = testLog(t)
		c, err := New(ks, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Start()
		testutil.WaitFor(t, 20*time.Second, "the insert to wait for the lock", func() bool {
			n, err := m.QueryInt("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO `abandoned`%'")
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
		c2 := mysqlConsumer(t, ks, m, nil, Route{"aq", "abandoned"})
		testutil.WaitFor(t, 30*time.Second, "the abandoned batch", func() bool { return routeStats(c2, "aq").Rows == 5 })
		checkExactlyOnce(t, m, "abandoned", "a", 5)
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
	m := testutil.StartMariaDB(t)
	newTable(t, m, "outage")
	ks := queue.New(queue.Config{})
	const n = 30000
	lpush(t, ks, "oq", orderItems("o", n)...)
	c := mysqlConsumer(t, ks, m, func(cfg *Config) { cfg.BatchSize = 100; cfg.PoolSize = 4 }, Route{"oq", "outage"})
	total := func(st RouteStats) int64 { return st.Rows + st.Backlog + st.InflightItems }

	for round, down := range []func(){func() {
		if err := m.Stop(); err != nil {
			t.Fatal(err)
		}
	}, m.Kill} {
		from := routeStats(c, "oq").Rows
		testutil.WaitFor(t, 60*time.Second, "some progress", func() bool { return routeStats(c, "oq").Rows > from+1000 })
		down()
		testutil.WaitFor(t, 30*time.Second, "backoff", func() bool { return routeStats(c, "oq").State == "backoff" })
		st := routeStats(c, "oq")
		rows := st.Rows
		testutil.WaitFor(t, 10*time.Second, "an up-to-date backlog", func() bool { st = routeStats(c, "oq"); return total(st) == n })
		if st.Retries == 0 || st.DeadLetters != 0 || st.Rows != rows {
			t.Errorf("round %d while down: %+v", round, st)
		}
		t.Logf("round %d: down after %d rows; %+v", round, rows, st)
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, 120*time.Second, "the drain to finish", func() bool { return routeStats(c, "oq").Rows >= n })
	if st := routeStats(c, "oq"); st.Rows != n || st.State != "running" {
		t.Errorf("after the outages: %+v", st)
	}
	checkExactlyOnce(t, m, "outage", "o", n)
}
