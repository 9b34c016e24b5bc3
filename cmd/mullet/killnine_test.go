package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"mullet/internal/testutil"
)

// TestKillNine drains into MariaDB and PostgreSQL while producers push
// and the server is killed with SIGKILL at random moments, then restarted
// on the same dir. Every acknowledged LPUSH must end up as exactly one row;
// an LPUSH cut off by the kill (no reply) may be there once or not at
// all; nothing is ever written twice.
func TestKillNine(t *testing.T) {
	for _, db := range sinkDBs {
		for _, fsync := range []string{"always", "everysec"} {
			t.Run(db.name+"/appendfsync="+fsync, func(t *testing.T) { killNine(t, db.start(t), fsync) })
		}
	}
}

// A sinkDB is a throwaway database server the kill -9 tests drain into,
// holding the article's orders table.
type sinkDB struct {
	dsn    []string // the DSN directive and its value
	stop   func() error
	start  func() error
	counts func(t *testing.T) map[string]int // rows of orders per order_id
}

// sinkDBs are the SQL sinks the kill -9 tests run against.
var sinkDBs = []struct {
	name  string
	start func(t *testing.T) *sinkDB
}{
	{"mysql", func(t *testing.T) *sinkDB {
		m := testutil.StartMariaDB(t)
		createOrders(t, m)
		return &sinkDB{
			dsn:    []string{"--consumer-mysql-dsn", m.DSN(testutil.MariaDBDatabase)},
			stop:   m.Stop,
			start:  m.Start,
			counts: func(t *testing.T) map[string]int { return orderCounts(t, m) },
		}
	}},
	{"postgres", func(t *testing.T) *sinkDB {
		p := testutil.StartPostgres(t)
		if err := p.Exec(`CREATE TABLE orders (
			id bigserial PRIMARY KEY,
			order_id varchar(32) NOT NULL,
			total numeric(10,2) NOT NULL
		)`); err != nil {
			t.Fatal(err)
		}
		return &sinkDB{
			dsn:   []string{"--consumer-postgres-dsn", p.DSN(testutil.PostgresDatabase)},
			stop:  p.Stop, // pg_ctl stop -m fast
			start: p.Start,
			counts: func(t *testing.T) map[string]int {
				ids, err := p.QueryStrings("SELECT order_id FROM orders")
				if err != nil {
					t.Fatal(err)
				}
				seen := map[string]int{}
				for _, id := range ids {
					seen[id]++
				}
				return seen
			},
		}
	}},
}

// createOrders creates the article's orders table, which both kill -9
// tests drain into.
func createOrders(t *testing.T, m *testutil.MariaDB) {
	t.Helper()
	if err := m.Exec(`CREATE TABLE orders (
		id BIGINT AUTO_INCREMENT PRIMARY KEY,
		order_id VARCHAR(32) NOT NULL,
		total DECIMAL(10,2) NOT NULL
	) ENGINE=InnoDB`); err != nil {
		t.Fatal(err)
	}
}

