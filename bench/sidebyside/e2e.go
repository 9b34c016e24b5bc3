package main

import (
	"mullet/internal/resp"

	"bufio"
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

// e2eRefWorker measures redis-server plus the reference worker with the
// given number of loops.
func e2eRefWorker(redis *flavour, refworker, workDir string, db *mariadb, loops int, cfg e2eConfig, settings []string) (e2eResult, error) {
	dsn, err := db.freshDB()
	if err != nil {
		return e2eResult{}, err
	}
	p, err := start(redis, workDir, "e2e", settings...)
	if err != nil {
		return e2eResult{}, err
	}
	defer p.stop()
	w := exec.Command(refworker, "-addr", p.addr, "-dsn", dsn, "-loops", strconv.Itoa(loops))
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
	return pushAndWait(p.addr, dsn, cfg)
}

// e2eMullet measures mullet with its embedded consumer draining
// order_queue into orders.
func e2eMullet(mullet *flavour, workDir string, db *mariadb, cfg e2eConfig, settings []string) (e2eResult, error) {
	dsn, err := db.freshDB()
	if err != nil {
		return e2eResult{}, err
	}
	args := append(append([]string(nil), settings...),
		"--consumer-route", "order_queue", "orders",
		"--consumer-mysql-dsn", dsn)
	p, err := start(mullet, workDir, "e2e", args...)
	if err != nil {
		return e2eResult{}, err
	}
	defer p.stop()
	return pushAndWait(p.addr, dsn, cfg)
}

// pushAndWait LPUSHes cfg.Rows orders onto order_queue, pipelined 1000 at
// a time (many functions pushing at once), and waits until MariaDB holds
// them all. The clock runs from the first LPUSH to the poll that sees the
// last row: pushing and draining overlap, as in production.
func pushAndWait(addr, dsn string, cfg e2eConfig) (e2eResult, error) {
	sqldb, err := sql.Open("mysql", dsn)
	if err != nil {
		return e2eResult{}, err
	}
	defer sqldb.Close()
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
		var maxID sql.NullInt64
		if err := sqldb.QueryRow("SELECT MAX(id) FROM orders").Scan(&maxID); err != nil {
			return e2eResult{}, err
		}
		now := time.Now()
		if maxID.Int64 != lastMax {
			lastMax, lastChange = maxID.Int64, now
		}
		// MAX(id) can run ahead of the row count (a rolled back insert
		// leaves a gap), so confirm with COUNT(*).
		if maxID.Int64 >= int64(cfg.Rows) || now.Sub(begin) > cfg.Cap || (pushDone && now.Sub(lastChange) > cfg.Stall) {
			var n int64
			if err := sqldb.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil {
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

// errNoConsumer means nothing reached MariaDB: mullet was built without
// its embedded consumer.
var errNoConsumer = errors.New("no row reached MariaDB (no consumer in this build?)")
