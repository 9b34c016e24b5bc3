package consumer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"mullet/internal/testutil"
	"mullet/queue"
)

// newPostgres opens a sink on p and closes it when t ends.
func newPostgres(t testing.TB, p *testutil.Postgres, pool int) *Postgres {
	t.Helper()
	s, err := NewPostgres(t.Context(), p.DSN(testutil.PostgresDatabase), pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPostgresSink runs the sink's behaviours against one real PostgreSQL;
// each subtest uses its own tables and batch IDs.
func TestPostgresSink(t *testing.T) {
	p := testutil.StartPostgres(t)
	s := newPostgres(t, p, 2)
	exec := func(q string) {
		t.Helper()
		if err := p.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	write := func(id, table string, its ...string) error {
		return s.Write(t.Context(), Batch{ID: id, Table: table, Items: items(its...)})
	}

	t.Run("write once, retry is already committed", func(t *testing.T) {
		exec(fmt.Sprintf(pgOrdersDDL, "once"))
		if err := write("b1", "once", order("o1", ""), order("o2", `,"paid":true,"meta":{"a":[1]}`)); err != nil {
			t.Fatal(err)
		}
		if err := write("b1", "once", order("o1", ""), order("o2", "")); !errors.Is(err, ErrAlreadyCommitted) {
			t.Fatalf("retry = %v; want ErrAlreadyCommitted", err)
		}
		if n, _ := p.QueryInt("SELECT count(*) FROM once"); n != 2 {
			t.Errorf("%d rows, want 2", n)
		}
		got, err := s.Committed(t.Context(), []string{"b1", "b2"})
		if err != nil || len(got) != 1 || !got["b1"] {
			t.Fatalf("Committed = %v, %v", got, err)
		}
		if err := s.Forget(t.Context(), []string{"b1", "nope"}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Committed(t.Context(), []string{"b1"}); err != nil || len(got) != 0 {
			t.Fatalf("Committed after Forget = %v, %v", got, err)
		}
	})

	t.Run("poison by SQLSTATE, with the row when PostgreSQL names it", func(t *testing.T) {
		exec(fmt.Sprintf(pgOrdersDDL, "bad"))
		exec("CREATE TABLE bad_parent (id int PRIMARY KEY)")
		exec("ALTER TABLE bad ADD COLUMN parent int REFERENCES bad_parent (id), ADD CONSTRAINT qty_sane CHECK (qty >= 0), ADD COLUMN at timestamptz")
		exec("INSERT INTO bad (order_id, customer) VALUES ('taken', 'x')")
		for i, tc := range []struct {
			extra string
			code  string
			index int // in a batch of three where the bad one is item 1
		}{
			{`,"sku":"` + strings.Repeat("s", 17) + `"`, "22001", 1},
			{`,"qty":99999999999`, "22003", 1},
			{`,"qty":1.5`, "22P02", 1},
			{`,"qty":true`, "22P02", 1},
			{`,"meta":"{nope"`, "22P02", 1},
			{`,"at":"not a date"`, "22007", 1},
			{`,"at":"2026-13-45"`, "22008", 1},
			{`,"note":"nul\u0000byte"`, "22021", 1},
			{`,"customer":null`, "23502", 1},
			{`,"qty":-1`, "23514", 1},
			{`,"parent":7`, "23503", 1}, // its own set of columns: a COPY of one row
		} {
			id := fmt.Sprintf("p%d", i)
			err := write(id, "bad", order(id+"a", ""), order(id+"b", tc.extra), order(id+"c", ""))
			var re *RowError
			if !errors.As(err, &re) || pgCode(err) != tc.code || re.Index != tc.index || !strings.Contains(re.Reason, tc.code) {
				t.Errorf("%s: err %v (code %s); want a RowError of row %d with SQLSTATE %s", tc.extra, err, pgCode(err), tc.index, tc.code)
			}
		}
		// A duplicate key: PostgreSQL names the row too.
		err := write("dup", "bad", order("d1", ""), order("d2", ""), order("taken", ""))
		var re *RowError
		if !errors.As(err, &re) || pgCode(err) != "23505" || re.Index != 2 {
			t.Errorf("duplicate: %v; want a RowError of row 2, 23505", err)
		}
		// A foreign key is checked after the COPY: PostgreSQL names no row.
		err = write("fk", "bad", order("f1", `,"parent":null`), order("f2", `,"parent":7`), order("f3", `,"parent":null`))
		if !errors.As(err, &re) || pgCode(err) != "23503" || re.Index != -1 {
			t.Errorf("foreign key: %v; want a RowError of no row, 23503", err)
		}
		// A key that names no column: its own COPY, so its own row.
		err = write("col", "bad", order("c1", ""), order("c2", `,"bogus":1`), order("c3", ""))
		if !errors.As(err, &re) || pgCode(err) != "42703" || re.Index != 1 {
			t.Errorf("unknown column: %v; want a RowError of row 1, 42703", err)
		}
		// A key PostgreSQL would truncate to another name.
		err = write("long", "bad", order("l1", `,"`+strings.Repeat("n", 64)+`":1`))
		if !errors.As(err, &re) || re.Index != 0 || !strings.Contains(re.Reason, "63 bytes") {
			t.Errorf("long column name: %v", err)
		}
		if n, _ := p.QueryInt("SELECT count(*) FROM bad"); n != 1 {
			t.Errorf("%d rows after only failed batches, want the 1 already there", n)
		}
		if got, _ := s.Committed(t.Context(), []string{"p0", "dup", "col"}); len(got) != 0 {
			t.Errorf("failed batches in the ledger: %v", got)
		}
	})

	t.Run("unknown table or schema", func(t *testing.T) {
		for _, table := range []string{"missing", "nowhere.orders", ".orders"} {
			err := write("t-"+table, table, order("x", ""))
			var te *TableError
			if !errors.As(err, &te) || te.Table != table {
				t.Errorf("%s: %v; want a TableError", table, err)
			}
		}
	})

	t.Run("no named prepared statements (PgBouncer transaction mode)", func(t *testing.T) {
		exec(fmt.Sprintf(pgOrdersDDL, "bouncer"))
		for i := range 5 {
			if err := write(fmt.Sprint("pb", i), "bouncer", order(fmt.Sprint("pb", i), "")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Committed(t.Context(), []string{"pb1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Forget(t.Context(), []string{"pb1"}); err != nil {
			t.Fatal(err)
		}
		// Every connection of the pool, in its own session.
		for range 2 {
			conn, err := s.pool.Acquire(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Release()
			var n int
			if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_prepared_statements").Scan(&n); err != nil || n != 0 {
				t.Errorf("session has %d prepared statements (%v); want none", n, err)
			}
		}
	})

	t.Run("server down is retryable, then it works again", func(t *testing.T) {
		exec(fmt.Sprintf(pgOrdersDDL, "down"))
		if err := p.Restart(); err != nil {
			t.Fatal(err)
		}
		// The pool's connections were terminated (57P01): each use of one
		// fails, retryably, and discards it; a retry on a fresh connection
		// succeeds. The pool holds at most 4 connections.
		err := write("d1", "down", order("d1", ""))
		for i := 0; err != nil && i < 5; i++ {
			if !IsRetryable(err) {
				t.Fatalf("after a restart: %v; want nil or retryable", err)
			}
			err = write("d1", "down", order("d1", ""))
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Kill()
		err = write("d2", "down", order("d2", ""))
		if !IsRetryable(err) {
			t.Fatalf("server killed: %v; want retryable", err)
		}
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		if err := write("d2", "down", order("d2", "")); err != nil && !IsRetryable(err) {
			t.Fatal(err)
		}
		if err := write("d2", "down", order("d2", "")); err != nil && !errors.Is(err, ErrAlreadyCommitted) {
			t.Fatal(err)
		}
		if n, _ := p.QueryInt("SELECT count(*) FROM down"); n != 2 {
			t.Errorf("%d rows, want d1 and d2 once each", n)
		}
	})
}

func TestPostgresClassify(t *testing.T) {
	st := &pgStatement{items: []int{4, 5, 6}}
	for _, tc := range []struct {
		code, where string
		want        string // row:N, table, retry, plain
	}{
		{"22001", "COPY orders, line 2, column sku: \"sss\"", "row:5"},
		{"23505", "COPY orders, line 3", "row:6"},
		{"23503", "COPY orders, line 3", "row:-1"},
		{"23502", "", "row:-1"},
		{"22P02", "COPY orders, line 9", "row:-1"}, // beyond the statement
		{"42703", "", "row:-1"},
		{"42P01", "", "table"},
		{"3F000", "", "table"},
		{"40001", "", "retry"},
		{"40P01", "", "retry"},
		{"57P01", "", "retry"},
		{"08006", "", "retry"},
		{"53300", "", "retry"},
		{"55P03", "", "retry"},
		{"42501", "", "plain"},
		{"28P01", "", "plain"},
	} {
		err := pgClassify(&pgconn.PgError{Code: tc.code, Where: tc.where, Message: "m"}, "orders", st)
		var re *RowError
		var te *TableError
		got := "plain"
		switch {
		case errors.As(err, &re):
			got = fmt.Sprint("row:", re.Index)
		case errors.As(err, &te):
			got = "table"
		case IsRetryable(err):
			got = "retry"
		}
		if got != tc.want {
			t.Errorf("%s %q: %s (%v); want %s", tc.code, tc.where, got, err, tc.want)
		}
	}
	if !IsRetryable(pgClassify(errors.New("conn closed"), "orders", st)) {
		t.Error("an error without SQLSTATE is not retryable")
	}
}

func TestPgRelation(t *testing.T) {
	for name, want := range map[string]string{
		"orders":                `"orders"`,
		"sales.orders":          `"sales"."orders"`,
		`we"ird`:                `"we""ird"`,
		"Orders":                `"Orders"`,
		"a.b.c":                 `"a"."b.c"`,
		".orders":               "",
		"sales.":                "",
		strings.Repeat("x", 64): "",
	} {
		got, reason := pgRelation(name)
		if got != want || (want == "") != (reason != "") {
			t.Errorf("pgRelation(%q) = %q, %q; want %q", name, got, reason, want)
		}
	}
}

func TestPgCopyLine(t *testing.T) {
	r, err := ParseRow([]byte(`{"a":"t\tb\\c\nd\re","b":null,"c":1.50,"d":true,"e":{"k":"v\\"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	pgAppendCopyLine(&buf, r.Columns, r)
	if want := "t\\tb\\\\c\\nd\\re\t\\N\t1.50\ttrue\t{\"k\":\"v\\\\\\\\\"}\n"; buf.String() != want {
		t.Errorf("COPY line %q\nwant %q", buf.String(), want)
	}
	buf.Reset()
	pgAppendTuple(&buf, r.Columns, r)
	if want := "(E't\tb\\\\c\nd\re',NULL,E'1.50',E'true',E'{\"k\":\"v\\\\\\\\\"}')"; buf.String() != want {
		t.Errorf("tuple %q\nwant %q", buf.String(), want)
	}
}

// TestConsumerPgBouncer drains through PgBouncer 1.18 in transaction mode,
// which has no support for named prepared statements and hands each
// transaction whichever of its 2 server connections is free: 6 writers
// share them, every row lands once, the poison item is a dead letter, and
// the ledger is pruned (the sink's SELECT and DELETE go through it too).
func TestConsumerPgBouncer(t *testing.T) {
	p := testutil.StartPostgres(t)
	bouncer := testutil.StartPgBouncer(t, p, 2)
	h := pgHarness(p)
	h.open = func(pool int) func(context.Context) (Sink, error) {
		return func(ctx context.Context) (Sink, error) { return NewPostgres(ctx, bouncer.DSN(), pool, nil) }
	}
	h.newTable(t, "bounced")
	ks := queue.New(queue.Config{})
	its := orderItems("b", 5000)
	its = slices.Insert(its, 2500, []byte(`{"order_id":"b-bad","customer":"c","nope":1}`))
	lpush(t, ks, "bq", its...)
	c := h.consumer(t, ks, func(cfg *Config) { cfg.PoolSize = 6; cfg.BatchSize = 50 }, Route{"bq", "bounced"})
	testutil.WaitFor(t, 60*time.Second, "5000 rows", func() bool {
		st := routeStats(c, "bq")
		return st.Rows == 5000 && st.DeadLetters == 1
	})
	h.checkExactlyOnce(t, "bounced", "b", 5000)
	if n, err := p.ConnectionsFrom(testutil.PostgresUser); err != nil || n > 2 {
		t.Errorf("PostgreSQL sees %d connections from the pooler (%v); want at most 2", n, err)
	}
	testutil.WaitFor(t, 10*time.Second, "ledger pruned", func() bool {
		return h.count(t, "SELECT count(*) FROM mullet_ledger WHERE table_name = 'bounced'") == 0
	})
	if st := routeStats(c, "bq"); st.PeakWriters < 2 {
		t.Errorf("peak writers %d: the pooler was not shared", st.PeakWriters)
	}
}