func killNine(t *testing.T, db *sinkDB, fsync string) {
	dir := t.TempDir()
	port := freePort(t)
	args := append([]string{"--dir", dir, "--appendonly", "yes", "--appendfsync", fsync,
		"--consumer-route", "order_queue", "orders",
		"--consumer-batch-size", "50", "--consumer-pool-size", "4"}, db.dsn...)
	p := startMullet(t, port, args...)

	// Producers: each pushes its own orders one LPUSH at a time and keeps
	// what was acknowledged and what was cut off.
	const producers, perProducer = 4, 3000
	var mu sync.Mutex
	acked := map[string]bool{}
	uncertain := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := range producers {
		wg.Go(func() {
			var r *resp
			for i := 0; i < perProducer; {
				if ctx.Err() != nil {
					return
				}
				if r == nil {
					var err error
					if r, err = dialResp(p.addrOf(port)); err != nil {
						time.Sleep(5 * time.Millisecond) // the server is restarting
						continue
					}
				}
				id := fmt.Sprintf("w%d-%05d", w, i)
				_, err := r.do("LPUSH", "order_queue", fmt.Sprintf(`{"order_id":%q,"total":%d.5}`, id, i))
				mu.Lock()
				if err != nil {
					uncertain[id] = true
				} else {
					acked[id] = true
				}
				mu.Unlock()
				if err != nil {
					r.close()
					r = nil
				}
				i++ // a cut-off item is not retried: it may already be queued
			}
			if r != nil {
				r.close()
			}
		})
	}

	// Kill at random moments while producing and consuming.
	for round := range 6 {
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		p.kill9()
		t.Logf("round %d: killed", round)
		p = restart(t, port, args)
	}
	wg.Wait()
	drain(t, p)
	p.stop()
	// One more start settles anything the last stop abandoned.
	p = startMullet(t, port, args...)
	drain(t, p)
	p.stop()

	seen := db.counts(t)
	var dup, lost, stray []string
	for id, n := range seen {
		if n > 1 {
			dup = append(dup, id)
		}
		if !acked[id] && !uncertain[id] {
			stray = append(stray, id)
		}
	}
	for id := range acked {
		if seen[id] == 0 {
			lost = append(lost, id)
		}
	}
	t.Logf("%d acknowledged, %d cut off, %d rows", len(acked), len(uncertain), len(seen))
	if len(dup) > 0 || len(lost) > 0 || len(stray) > 0 {
		t.Fatalf("%d duplicated (%.5q), %d acknowledged but lost (%.5q), %d never pushed (%.5q)",
			len(dup), dup, len(lost), lost, len(stray), stray)
	}
}

