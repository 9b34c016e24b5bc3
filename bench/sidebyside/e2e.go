package main

import (
	"mullet/internal/resp"

	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql"
	"github.com/jackc/pgx/v5/pgxpool"

	"mullet/internal/testutil"
)

// e2eConfig shapes the end-to-end figure.
type e2eConfig struct {
	Rows  int           // orders pushed
	Cap   time.Duration // a run stops here; its rate is then rows so far / time
	Stall time.Duration // a run with no new row for this long stops (no consumer)
}

// e2eResult is one end-to-end run.
type e2eResult struct {
	RowsPerSec float64
	Rows       int64 // committed when the run ended
	Note       string
}

// ordersDDL is the table both workers fill. id is not in the JSON: MySQL
// numbers the rows, and MAX(id) is a cheap progress probe.
const ordersDDL = "CREATE TABLE orders (" +
	"id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, " +
	"order_id BIGINT NOT NULL, customer VARCHAR(64) NOT NULL, sku VARCHAR(32) NOT NULL, " +
	"qty INT NOT NULL, amount DECIMAL(10,2) NOT NULL, currency CHAR(3) NOT NULL, " +
	"created_at DATETIME NOT NULL) ENGINE=InnoDB"

// order returns the i-th JSON order, about 150 bytes, as a FaaS function
// would LPUSH it.
func order(i int) []byte {
	return fmt.Appendf(nil, `{"order_id":%d,"customer":"customer-%05d","sku":"SKU-%04d","qty":%d,"amount":%d.%02d,"currency":"NOK","created_at":"2026-11-25 12:%02d:%02d"}`,
		i, i%50000, i%2000, 1+i%5, 10+i%990, i%100, (i/60)%60, i%60)
}

// pgOrdersDDL is ordersDDL in PostgreSQL's types, for table %s.
const pgOrdersDDL = "CREATE TABLE %s (" +
	"id bigserial PRIMARY KEY, " +
	"order_id bigint NOT NULL, customer varchar(64) NOT NULL, sku varchar(32) NOT NULL, " +
	"qty integer NOT NULL, amount numeric(10,2) NOT NULL, currency char(3) NOT NULL, " +
	"created_at timestamp NOT NULL)"

// An e2eDB is a database server both workers drain into.
type e2eDB interface {
	// name is the server as the report names it: MariaDB or PostgreSQL.
	name() string
	// freshDB creates a new, empty orders table no earlier run has seen
	// (nor its ledger) and returns a DSN that reaches it.
	freshDB() (string, error)
	// driver is refworker's -driver, dsnFlag mullet's DSN directive.
	driver() string
	dsnFlag() string
	// open connects to dsn for pushAndWait's progress probes.
	open(dsn string) (prober, error)
	stop()
}

// A prober reads the progress of a run: MAX(id) and COUNT(*) of orders.
type prober interface {
	query(q string) (int64, error)
	close()
}

// mariadb is the one MariaDB of a run, with a fresh database per e2e run so
// no ledger or row of one run is seen by the next.
type mariadb struct {
	m    *testutil.MariaDB
	runs int
}

func startMariaDB(workDir string) (*mariadb, error) {
	m, err := testutil.Start(filepath.Join(workDir, "mariadb"), 0, nil)
	if err != nil {
		return nil, err
	}
	return &mariadb{m: m}, nil
}

func (db *mariadb) name() string    { return "MariaDB" }
func (db *mariadb) driver() string  { return "mysql" }
func (db *mariadb) dsnFlag() string { return "--consumer-mysql-dsn" }

func (db *mariadb) stop() {
	if db != nil {
		db.m.Stop()
	}
}

// freshDB creates database bench_N with an empty orders table and returns
// a DSN for it.
func (db *mariadb) freshDB() (string, error) {
	db.runs++
	name := "bench_" + strconv.Itoa(db.runs)
	for _, q := range []string{
		"DROP DATABASE IF EXISTS " + name,
		"CREATE DATABASE " + name,
		"CREATE TABLE " + name + "." + ordersDDL[len("CREATE TABLE "):],
	} {
		if err := db.m.Exec(q); err != nil {
			return "", err
		}
	}
	return db.m.DSN(name), nil
}

