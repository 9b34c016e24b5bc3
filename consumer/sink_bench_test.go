package consumer

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"mullet/internal/testutil"
)

// benchOrder is a typical queue item: ~150 bytes, 6 columns.
func benchOrder(i int) []byte {
	return fmt.Appendf(nil, `{"order_id":"ord-%09d","customer":"customer-%06d@example.com","sku":"SKU-%05d","qty":%d,"price":%d.%02d,"created_at":"2026-11-25 19:33:%02d.123"}`,
		i, i%100000, i%50000, 1+i%9, 5+i%200, i%100, i%60)
}

const benchDDL = `CREATE TABLE IF NOT EXISTS bench_orders (
	id BIGINT AUTO_INCREMENT PRIMARY KEY,
	order_id VARCHAR(32) NOT NULL,
	customer VARCHAR(64) NOT NULL,
	sku VARCHAR(16) NOT NULL,
	qty INT NOT NULL,
	price DECIMAL(10,2) NOT NULL,
	created_at DATETIME(3) NOT NULL
) ENGINE=InnoDB`

// BenchmarkMySQLSink measures rows/s through Write against the harness
// MariaDB, by batch size and number of parallel writers (= pool size).
// One op is one batch.
func BenchmarkMySQLSink(b *testing.B) {
	m := testutil.StartMariaDB(b)
	if err := m.Exec(benchDDL); err != nil {
		b.Fatal(err)
	}
	var run atomic.Int64
	for _, batch := range []int{100, 500, 1000} {
		for _, writers := range []int{1, 2, 4, 10} {
			for _, mode := range []string{"literals", "placeholders"} {
				if mode == "placeholders" && batch != 500 {
					continue // measured once, for the comparison
				}
				b.Run(fmt.Sprintf("batch=%d/writers=%d/%s", batch, writers, mode), func(b *testing.B) {
					if err := m.Exec("TRUNCATE TABLE bench_orders"); err != nil {
						b.Fatal(err)
					}
					s := newMySQL(b, m, writers, nil)
					s.placeholders = mode == "placeholders"
					benchWriters(b, s, batch, writers, run.Add(1))
				})
			}
		}
	}
}

// pgBenchDDL is benchDDL in PostgreSQL's types.
const pgBenchDDL = `CREATE TABLE IF NOT EXISTS bench_orders (
	id bigserial PRIMARY KEY,
	order_id varchar(32) NOT NULL,
	customer varchar(64) NOT NULL,
	sku varchar(16) NOT NULL,
	qty integer NOT NULL,
	price numeric(10,2) NOT NULL,
	created_at timestamptz NOT NULL
)`

// BenchmarkPostgresSink measures rows/s through Write against a local
// PostgreSQL 15 (synchronous_commit on), by batch size and parallel
// writers, with the rows sent as COPY FROM STDIN (the sink's way) or as one
// multi-row INSERT of string literals per batch (the comparison). One op
// is one batch.
//
//	go test -run '^$' -bench PostgresSink ./consumer/
func BenchmarkPostgresSink(b *testing.B) {
	p := testutil.StartPostgres(b)
	if err := p.Exec(pgBenchDDL); err != nil {
		b.Fatal(err)
	}
	var run atomic.Int64
	for _, batch := range []int{100, 500, 1000} {
		for _, writers := range []int{1, 4, 10} {
			for _, mode := range []string{"copy", "insert"} {
				b.Run(fmt.Sprintf("batch=%d/writers=%d/%s", batch, writers, mode), func(b *testing.B) {
					if err := p.Exec("TRUNCATE TABLE bench_orders"); err != nil {
						b.Fatal(err)
					}
					s := newPostgres(b, p, writers)
					s.insert = mode == "insert"
					benchWriters(b, s, batch, writers, run.Add(1))
				})
			}
		}
	}
}

// BenchmarkBoltSink measures rows/s through Write into a bbolt file, one
// fsync per batch.
func BenchmarkBoltSink(b *testing.B) {
	var run atomic.Int64
	for _, batch := range []int{100, 500, 1000} {
		for _, writers := range []int{1, 4} {
			b.Run(fmt.Sprintf("batch=%d/writers=%d", batch, writers), func(b *testing.B) {
				s, err := NewBolt(filepath.Join(b.TempDir(), BoltFile), nil)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				benchWriters(b, s, batch, writers, run.Add(1))
			})
		}
	}
}

// benchWriters writes b.N batches of size rows from writers goroutines.
func benchWriters(b *testing.B, s Sink, size, writers int, run int64) {
	// Items are built before the clock starts: the queue hands them over
	// ready-made.
	pool := make([][][]byte, 16)
	for i := range pool {
		pool[i] = make([][]byte, size)
		for j := range size {
			pool[i][j] = benchOrder(i*size + j)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	b.ResetTimer()
	for range writers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				batch := Batch{ID: fmt.Sprintf("r%d-%d", run, i), Table: "bench_orders", Items: pool[i%int64(len(pool))]}
				if err := s.Write(context.Background(), batch); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkParseRow measures the JSON to row conversion alone.
func BenchmarkParseRow(b *testing.B) {
	item := benchOrder(12345)
	b.SetBytes(int64(len(item)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRow(item); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild measures rendering a 500-row batch into SQL.
func BenchmarkBuild(b *testing.B) {
	for _, mode := range []string{"literals", "placeholders"} {
		b.Run(mode, func(b *testing.B) {
			its := make([][]byte, 500)
			for i := range its {
				its[i] = benchOrder(i)
			}
			s := &MySQL{softBytes: defaultStatementBytes, hardBytes: 16 << 20, placeholders: mode == "placeholders"}
			b.ReportAllocs()
			for b.Loop() {
				rows, err := parseItems(its)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.build("bench_orders", rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(its))/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