func (p *proc) addrOf(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// restart starts the server again on the same port, retrying while the
// killed process's port lingers.
func restart(t *testing.T, port int, args []string) *proc {
	t.Helper()
	return startMullet(t, port, args...)
}

// drain waits until the queue is empty and no batch is in flight.
func drain(t *testing.T, p *proc) {
	t.Helper()
	r, err := dialResp(p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := r.do("LLEN", "order_queue")
		if err != nil {
			t.Fatal(err)
		}
		info, err := r.do("INFO", "consumer")
		if err != nil {
			t.Fatal(err)
		}
		if n == "0" && strings.Contains(info, "inflight_batches=0,") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drained after 60s: LLEN %s\n%s", n, info)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestKillNineRestartPoison is the consumer issue's scenario, for MariaDB
// and PostgreSQL: a queue of orders with 15 poison items among them,
// drained while mullet is killed with SIGKILL (twice) and the database is
// restarted (PostgreSQL: pg_ctl restart -m fast), all mid-drain. Every
// valid order must end as exactly one row, and every poison item in
// order_queue:dead, once.
func TestKillNineRestartPoison(t *testing.T) {
	for _, db := range sinkDBs {
		t.Run(db.name, func(t *testing.T) { killNineRestartPoison(t, db.start(t)) })
	}
}

func killNineRestartPoison(t *testing.T, db *sinkDB) {
	dir := t.TempDir()
	port := freePort(t)
	args := append([]string{"--dir", dir, "--appendonly", "yes", "--appendfsync", "everysec",
		"--consumer-route", "order_queue", "orders",
		"--consumer-batch-size", "200", "--consumer-pool-size", "4",
		"--consumer-retry-min", "20", "--consumer-retry-max", "200"}, db.dsn...)
	p := startMullet(t, port, args...)
	r, err := dialResp(p.addr)
	if err != nil {
		t.Fatal(err)
	}
	// Fill the queue with the consumer paused, so the kills and the
	// restart surely land mid-drain.
	if _, err := r.do("CONFIG", "SET", "consumer-enabled", "no"); err != nil {
		t.Fatal(err)
	}
	poison := []string{
		`not json`, `[1,2,3]`, `"a string"`, `{}`, `{"order_id":"p5","nope":1,"total":1}`,
		`{"order_id":"p6-` + strings.Repeat("x", 40) + `","total":1}`, `{"order_id":null,"total":1}`,
		`{"order_id":"p8","total":"abc"}`, `{"order_id":"p9"}`, `{"order_id":"p10","total":1e30}`,
		`{"order_id":"p11","total":1,"bad col":2}`, `{"order_id":"p12",`, `12345`, `null`,
		`{"order_id":"p15","total":1,"id":"not a number"}`,
	}
	const valid = 20000
	var want []string
	pi := 0
	for i := 0; i < valid; i++ {
		if i%(valid/len(poison)) == 7 && pi < len(poison) {
			if _, err := r.do("LPUSH", "order_queue", poison[pi]); err != nil {
				t.Fatal(err)
			}
			pi++
		}
		id := fmt.Sprintf("o%05d", i)
		if _, err := r.do("LPUSH", "order_queue", fmt.Sprintf(`{"order_id":%q,"total":%d.25}`, id, i)); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	if pi != len(poison) {
		t.Fatalf("pushed %d poison items", pi)
	}
	if _, err := r.do("CONFIG", "SET", "consumer-enabled", "yes"); err != nil {
		t.Fatal(err)
	}
	r.close()

	// backlog reads LLEN: each fault must land while items remain.
	backlog := func(p *proc) int {
		r, err := dialResp(p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer r.close()
		n, err := r.do("LLEN", "order_queue")
		if err != nil {
			t.Fatal(err)
		}
		var v int
		fmt.Sscan(n, &v)
		return v
	}
	time.Sleep(40 * time.Millisecond) // let the drain start
	if n := backlog(p); n == 0 || n == valid+len(poison) {
		t.Fatalf("backlog %d before the first kill: not mid-drain", n)
	}
	p.kill9()
	t.Log("killed mullet")
	p = restart(t, port, args)
	time.Sleep(40 * time.Millisecond)
	if n := backlog(p); n == 0 {
		t.Fatal("drained before the database could be restarted mid-drain")
	}
	if err := db.stop(); err != nil {
		t.Fatal(err)
	}
	t.Log("stopped the database")
	time.Sleep(200 * time.Millisecond) // the consumer retries meanwhile
	if err := db.start(); err != nil {
		t.Fatal(err)
	}
	t.Log("started the database")
	time.Sleep(60 * time.Millisecond)
	if n := backlog(p); n == 0 {
		t.Fatal("drained before the second kill")
	}
	p.kill9()
	t.Log("killed mullet")
	p = restart(t, port, args)
	drain(t, p)

	// The dead letters: exactly the poison items, once each.
	r, err = dialResp(p.addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.do("LLEN", "order_queue:dead")
	if err != nil {
		t.Fatal(err)
	}
	dead := map[string]int{}
	var total int
	fmt.Sscan(n, &total)
	for i := 0; i < total; i++ {
		item, err := r.do("LINDEX", "order_queue:dead", fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		dead[item]++
	}
	r.close()
	p.stop()
	for _, item := range poison {
		if dead[item] != 1 {
			t.Errorf("poison item %.40q is %d times in order_queue:dead", item, dead[item])
		}
	}
	if total != len(poison) {
		t.Errorf("order_queue:dead holds %d items, want the %d poison ones", total, len(poison))
	}

	seen := db.counts(t)
	var bad []string
	for _, id := range want {
		if seen[id] != 1 {
			bad = append(bad, fmt.Sprintf("%s×%d", id, seen[id]))
		}
		delete(seen, id)
	}
	for id := range seen {
		bad = append(bad, "unexpected "+id)
	}
	t.Logf("%d valid orders, %d poison items in order_queue:dead", len(want), total)
	if len(bad) > 0 {
		t.Fatalf("%d orders not exactly once: %.10q", len(bad), bad)
	}
}

// orderCounts returns how many rows of orders each order_id has.
func orderCounts(t *testing.T, m *testutil.MariaDB) map[string]int {
	t.Helper()
	db, err := sql.Open("mysql", m.DSN(testutil.MariaDBDatabase))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT order_id, COUNT(*) FROM orders GROUP BY order_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		seen[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return seen
}