type sqlProber struct{ db *sql.DB }

func (db *mariadb) open(dsn string) (prober, error) {
	d, err := sql.Open("mysql", dsn)
	return sqlProber{d}, err
}

func (p sqlProber) query(q string) (int64, error) {
	var n sql.NullInt64
	err := p.db.QueryRow(q).Scan(&n)
	return n.Int64, err
}

func (p sqlProber) close() { p.db.Close() }

// postgres is the one PostgreSQL 15 of a run (synchronous_commit on), with
// a fresh schema per e2e run, reached through the DSN's search_path.
type postgres struct {
	p    *testutil.Postgres
	runs int
}

// startPostgres starts the cluster in a fresh directory of its own under
// the system temp dir (not workDir: running as root, the server runs as
// user postgres, which must reach its directory).
func startPostgres() (*postgres, error) {
	p, err := testutil.NewPostgres("", 0)
	if err != nil {
		return nil, err
	}
	return &postgres{p: p}, nil
}

func (db *postgres) name() string    { return "PostgreSQL" }
func (db *postgres) driver() string  { return "postgres" }
func (db *postgres) dsnFlag() string { return "--consumer-postgres-dsn" }

func (db *postgres) stop() {
	if db != nil {
		db.p.Stop()
		os.RemoveAll(db.p.Dir)
	}
}

// freshDB creates schema bench_N, owned by the test user, with an empty
// orders table; the DSN puts it first in search_path, so the orders table
// and mullet's ledger are the schema's.
func (db *postgres) freshDB() (string, error) {
	db.runs++
	name := "bench_" + strconv.Itoa(db.runs)
	for _, q := range []string{
		"DROP SCHEMA IF EXISTS " + name + " CASCADE",
		"CREATE SCHEMA " + name + " AUTHORIZATION " + testutil.PostgresUser,
		fmt.Sprintf(pgOrdersDDL, name+".orders"),
	} {
		if err := db.p.Exec(q); err != nil {
			return "", err
		}
	}
	return db.p.DSN(testutil.PostgresDatabase) + "&search_path=" + name, nil
}

type pgProber struct{ pool *pgxpool.Pool }

func (db *postgres) open(dsn string) (prober, error) {
	p, err := pgxpool.New(context.Background(), dsn)
	return pgProber{p}, err
}

func (p pgProber) query(q string) (int64, error) {
	var n *int64
	err := p.pool.QueryRow(context.Background(), q).Scan(&n)
	if n == nil {
		return 0, err
	}
	return *n, err
}

func (p pgProber) close() { p.pool.Close() }

// e2eRefWorker measures redis-server plus the reference worker with the
// given number of loops.
func e2eRefWorker(redis *flavour, refworker, workDir string, db e2eDB, loops int, cfg e2eConfig, settings []string) (e2eResult, error) {
	dsn, err := db.freshDB()
	if err != nil {
		return e2eResult{}, err
	}
	p, err := start(redis, workDir, "e2e", settings...)
	if err != nil {
		return e2eResult{}, err
	}
	defer p.stop()
	w := exec.Command(refworker, "-addr", p.addr, "-dsn", dsn, "-driver", db.driver(), "-loops", strconv.Itoa(loops))
	logf, err := os.Create(filepath.Join(p.dir, "refworker.log"))
	if err != nil {
		return e2eResult{}, err
	}
	defer logf.Close()
	w.Stderr = logf
	pipe, err := w.StdoutPipe()
	if err != nil {
		return e2eResult{}, err
	}
	if err := w.Start(); err != nil {
		return e2eResult{}, err
	}
	out := bufio.NewReader(pipe)
	defer func() {
		// Stop it, keep its summary line in the log, then reap it (all
		// reads from the pipe must end before Wait).
		w.Process.Signal(syscall.SIGTERM)
		io.Copy(logf, out)
		w.Wait()
	}()
	// Wait for "ready": the worker has connected to both servers.
	line, err := out.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		return e2eResult{}, fmt.Errorf("refworker did not start (%q, %v): %s", line, err, tailFile(logf.Name(), 1000))
	}
	return pushAndWait(p.addr, db, dsn, cfg)
}

