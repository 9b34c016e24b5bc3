// Command refworker is the reference worker for mullet's end-to-end
// benchmark: the Node.js worker of the hybrid-FaaS article, written in Go.
//
// The article's worker (its section "3. The Node.js Worker") is one loop:
//
//	client.brpop('order_queue', 0, (err, reply) => {
//	    dbPool.query('INSERT INTO orders SET ?', JSON.parse(reply[1]), ...)
//	    processQueue()  // next item only after the INSERT answered
//	})
//
// with a mysql pool of connectionLimit 10 and one Redis connection. This
// program does exactly that by default (-loops 1): BRPOP one item, parse
// it, one autocommitted INSERT ... SET per row, repeat. Because the loop
// waits for each INSERT, the pool's other nine connections sit idle;
// -loops 10 runs ten such loops (each with its own Redis connection, as
// BRPOP blocks one) to use the whole pool, which is the fairest
// hand-written worker to compare mullet's batching consumer with.
//
// Like the article's worker it loses an item whose INSERT fails (it logs
// and moves on); it counts those as failed.
//
// Usage:
//
//	refworker -addr 127.0.0.1:6379 -dsn 'user:pass@tcp(127.0.0.1:3306)/db' [-loops 1] [-count N]
//
// It prints "ready" once both connections work, and a summary on exit
// (after -count items, or on SIGINT/SIGTERM).
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

func main() {
	var (
		addr     = flag.String("addr", "127.0.0.1:6379", "Redis address")
		password = flag.String("password", "", "Redis password")
		queue    = flag.String("queue", "order_queue", "list to BRPOP from")
		dsn      = flag.String("dsn", "", "MySQL DSN (go-sql-driver syntax) or, with -driver postgres, a pgx connection string; required")
		driver   = flag.String("driver", "mysql", "mysql (the article's Node mysql pool) or postgres (the same worker on node-postgres's pattern: one autocommitted INSERT per item)")
		table    = flag.String("table", "orders", "table to insert into")
		loops    = flag.Int("loops", 1, "concurrent BRPOP+INSERT loops (the article's worker: 1)")
		pool     = flag.Int("pool", 10, "database connection pool size (the article's connectionLimit)")
		count    = flag.Int64("count", 0, "exit after this many items (0: run until a signal)")
	)
	flag.Parse()
	if *dsn == "" {
		log.Fatal("refworker: -dsn is required")
	}
	var db inserter
	switch *driver {
	case "mysql":
		db = openMySQL(*dsn, *pool)
	case "postgres":
		db = openPostgres(*dsn, *pool)
	default:
		log.Fatalf("refworker: -driver %q: want mysql or postgres", *driver)
	}
	defer db.Close()

	rdb := redis.NewClient(&redis.Options{
		Addr: *addr, Password: *password, PoolSize: *loops + 1,
		Protocol: 2, DisableIdentity: true,
	})
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		log.Fatalf("refworker: redis: %v", err)
	}
	if err := db.Ping(ctx); err != nil {
		log.Fatalf("refworker: %s: %v", *driver, err)
	}

	w := &worker{db: db, rdb: rdb, queue: *queue, table: *table, count: *count, stop: cancel}
	fmt.Println("ready")
	begin := time.Now()
	var wg sync.WaitGroup
	for range *loops {
		wg.Go(func() { w.loop(ctx) })
	}
	<-ctx.Done()
	rdb.Close() // wakes the loops blocked in BRPOP
	wg.Wait()
	secs := time.Since(begin).Seconds()
	fmt.Printf("refworker: %d rows inserted, %d failed, in %.2f s (%.0f rows/s)\n",
		w.inserted.Load(), w.failed.Load(), secs, float64(w.inserted.Load())/secs)
}

type worker struct {
	db    inserter
	rdb   *redis.Client
	queue string
	table string
	count int64
	stop  func()

	taken    atomic.Int64 // items popped
	inserted atomic.Int64
	failed   atomic.Int64
}

