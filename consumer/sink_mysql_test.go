package consumer

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"mullet/internal/testutil"
)

// ordersDDL is the test table: typical columns plus every constraint a
// poison item can violate.
const ordersDDL = `CREATE TABLE %s (
	id BIGINT AUTO_INCREMENT PRIMARY KEY,
	order_id VARCHAR(32) NOT NULL UNIQUE,
	customer VARCHAR(64) NOT NULL,
	sku VARCHAR(16) NOT NULL DEFAULT 'none',
	qty INT NOT NULL DEFAULT 1,
	price DECIMAL(12,2) NULL,
	paid BOOLEAN NULL,
	meta JSON NULL,
	note TEXT NULL,
	ratio DECIMAL(40,30) NULL
) ENGINE=InnoDB`

// newMySQL opens a sink on m and closes it when t ends.
func newMySQL(t testing.TB, m *testutil.MariaDB, pool int, opts *MySQLOptions) *MySQL {
	t.Helper()
	s, err := NewMySQL(t.Context(), m.DSN(testutil.MariaDBDatabase), pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustExec(t testing.TB, m *testutil.MariaDB, q string, args ...any) {
	t.Helper()
	if err := m.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

func count(t testing.TB, m *testutil.MariaDB, q string, args ...any) int64 {
	t.Helper()
	n, err := m.QueryInt(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func items(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func order(id string, extra string) string {
	return fmt.Sprintf(`{"order_id":%q,"customer":"c-%s","sku":"S1","qty":2,"price":9.5%s}`, id, id, extra)
}

// TestMySQLSink runs the sink's behaviours against one real MariaDB; each
// subtest uses its own tables and batch IDs.
func TestMySQLSink(t *testing.T) {
	m := testutil.StartMariaDB(t)
	db := testutil.MariaDBDatabase

	t.Run("rows land exactly", func(t *testing.T) {
		for _, mode := range []string{"literals", "placeholders"} {
			t.Run(mode, func(t *testing.T) {
				table := "exact_" + mode
				mustExec(t, m, fmt.Sprintf(ordersDDL, table))
				s := newMySQL(t, m, 2, nil)
				s.placeholders = mode == "placeholders"
				b := Batch{ID: "exact-" + mode, Table: table, Items: items(
					`{"order_id":"o1","customer":"Zoë \"quoted\" \\ it's\n✓","qty":3,"price":19.99,"paid":true,"meta":{"a":[1,2]},"note":null}`,
					// Other key order, same set: same statement.
					`{"customer":"c2","order_id":"o2","qty":1,"price":0.1,"paid":false,"meta":[],"note":"x"}`,
					// Another column set, and defaults for the rest.
					`{"order_id":"o3","customer":"c3","ratio":0.123456789012345678901234567891}`,
					`{"order_id":"o4","customer":"\u0000nul\u001a"}`,
				)}
				if err := s.Write(t.Context(), b); err != nil {
					t.Fatal(err)
				}
				want := []string{
					"o1|Zoë \"quoted\" \\ it's\n✓|none|3|19.99|1|{\"a\":[1,2]}|NULL|NULL",
					"o2|c2|none|1|0.10|0|[]|x|NULL",
					"o3|c3|none|1|NULL|NULL|NULL|NULL|0.123456789012345678901234567891",
					"o4|\x00nul\x1a|none|1|NULL|NULL|NULL|NULL|NULL",
				}
				got := dumpOrders(t, m, table)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if n := count(t, m, "SELECT row_count FROM "+db+".mullet_ledger WHERE batch_id = ?", b.ID); n != 4 {
					t.Errorf("ledger row_count = %d; want 4", n)
				}
			})
		}
	})

	t.Run("retry writes nothing twice", func(t *testing.T) {
		mustExec(t, m, fmt.Sprintf(ordersDDL, "retry"))
		s := newMySQL(t, m, 2, nil)
		b := Batch{ID: "retry-1", Table: "retry", Items: items(order("r1", ""), order("r2", ""))}
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		// Even with different content: the ID decides.
		b2 := Batch{ID: "retry-1", Table: "retry", Items: items(order("r3", ""))}
		for _, b := range []Batch{b, b2} {
			if err := s.Write(t.Context(), b); !errors.Is(err, ErrAlreadyCommitted) {
				t.Fatalf("second Write = %v; want ErrAlreadyCommitted", err)
			}
		}
		if n := count(t, m, "SELECT COUNT(*) FROM retry"); n != 2 {
			t.Errorf("%d rows; want 2", n)
		}
		// IDs differing only in case are different batches.
		if err := s.Write(t.Context(), Batch{ID: "RETRY-1", Table: "retry", Items: items(order("r4", ""))}); err != nil {
			t.Fatal(err)
		}

		got, err := s.Committed(t.Context(), []string{"retry-1", "RETRY-1", "never"})
		if err != nil || len(got) != 2 || !got["retry-1"] || !got["RETRY-1"] {
			t.Fatalf("Committed = %v, %v", got, err)
		}
		if err := s.Forget(t.Context(), []string{"retry-1", "never"}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Committed(t.Context(), []string{"retry-1", "RETRY-1"}); err != nil || len(got) != 1 || !got["RETRY-1"] {
			t.Fatalf("Committed after Forget = %v, %v", got, err)
		}
	})

	t.Run("poison", func(t *testing.T) {
		mustExec(t, m, fmt.Sprintf(ordersDDL, "poison"))
		s := newMySQL(t, m, 2, nil)
		if err := s.Write(t.Context(), Batch{ID: "poison-seed", Table: "poison", Items: items(order("dup", ""))}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			item  string
			same  string // an item with the same columns, good where possible
			errno uint16 // 0: rejected before MySQL
		}{
			{"unknown column", `{"order_id":"p1","customer":"c","nope":1}`, `{"order_id":"g1","customer":"c","nope":1}`, 1054},
			{"data too long", `{"order_id":"p2","customer":"c","sku":"` + strings.Repeat("x", 17) + `"}`, `{"order_id":"g2","customer":"c","sku":"ok"}`, 1406},
			{"not null", `{"order_id":"p3","customer":null}`, `{"order_id":"g3","customer":"c"}`, 1048},
			{"no default", `{"order_id":"p4"}`, `{"order_id":"g4"}`, 1364},
			{"duplicate", order("dup", ""), order("g5", ""), 1062},
			{"bad JSON column", `{"order_id":"p5","customer":"c","meta":"{not json"}`, `{"order_id":"g6","customer":"c","meta":"{}"}`, 4025},
			{"out of range", `{"order_id":"p6","customer":"c","qty":1e20}`, `{"order_id":"g7","customer":"c","qty":1}`, 1264},
			{"incorrect integer", `{"order_id":"p7","customer":"c","qty":"many"}`, `{"order_id":"g8","customer":"c","qty":"5"}`, 1366},
			{"keys differ in case", `{"order_id":"p8","customer":"c","Customer":"d"}`, `{"order_id":"g9","customer":"c","Customer":"d"}`, 1110},
			{"not JSON", `{"order_id":`, order("g10", ""), 0},
			{"not an object", `["p9"]`, order("g11", ""), 0},
			{"empty object", `{}`, order("g12", ""), 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// Alone: the item's index and MySQL's reason.
				id := "poison-" + tc.name
				err := s.Write(t.Context(), Batch{ID: id, Table: "poison", Items: items(tc.item)})
				checkRowError(t, err, 0, tc.errno)
				// Behind an item of the same columns: MySQL does not say
				// which row, and nothing of the batch is written.
				err = s.Write(t.Context(), Batch{ID: id + "-multi", Table: "poison", Items: items(tc.same, tc.item)})
				want := -1
				if tc.errno == 0 {
					want = 1 // found by the parser
				}
				checkRowError(t, err, want, tc.errno)
				if got, _ := s.Committed(t.Context(), []string{id, id + "-multi"}); len(got) != 0 {
					t.Errorf("poisoned batch recorded in the ledger: %v", got)
				}
			})
		}
		if n := count(t, m, "SELECT COUNT(*) FROM poison"); n != 1 {
			t.Errorf("%d rows after poison; want only the seed row", n)
		}
	})

	t.Run("strict sql_mode whatever the DSN says", func(t *testing.T) {
		cfg, err := mysql.ParseDSN(m.DSN(db))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Params = map[string]string{"sql_mode": "''"}
		cfg.InterpolateParams = false
		s, err := NewMySQL(t.Context(), cfg.FormatDSN(), 1, &MySQLOptions{LedgerTable: "other_ledger"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var mode string
		if err := s.db.QueryRow("SELECT @@SESSION.sql_mode").Scan(&mode); err != nil || mode != SQLMode {
			t.Errorf("sql_mode = %q, %v; want %q", mode, err, SQLMode)
		}
		if n := count(t, m, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'other_ledger'"); n != 1 {
			t.Errorf("ledger table other_ledger not created")
		}
	})

	t.Run("unknown table", func(t *testing.T) {
		s := newMySQL(t, m, 1, nil)
		err := s.Write(t.Context(), Batch{ID: "nt", Table: "no_such_table", Items: items(order("x", ""))})
		var te *TableError
		if !errors.As(err, &te) || te.Table != "no_such_table" || mysqlErrno(err) != 1146 || IsRetryable(err) {
			t.Fatalf("err = %v; want TableError 1146", err)
		}
		err = s.Write(t.Context(), Batch{ID: "nt2", Table: "bad\x00name", Items: items(order("x", ""))})
		if !errors.As(err, &te) {
			t.Fatalf("err = %v; want TableError", err)
		}
		if err := s.Write(t.Context(), Batch{ID: "", Table: "t", Items: items(order("x", ""))}); !errors.Is(err, ErrInvalidBatch) {
			t.Fatalf("empty ID: err = %v; want ErrInvalidBatch", err)
		}
	})

	t.Run("statements split by size", func(t *testing.T) {
		mustExec(t, m, fmt.Sprintf(ordersDDL, "split"))
		s := newMySQL(t, m, 1, &MySQLOptions{StatementBytes: 200})
		var its []string
		for i := range 20 {
			its = append(its, order(fmt.Sprintf("s%02d", i), ""))
		}
		stmts, err := s.build("split", mustParse(t, its))
		if err != nil || len(stmts) < 4 {
			t.Fatalf("build: %d statements, %v; want several", len(stmts), err)
		}
		if err := s.Write(t.Context(), Batch{ID: "split", Table: "split", Items: items(its...)}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, m, "SELECT COUNT(DISTINCT order_id) FROM split"); n != 20 {
			t.Errorf("%d rows; want 20", n)
		}
		// A poison row that lands alone in its statement is named exactly,
		// and the statements before it are rolled back.
		s.softBytes = 1
		bad := append(its[:0:0], order("t1", ""), order("t2", ""), order("s05", ""), order("t3", ""))
		err = s.Write(t.Context(), Batch{ID: "split-dup", Table: "split", Items: items(bad...)})
		checkRowError(t, err, 2, 1062)
		if n := count(t, m, "SELECT COUNT(*) FROM split"); n != 20 {
			t.Errorf("%d rows; want 20", n)
		}
		// A row too big for max_allowed_packet is poison before MySQL.
		s.hardBytes = 100
		err = s.Write(t.Context(), Batch{ID: "split-big", Table: "split", Items: items(order("t4", ""), order("t5", `,"note":"`+strings.Repeat("n", 200)+`"`))})
		checkRowError(t, err, 1, 0)
	})

	t.Run("lock wait timeout is retryable", func(t *testing.T) {
		mustExec(t, m, fmt.Sprintf(ordersDDL, "locked"))
		mustExec(t, m, "SET GLOBAL innodb_lock_wait_timeout = 1") // new sessions inherit it
		t.Cleanup(func() { m.Exec("SET GLOBAL innodb_lock_wait_timeout = 50") })
		s := newMySQL(t, m, 1, nil)
		unlock := holdOrderLock(t, m, "locked", "L1")
		defer unlock()
		err := s.Write(t.Context(), Batch{ID: "locked", Table: "locked", Items: items(order("L1", ""))})
		if !IsRetryable(err) || mysqlErrno(err) != 1205 {
			t.Fatalf("err = %v; want retryable 1205", err)
		}
		unlock()
		if err := s.Write(t.Context(), Batch{ID: "locked", Table: "locked", Items: items(order("L1", ""))}); err != nil {
			t.Fatalf("retry after the lock went: %v", err)
		}
	})

	t.Run("pool limit", func(t *testing.T) {
		const pool, writers, perWriter = 3, 12, 15
		mustExec(t, m, fmt.Sprintf(ordersDDL, "pool"))
		mustExec(t, m, "CREATE USER pooltest@'%' IDENTIFIED BY 'pw'")
		mustExec(t, m, "GRANT ALL ON "+db+".* TO pooltest@'%'")
		dsn := strings.Replace(m.DSN(db), testutil.MariaDBUser+":"+testutil.MariaDBPassword, "pooltest:pw", 1)
		s, err := NewMySQL(t.Context(), dsn, pool, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()

		// Sample PROCESSLIST until the writers are done.
		done := make(chan struct{})
		var maxSeen, samples atomic.Int64
		var sampler sync.WaitGroup
		sampler.Go(func() {
			for {
				n, err := m.ConnectionsFrom("pooltest")
				if err == nil {
					samples.Add(1)
					if int64(n) > maxSeen.Load() {
						maxSeen.Store(int64(n))
					}
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range perWriter {
					var its []string
					for j := range 50 {
						its = append(its, order(fmt.Sprintf("w%d-%d-%d", w, i, j), ""))
					}
					if err := s.Write(t.Context(), Batch{ID: fmt.Sprintf("pool-%d-%d", w, i), Table: "pool", Items: items(its...)}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(done)
		sampler.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		t.Logf("max %d connections in %d PROCESSLIST samples", maxSeen.Load(), samples.Load())
		if maxSeen.Load() > pool || maxSeen.Load() == 0 {
			t.Errorf("saw %d connections from the sink; pool is %d", maxSeen.Load(), pool)
		}
		if n := count(t, m, "SELECT COUNT(*) FROM pool"); n != writers*perWriter*50 {
			t.Errorf("%d rows; want %d", n, writers*perWriter*50)
		}
	})
}

// TestMySQLSinkServerDown stops and kills MariaDB under the sink: each
// failure is retryable, and the same batch succeeds exactly once after the
// restart.
func TestMySQLSinkServerDown(t *testing.T) {
	m := testutil.StartMariaDB(t)
	mustExec(t, m, fmt.Sprintf(ordersDDL, testutil.MariaDBDatabase+".down"))
	s := newMySQL(t, m, 2, nil)
	write := func(id string, its ...string) error {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		return s.Write(ctx, Batch{ID: id, Table: "down", Items: items(its...)})
	}
	if err := write("warm", order("w", "")); err != nil {
		t.Fatal(err)
	}

	// Stopped between batches: the pooled connections are dead, and new
	// ones are refused.
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := write("d1", order("d1", "")); !IsRetryable(err) {
			t.Fatalf("Write with MariaDB stopped = %v; want retryable", err)
		}
	}
	if _, err := s.Committed(t.Context(), []string{"d1"}); !IsRetryable(err) {
		t.Fatalf("Committed with MariaDB stopped = %v; want retryable", err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := write("d1", order("d1", "")); err != nil {
		t.Fatalf("Write after restart: %v", err)
	}

	// Killed mid-write: another transaction holds a lock the batch needs,
	// so the Write is inside its transaction (ledger row inserted) when the
	// server dies.
	unlock := holdOrderLock(t, m, "down", "d2")
	defer unlock()
	result := make(chan error, 1)
	go func() { result <- write("d2", order("d2a", ""), order("d2", "")) }()
	waitInsert(t, m, "down", result)
	m.Kill()
	if err := <-result; !IsRetryable(err) {
		t.Fatalf("Write when MariaDB died = %v; want retryable", err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Committed(t.Context(), []string{"d2"}); err != nil || len(got) != 0 {
		t.Fatalf("Committed(d2) after crash = %v, %v; want none", got, err)
	}
	if err := write("d2", order("d2a", ""), order("d2", "")); err != nil {
		t.Fatalf("retry after crash: %v", err)
	}
	if err := write("d2", order("d2a", ""), order("d2", "")); !errors.Is(err, ErrAlreadyCommitted) {
		t.Fatalf("second retry = %v; want ErrAlreadyCommitted", err)
	}
	got := dumpOrders(t, m, "down")
	if len(got) != 4 {
		t.Errorf("rows after restarts:\n%s\nwant w, d1, d2a, d2 once each", strings.Join(got, "\n"))
	}
}

// holdOrderLock inserts order_id in table inside an open transaction, so
// any other insert of that order_id waits for the lock. The returned func
// rolls it back; it is idempotent.
func holdOrderLock(t *testing.T, m *testutil.MariaDB, table, orderID string) func() {
	t.Helper()
	db, err := sql.Open("mysql", m.DSN(testutil.MariaDBDatabase))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO "+table+" (order_id, customer) VALUES (?, 'locker')", orderID); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			tx.Rollback()
			db.Close()
		})
	}
}

// waitInsert polls the server until an INSERT into table is running,
// failing if the Write behind result ends first. With holdOrderLock that
// INSERT cannot finish, so the Write is stuck mid-transaction. (MariaDB
// 10.11 does not reliably show such a wait as 'LOCK WAIT' in INNODB_TRX.)
// It polls MariaDB's state, not a goroutine's; the bound is generous.
func waitInsert(t *testing.T, m *testutil.MariaDB, table string, result <-chan error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := m.QueryInt("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE ?", "INSERT INTO `"+table+"`%")
		if err == nil && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no INSERT into %s running after 20s (%v)", table, err)
		}
		select {
		case err := <-result:
			t.Fatalf("Write ended before waiting for the lock: %v", err)
		case <-tick.C:
		}
	}
}

func checkRowError(t *testing.T, err error, index int, errno uint16) {
	t.Helper()
	var re *RowError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v; want *RowError", err)
	}
	if re.Index != index || re.Reason == "" || mysqlErrno(err) != errno || IsRetryable(err) {
		t.Fatalf("err = %v (index %d, errno %d); want index %d, errno %d", err, re.Index, mysqlErrno(err), index, errno)
	}
}

func mustParse(t *testing.T, its []string) []Row {
	t.Helper()
	rows, err := parseItems(items(its...))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// dumpOrders returns the rows of an orders table as |-separated text.
func dumpOrders(t *testing.T, m *testutil.MariaDB, table string) []string {
	t.Helper()
	db, err := sql.Open("mysql", m.DSN(testutil.MariaDBDatabase))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT order_id, customer, sku, qty, price, paid, meta, note, ratio FROM " + table + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, 9)
		ptrs := make([]any, 9)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			if v.Valid {
				parts = append(parts, v.String)
			} else {
				parts = append(parts, "NULL")
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestClassify pins the error classification table with the error values
// go-sql-driver and the net package produce.
func TestClassify(t *testing.T) {
	one := &statement{rows: 1, item: 7}
	many := &statement{rows: 5}
	for _, tc := range []struct {
		name  string
		err   error
		st    *statement
		check func(error) bool
	}{
		{"deadlock", &mysql.MySQLError{Number: 1213}, many, IsRetryable},
		{"lock wait", &mysql.MySQLError{Number: 1205}, many, IsRetryable},
		{"gone away", &mysql.MySQLError{Number: 2006}, nil, IsRetryable},
		{"too many connections", &mysql.MySQLError{Number: 1040}, nil, IsRetryable},
		{"shutdown", &mysql.MySQLError{Number: 1053}, many, IsRetryable},
		{"killed", &mysql.MySQLError{Number: 1927}, many, IsRetryable},
		{"bad conn", fmt.Errorf("x: %w", driver.ErrBadConn), many, IsRetryable},
		{"invalid conn", mysql.ErrInvalidConn, many, IsRetryable},
		{"eof", io.ErrUnexpectedEOF, many, IsRetryable},
		{"deadline", context.DeadlineExceeded, many, IsRetryable},
		{"refused", dialRefused(t), nil, IsRetryable},
		{"duplicate, one row", &mysql.MySQLError{Number: 1062}, one, rowErrorAt(7)},
		{"duplicate, many rows", &mysql.MySQLError{Number: 1062}, many, rowErrorAt(-1)},
		{"check, many rows", &mysql.MySQLError{Number: 4025}, many, rowErrorAt(-1)},
		{"FK", &mysql.MySQLError{Number: 1452}, one, rowErrorAt(7)},
		{"packet too large", mysql.ErrPktTooLarge, one, rowErrorAt(7)},
		{"unknown table", &mysql.MySQLError{Number: 1146}, many, isTableError},
		{"poison number outside a statement", &mysql.MySQLError{Number: 1062}, nil, isPlain},
		{"access denied", &mysql.MySQLError{Number: 1142}, many, isPlain},
		{"syntax", &mysql.MySQLError{Number: 1064}, many, isPlain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err, "t", tc.st)
			if !tc.check(got) {
				t.Errorf("classify(%v) = %v (%T)", tc.err, got, got)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("classify lost the cause: %v", got)
			}
		})
	}
}

func rowErrorAt(i int) func(error) bool {
	return func(err error) bool {
		var re *RowError
		return errors.As(err, &re) && re.Index == i && !IsRetryable(err)
	}
}

func isTableError(err error) bool {
	var te *TableError
	return errors.As(err, &te) && !IsRetryable(err)
}

func isPlain(err error) bool {
	var re *RowError
	var te *TableError
	return !IsRetryable(err) && !errors.As(err, &re) && !errors.As(err, &te)
}

// dialRefused returns the error a dial to a closed port really produces.
func dialRefused(t *testing.T) error {
	db, err := sql.Open("mysql", "u:p@tcp(127.0.0.1:1)/x?timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Ping()
	if err == nil {
		t.Fatal("ping to port 1 succeeded")
	}
	return err
}
