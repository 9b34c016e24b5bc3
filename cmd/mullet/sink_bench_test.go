package main

import (
	"io"
	"testing"
	"time"

	"mullet/bench/load"
	"mullet/internal/testutil"
)

// BenchmarkBenchSinkMariaDB is 'mullet bench --sink' against the real
// binary draining into a fresh MariaDB (README's orders table, defaults:
// pool 10, batches of 500): b.N orders pushed by 4 producers (pipeline
// 16), reported as the rows/s the consumer committed.
//
//	go test -run '^$' -bench BenchSinkMariaDB -benchtime 200000x ./cmd/mullet
func BenchmarkBenchSinkMariaDB(b *testing.B) {
	m := testutil.StartMariaDB(b)
	if err := m.Exec("CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2))"); err != nil {
		b.Fatal(err)
	}
	p := startMullet(b, 0, "--appendonly", "yes", "--dir", b.TempDir(), "--consumer-route", "order_queue", "orders",
		"--consumer-mysql-dsn", m.DSN(testutil.MariaDBDatabase))
	cfg := load.Config{
		Addr: p.addr, Producers: 4, Pipeline: 16, Queue: "order_queue", Count: int64(b.N),
		Drain: 10 * time.Minute, Every: time.Second, Out: io.Discard, Progress: io.Discard,
		Sink: true, Item: load.DefaultItem, Start: 1,
	}
	b.ResetTimer()
	res, err := load.Run(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	rows, secs := res.Committed()
	if rows != int64(b.N) {
		b.Fatalf("committed %d of %d", rows, b.N)
	}
	b.ReportMetric(float64(rows)/secs, "rows/s")
}