// e2eMullet measures mullet with its embedded consumer draining
// order_queue into orders.
func e2eMullet(mullet *flavour, workDir string, db e2eDB, cfg e2eConfig, settings []string) (e2eResult, error) {
	dsn, err := db.freshDB()
	if err != nil {
		return e2eResult{}, err
	}
	args := append(append([]string(nil), settings...),
		"--consumer-route", "order_queue", "orders",
		db.dsnFlag(), dsn)
	p, err := start(mullet, workDir, "e2e", args...)
	if err != nil {
		return e2eResult{}, err
	}
	defer p.stop()
	return pushAndWait(p.addr, db, dsn, cfg)
}

// pushAndWait LPUSHes cfg.Rows orders onto order_queue, pipelined 1000 at
// a time (many functions pushing at once), and waits until the database
// holds them all. The clock runs from the first LPUSH to the poll that sees the
// last row: pushing and draining overlap, as in production.
func pushAndWait(addr string, db e2eDB, dsn string, cfg e2eConfig) (e2eResult, error) {
	sqldb, err := db.open(dsn)
	if err != nil {
		return e2eResult{}, err
	}
	defer sqldb.close()
	c, err := resp.Dial(addr)
	if err != nil {
		return e2eResult{}, err
	}
	defer c.Close()

	begin := time.Now()
	pushed := make(chan error, 1)
	go func() {
		for sent := 0; sent < cfg.Rows; {
			batch := min(1000, cfg.Rows-sent)
			for i := range batch {
				c.Send("LPUSH", "order_queue", order(sent+i))
			}
			if err := c.Flush(); err != nil {
				pushed <- err
				return
			}
			for range batch {
				if _, err := c.Read(); err != nil {
					pushed <- err
					return
				}
			}
			sent += batch
		}
		pushed <- nil
	}()

	var (
		lastMax    int64
		lastChange = time.Now()
		pushDone   bool
	)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-pushed:
			if err != nil {
				return e2eResult{}, fmt.Errorf("push: %w", err)
			}
			pushDone = true
		case <-tick.C:
		}
		maxID, err := sqldb.query("SELECT MAX(id) FROM orders")
		if err != nil {
			return e2eResult{}, err
		}
		now := time.Now()
		if maxID != lastMax {
			lastMax, lastChange = maxID, now
		}
		// MAX(id) can run ahead of the row count (a rolled back insert
		// leaves a gap), so confirm with COUNT(*).
		if maxID >= int64(cfg.Rows) || now.Sub(begin) > cfg.Cap || (pushDone && now.Sub(lastChange) > cfg.Stall) {
			n, err := sqldb.query("SELECT COUNT(*) FROM orders")
			if err != nil {
				return e2eResult{}, err
			}
			secs := now.Sub(begin).Seconds()
			r := e2eResult{Rows: n, RowsPerSec: float64(n) / secs}
			switch {
			case n >= int64(cfg.Rows):
				if n > int64(cfg.Rows) {
					r.Note = fmt.Sprintf("%d rows for %d orders: duplicates", n, cfg.Rows)
				}
				return r, nil
			case now.Sub(begin) > cfg.Cap:
				r.Note = fmt.Sprintf("capped at %v: %d of %d rows", cfg.Cap, n, cfg.Rows)
				return r, nil
			case n == 0:
				return e2eResult{}, errNoConsumer
			case pushDone && now.Sub(lastChange) > cfg.Stall:
				r.Note = fmt.Sprintf("stalled at %d of %d rows", n, cfg.Rows)
				return r, nil
			}
		}
	}
}

// errNoConsumer means nothing reached the database: mullet was built
// without its embedded consumer.
var errNoConsumer = errors.New("no row reached the database (no consumer in this build?)")