// loop is processQueue: BRPOP, INSERT, again.
func (w *worker) loop(ctx context.Context) {
	for ctx.Err() == nil {
		reply, err := w.rdb.BRPop(ctx, 0, w.queue).Result()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return
			}
			log.Printf("refworker: BRPOP: %v", err)
			continue
		}
		n := w.taken.Add(1)
		if err := w.store(ctx, []byte(reply[1])); err != nil {
			log.Printf("refworker: DB Error: %v", err)
			w.failed.Add(1)
		} else {
			w.inserted.Add(1)
		}
		if w.count > 0 && n >= w.count {
			w.stop()
			return
		}
	}
}

// store is `dbPool.query('INSERT INTO orders SET ?', orderData)`: every key
// of the JSON object is a column, in the object's order.
func (w *worker) store(ctx context.Context, item []byte) error {
	cols, vals, err := parseObject(item)
	if err != nil {
		return err
	}
	return w.db.Insert(ctx, w.table, cols, vals)
}

// An inserter runs one autocommitted INSERT of one row.
type inserter interface {
	Ping(ctx context.Context) error
	Insert(ctx context.Context, table string, cols []string, vals []any) error
	Close()
}

// mysqlDB is the article's pool: Node's mysql with connectionLimit.
type mysqlDB struct{ db *sql.DB }

func openMySQL(dsn string, pool int) *mysqlDB {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		log.Fatalf("refworker: -dsn: %v", err)
	}
	cfg.InterpolateParams = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		log.Fatalf("refworker: %v", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(pool)
	db.SetMaxIdleConns(pool)
	return &mysqlDB{db: db}
}

func (m *mysqlDB) Ping(ctx context.Context) error { return m.db.PingContext(ctx) }
func (m *mysqlDB) Close()                         { m.db.Close() }

// Insert is Node's `INSERT INTO t SET ?`.
func (m *mysqlDB) Insert(ctx context.Context, table string, cols []string, vals []any) error {
	var q strings.Builder
	q.WriteString("INSERT INTO " + quoteName(table) + " SET ")
	for i, c := range cols {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(quoteName(c))
		q.WriteString(" = ?")
	}
	_, err := m.db.ExecContext(ctx, q.String(), vals...)
	return err
}

// pgDB is the same worker on PostgreSQL: a pool of pool connections, one
// INSERT ... VALUES ($1, ...) per item. The simple protocol sends the
// values as literals PostgreSQL casts to the columns' types, as
// node-postgres's untyped text parameters do.
type pgDB struct{ pool *pgxpool.Pool }

func openPostgres(dsn string, pool int) *pgDB {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		log.Fatalf("refworker: -dsn: %v", err)
	}
	cfg.MaxConns = int32(pool)
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		log.Fatalf("refworker: %v", err)
	}
	return &pgDB{pool: p}
}

func (p *pgDB) Ping(ctx context.Context) error { return p.pool.Ping(ctx) }
func (p *pgDB) Close()                         { p.pool.Close() }

func (p *pgDB) Insert(ctx context.Context, table string, cols []string, vals []any) error {
	var q strings.Builder
	q.WriteString("INSERT INTO " + pgx.Identifier{table}.Sanitize() + " (")
	for i, c := range cols {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(pgx.Identifier{c}.Sanitize())
	}
	q.WriteString(") VALUES (")
	for i := range cols {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "$%d", i+1)
	}
	q.WriteString(")")
	_, err := p.pool.Exec(ctx, q.String(), vals...)
	return err
}

// parseObject is JSON.parse for an object, keeping key order. Numbers stay
// numbers (int64 or float64), nested values become their JSON text.
func parseObject(item []byte) ([]string, []any, error) {
	dec := json.NewDecoder(bytes.NewReader(item))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, fmt.Errorf("not a JSON object: %.60q", item)
	}
	var cols []string
	var vals []any
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, _ := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		switch x := v.(type) {
		case json.Number:
			if i, err := x.Int64(); err == nil {
				v = i
			} else if f, err := x.Float64(); err == nil {
				v = f
			}
		case map[string]any, []any:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		cols = append(cols, key)
		vals = append(vals, v)
	}
	return cols, vals, nil
}

// quoteName quotes a MySQL identifier, as Node's mysql escapeId does.
func quoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func init() {
	log.SetFlags(0)
	log.SetOutput(os.Stderr)
}
