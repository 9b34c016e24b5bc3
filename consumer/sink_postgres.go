package consumer

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgMaxIdentifier is PostgreSQL's longest identifier in bytes
// (NAMEDATALEN-1). A longer name is silently truncated by the server, so
// it could name another column: the sink refuses it instead.
const pgMaxIdentifier = 63

// PostgresOptions configures NewPostgres. The zero value and nil mean
// defaults.
type PostgresOptions struct {
	// LedgerTable names the ledger table, created if missing, in the first
	// schema of the connection's search_path; it may be schema-qualified.
	// "" means DefaultLedgerTable.
	LedgerTable string
}

// Postgres is a Sink writing to PostgreSQL (or a server speaking its
// protocol) through a fixed pool of pgx connections. It is safe for
// concurrent use; at most poolSize Writes run at once, the others wait for
// a connection.
//
// Rows go in with COPY ... FROM STDIN in text format, inside the batch's
// transaction: every value travels as text and PostgreSQL parses it with
// the column type's own input function, so numbers keep every digit, JSON
// lands in json/jsonb as sent and ISO timestamps in timestamptz.
//
// Nothing is prepared by name and no session state is set after connect:
// parameterised statements use the unnamed statement of the extended
// protocol (pgx.QueryExecModeExec), which lives within one round trip, so
// the sink works behind PgBouncer in transaction mode.
type Postgres struct {
	pool   *pgxpool.Pool
	ledger string // quoted ledger table name
	insert bool   // multi-row INSERT instead of COPY: for the benchmark comparison only
	closed atomic.Bool
}

// NewPostgres connects to the database named in dsn (a pgx connection
// string: a postgres:// URL or key=value pairs) with at most poolSize
// connections, and creates the ledger table if it does not exist.
func NewPostgres(ctx context.Context, dsn string, poolSize int, opts *PostgresOptions) (*Postgres, error) {
	if poolSize < 1 {
		return nil, fmt.Errorf("consumer: PostgreSQL pool size must be at least 1, got %d", poolSize)
	}
	var o PostgresOptions
	if opts != nil {
		o = *opts
	}
	if o.LedgerTable == "" {
		o.LedgerTable = DefaultLedgerTable
	}
	ledger, reason := pgRelation(o.LedgerTable)
	if reason != "" {
		return nil, fmt.Errorf("consumer: ledger table %q: %s", o.LedgerTable, reason)
	}
	cfg, err := postgresConfig(dsn)
	if err != nil {
		return nil, err
	}
	// PostgreSQL must never see more than poolSize connections from us;
	// none are opened ahead of need (MinConns 0), and idle ones are kept.
	cfg.MaxConns = int32(min(poolSize, 1<<30))
	cfg.MinConns = 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("consumer: PostgreSQL: %w", err)
	}
	s := &Postgres{pool: pool, ledger: ledger}
	if err := s.setup(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// postgresConfig parses dsn and applies the sink's fixed settings.
func postgresConfig(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("consumer: PostgreSQL DSN: %w", err)
	}
	cc := cfg.ConnConfig
	// No named prepared statements and no statement or description cache:
	// a pooler in transaction mode may hand each transaction another
	// server connection, where a statement prepared earlier does not
	// exist (or a cached description is stale). The sink's few
	// parameterised statements are cheap to plan.
	cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	cc.StatementCacheCapacity = 0
	cc.DescriptionCacheCapacity = 0
	if cc.ConnectTimeout == 0 {
		// Without it a dial to an unreachable host waits for the OS's TCP
		// timeout (minutes) before Write can report a retryable error.
		cc.ConnectTimeout = 10 * time.Second
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "mullet"
	}
	return cfg, nil
}

// CheckPostgresDSN reports whether dsn is a valid pgx connection string,
// so a typo fails at start-up instead of in an endless retry loop.
func CheckPostgresDSN(dsn string) error {
	_, err := postgresConfig(dsn)
	return err
}

// setup creates the ledger.
func (s *Postgres) setup(ctx context.Context) error {
	// COLLATE "C": batch IDs compare byte for byte.
	ddl := "CREATE TABLE IF NOT EXISTS " + s.ledger + ` (
		batch_id text COLLATE "C" NOT NULL PRIMARY KEY,
		table_name text NOT NULL,
		row_count integer NOT NULL,
		committed_at timestamptz NOT NULL DEFAULT clock_timestamp()
	)`
	if _, err := s.pool.Exec(ctx, ddl); err != nil {
		return pgClassifyOp("create ledger table", err)
	}
	return nil
}

// Write implements Sink. The transaction inserts the ledger record first,
// so a retry of a committed batch stops at the duplicate key before sending
// any rows, and two concurrent attempts at one ID serialise on the key.
// The rows go as one COPY per set of columns (rows with the same columns
// keep their order; each set in the order of its first item). Items are
// parsed and the COPY data rendered before a connection is taken: a
// poison item is found without touching the database.
func (s *Postgres) Write(ctx context.Context, b Batch) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := checkBatch(b); err != nil {
		return err
	}
	rel, reason := pgRelation(b.Table)
	if reason != "" {
		return &TableError{Table: b.Table, Reason: reason}
	}
	rows, err := parseItems(b.Items)
	if err != nil {
		return err
	}
	stmts, err := s.build(rel, rows)
	if err != nil {
		putPGBufs(stmts)
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return pgClassify(err, b.Table, nil)
	}
	_, err = tx.Exec(ctx, "INSERT INTO "+s.ledger+" (batch_id, table_name, row_count) VALUES ($1, $2, $3)",
		b.ID, b.Table, len(b.Items))
	if err != nil {
		rollback(ctx, tx)
		if pgCode(err) == "23505" {
			return ErrAlreadyCommitted
		}
		// Never a RowError or TableError: the ledger is ours, not the item's.
		return pgClassifyOp("insert into ledger", err)
	}
	for i := range stmts {
		st := &stmts[i]
		if s.insert {
			_, err = tx.Exec(ctx, st.insertSQL(rel))
		} else {
			_, err = tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(st.data.Bytes()), st.copySQL(rel))
		}
		if err != nil {
			rollback(ctx, tx)
			return pgClassify(err, b.Table, st)
		}
	}
	// A lost connection here leaves the outcome unknown; it is retryable
	// because the ledger turns the retry into ErrAlreadyCommitted if the
	// COMMIT did happen. Deferred constraints are checked here too: their
	// violations are poison of an unknown row.
	if err := tx.Commit(ctx); err != nil {
		return pgClassify(err, b.Table, &pgStatement{items: allItems(len(b.Items))})
	}
	// Only now are the buffers free for reuse: after a failed COPY, pgconn
	// may still be reading one from its sender goroutine, so on every error
	// path they are left to the garbage collector.
	putPGBufs(stmts)
	return nil
}

// rollbackTimeout bounds a ROLLBACK after a failed statement: the server
// answers at once unless the connection is dead, and then pgx closes it.
const rollbackTimeout = 5 * time.Second

// rollback ends a failed transaction, even when ctx has ended (the write
// was abandoned), so the connection goes back to the pool clean or closed.
func rollback(ctx context.Context, tx pgx.Tx) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	tx.Rollback(rctx)
}

func allItems(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// Committed implements Sink.
func (s *Postgres) Committed(ctx context.Context, ids []string) (map[string]bool, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	found := make(map[string]bool)
	for chunk := range slices.Chunk(ids, 1000) {
		rows, err := s.pool.Query(ctx, "SELECT batch_id FROM "+s.ledger+" WHERE batch_id = ANY($1)", chunk)
		if err != nil {
			return nil, pgClassifyOp("query ledger", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, pgClassifyOp("query ledger", err)
			}
			found[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, pgClassifyOp("query ledger", err)
		}
	}
	return found, nil
}

// Forget implements Sink. Each chunk of 1000 ids is deleted in its own
// statement; after an error some chunks may already be gone, which is
// harmless: forgetting is idempotent.
func (s *Postgres) Forget(ctx context.Context, ids []string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	for chunk := range slices.Chunk(ids, 1000) {
		if _, err := s.pool.Exec(ctx, "DELETE FROM "+s.ledger+" WHERE batch_id = ANY($1)", chunk); err != nil {
			return pgClassifyOp("delete from ledger", err)
		}
	}
	return nil
}

// Stats returns the pool's statistics in database/sql's shape, which INFO
// consumer shows for every sink with connections: open, in use, idle, and
// how often a Write waited because every connection was busy.
func (s *Postgres) Stats() sql.DBStats {
	st := s.pool.Stat()
	return sql.DBStats{
		MaxOpenConnections: int(st.MaxConns()),
		OpenConnections:    int(st.TotalConns()),
		InUse:              int(st.AcquiredConns()),
		Idle:               int(st.IdleConns()),
		WaitCount:          st.EmptyAcquireCount(),
		WaitDuration:       st.AcquireDuration(),
	}
}

// Close closes every connection; calls in progress finish first.
func (s *Postgres) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}

// pgRelation quotes a route's table for PostgreSQL: "schema.table" is the
// table in that schema (split at the first dot), anything else a table in
// the search_path. It returns a reason instead when the name cannot be a
// PostgreSQL relation.
func pgRelation(name string) (quoted, reason string) {
	if reason := CheckName(name); reason != "" {
		return "", reason
	}
	schema, table, qualified := strings.Cut(name, ".")
	if !qualified {
		table, schema = name, ""
	}
	var b []byte
	for _, part := range []string{schema, table} {
		if part == "" && qualified {
			return "", "empty schema or table name around the dot"
		}
		if part == "" {
			continue
		}
		if reason := pgCheckIdentifier(part); reason != "" {
			return "", reason
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = pgAppendIdentifier(b, part)
	}
	return string(b), ""
}

// pgCheckIdentifier reports why name cannot be a PostgreSQL identifier
// (beyond CheckName's rules), or "".
func pgCheckIdentifier(name string) string {
	if len(name) > pgMaxIdentifier {
		return fmt.Sprintf("name longer than PostgreSQL's %d bytes", pgMaxIdentifier)
	}
	return ""
}

// pgAppendIdentifier quotes name as a PostgreSQL identifier: double quotes
// around it, double quotes inside doubled. Quoted, a name keeps its case:
// the key "Qty" is not the column qty.
func pgAppendIdentifier(b []byte, name string) []byte {
	b = append(b, '"')
	for i := 0; i < len(name); i++ {
		if name[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, name[i])
	}
	return append(b, '"')
}

// A pgStatement is the rows of a batch sharing one set of columns,
// rendered as COPY text data (or, in insert mode, as VALUES tuples).
type pgStatement struct {
	cols  []string
	items []int // indexes into the batch, in data order
	data  *bytes.Buffer
}

var pgBufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putPGBufs(stmts []pgStatement) {
	for _, st := range stmts {
		if st.data != nil && st.data.Cap() <= 4<<20 {
			pgBufPool.Put(st.data)
		}
	}
}

func (st *pgStatement) columnList() []byte {
	b := []byte{'('}
	for j, c := range st.cols {
		if j > 0 {
			b = append(b, ',')
		}
		b = pgAppendIdentifier(b, c)
	}
	return append(b, ')')
}

func (st *pgStatement) copySQL(rel string) string {
	return "COPY " + rel + " " + string(st.columnList()) + " FROM STDIN"
}

func (st *pgStatement) insertSQL(rel string) string {
	return "INSERT INTO " + rel + " " + string(st.columnList()) + " VALUES " + st.data.String()
}

// build groups rows by column set, in order of first appearance, and
// renders each group's data. A column name PostgreSQL would truncate is
// poison.
func (s *Postgres) build(rel string, rows []Row) ([]pgStatement, error) {
	var stmts []pgStatement
	byKey := map[string]int{}
	last := -1
	for i, r := range rows {
		for _, c := range r.Columns {
			if reason := pgCheckIdentifier(c); reason != "" {
				return stmts, &RowError{Index: i, Reason: fmt.Sprintf("key %s is not a valid column name: %s", shortQuote(c), reason)}
			}
		}
		// Fast path: producers send the same keys in the same order.
		if last >= 0 && slices.Equal(stmts[last].cols, r.Columns) {
			stmts[last].items = append(stmts[last].items, i)
			continue
		}
		sorted := slices.Clone(r.Columns)
		slices.Sort(sorted)
		key := strings.Join(sorted, "\x00") // NUL cannot occur in a name
		g, ok := byKey[key]
		if !ok {
			g = len(stmts)
			byKey[key] = g
			stmts = append(stmts, pgStatement{cols: r.Columns})
		}
		stmts[g].items = append(stmts[g].items, i)
		last = g
	}
	for g := range stmts {
		st := &stmts[g]
		buf := pgBufPool.Get().(*bytes.Buffer)
		buf.Reset()
		for n, i := range st.items {
			if s.insert {
				if n > 0 {
					buf.WriteByte(',')
				}
				pgAppendTuple(buf, st.cols, rows[i])
			} else {
				pgAppendCopyLine(buf, st.cols, rows[i])
			}
		}
		st.data = buf
	}
	return stmts, nil
}

// rowValue returns r's value of column c, given the group's columns cols.
func rowValue(r Row, cols []string, j int) Value {
	if j < len(r.Columns) && r.Columns[j] == cols[j] {
		return r.Values[j]
	}
	return r.Values[indexOf(r.Columns, cols[j])]
}

// pgText is the text PostgreSQL's input function of the column's type
// receives for v: the string, the number as sent, JSON text, or true/false
// (which boolean columns take; an integer column rejects it, as
// PostgreSQL does not cast boolean to integer on assignment).
func pgText(v Value) string {
	if v.Kind == Bool {
		if v.Text == "1" {
			return "true"
		}
		return "false"
	}
	return v.Text
}

// pgAppendCopyLine renders one row of COPY's text format: values separated
// by tabs, \N for NULL, and backslash, newline, carriage return and tab
// escaped. A NUL byte is sent as is; PostgreSQL rejects it (text cannot
// hold NUL), which makes the item poison.
func pgAppendCopyLine(buf *bytes.Buffer, cols []string, r Row) {
	for j := range cols {
		if j > 0 {
			buf.WriteByte('\t')
		}
		v := rowValue(r, cols, j)
		if v.Kind == Null {
			buf.WriteString(`\N`)
			continue
		}
		s := pgText(v)
		start := 0
		for i := 0; i < len(s); i++ {
			var esc string
			switch s[i] {
			case '\\':
				esc = `\\`
			case '\n':
				esc = `\n`
			case '\r':
				esc = `\r`
			case '\t':
				esc = `\t`
			default:
				continue
			}
			buf.WriteString(s[start:i])
			buf.WriteString(esc)
			start = i + 1
		}
		buf.WriteString(s[start:])
	}
	buf.WriteByte('\n')
}

// pgAppendTuple renders one row as a VALUES tuple of untyped string
// literals, which PostgreSQL resolves to the column's type with the same
// input function COPY uses. E” strings escape backslash and quote, so
// the literal means the same whatever standard_conforming_strings says.
func pgAppendTuple(buf *bytes.Buffer, cols []string, r Row) {
	buf.WriteByte('(')
	for j := range cols {
		if j > 0 {
			buf.WriteByte(',')
		}
		v := rowValue(r, cols, j)
		if v.Kind == Null {
			buf.WriteString("NULL")
			continue
		}
		s := pgText(v)
		buf.WriteString("E'")
		for i := 0; i < len(s); i++ {
			if s[i] == '\'' || s[i] == '\\' {
				buf.WriteByte(s[i])
			}
			buf.WriteByte(s[i])
		}
		buf.WriteByte('\'')
	}
	buf.WriteByte(')')
}

// pgCode returns err's SQLSTATE, or "" when it carries none.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// pgPoison reports whether SQLSTATE code means one row's content was
// refused: retrying the same row fails the same way, another row would
// succeed. Class 22 is data exceptions (22001 too long, 22003 out of
// range, 22P02 bad input syntax, 22007/22008 bad datetime, 22021 a NUL
// byte...), class 23 integrity constraints (23502 not null, 23503 foreign
// key, 23505 unique, 23514 check, 23P01 exclusion), 42703 an undefined
// column (a key naming no column), 54000 a value too big for an index row.
func pgPoison(code string) bool {
	switch {
	case strings.HasPrefix(code, "22"), strings.HasPrefix(code, "23"):
		return true
	}
	return code == "42703" || code == "54000"
}

// pgRetryable reports whether SQLSTATE code is an error of the moment:
// connection trouble (class 08), serialization failure and deadlock (class
// 40), too many connections or a full disk (class 53), lock not available,
// shutdown or crash recovery (57P01-57P03), a cancelled statement, a
// read-only server (a standby during failover), I/O trouble (class 58).
func pgRetryable(code string) bool {
	switch code[:min(2, len(code))] {
	case "08", "40", "53", "58":
		return true
	}
	switch code {
	case "55P03", "57P01", "57P02", "57P03", "57014", "25006":
		return true
	}
	return false
}

// copyLine finds the COPY line number PostgreSQL names in an error's
// context ("COPY orders, line 3, column qty: ..."), which identifies the
// row inside the COPY data.
var copyLine = regexp.MustCompile(`(?m)^COPY .*, line (\d+)`)

// pgRowIndex returns the batch index of the row an error names, or -1.
// It trusts the COPY line only for errors PostgreSQL raises while it
// reads or inserts that row (input syntax, NOT NULL, CHECK, an immediate
// unique index); foreign keys and deferred constraints are checked after
// the COPY, where the line is not the culprit's.
func pgRowIndex(pe *pgconn.PgError, st *pgStatement) int {
	if len(st.items) == 1 {
		return st.items[0]
	}
	switch {
	case strings.HasPrefix(pe.Code, "22"), pe.Code == "23502", pe.Code == "23505", pe.Code == "23514", pe.Code == "54000":
	default:
		return -1
	}
	m := copyLine.FindStringSubmatch(pe.Where)
	if m == nil {
		return -1
	}
	line, err := strconv.Atoi(m[1])
	if err != nil || line < 1 || line > len(st.items) {
		return -1
	}
	return st.items[line-1]
}

// pgClassify sorts a database error for the caller (see Sink). st is the
// statement that failed (nil for the ledger, BEGIN and queries); table is
// "" for errors that cannot be the batch's table. An error without an
// SQLSTATE comes from the connection (dial, TLS, read, write, a closed or
// cancelled connection): the server may be restarting, so it is retried.
func pgClassify(err error, table string, st *pgStatement) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return retryable(err)
	}
	switch {
	case st != nil && pgPoison(pe.Code):
		reason := pe.Message
		if pe.Detail != "" {
			reason += ": " + pe.Detail
		}
		return &RowError{Index: pgRowIndex(pe, st), Reason: reason + " (SQLSTATE " + pe.Code + ")", Err: err}
	case table != "" && (pe.Code == "42P01" || pe.Code == "3F000"):
		// 3F000: the schema of sales.orders does not exist.
		return &TableError{Table: table, Reason: "no such table: " + pe.Message, Err: err}
	case pgRetryable(pe.Code):
		return retryable(err)
	}
	return fmt.Errorf("consumer: %w", err)
}

// pgClassifyOp classifies an error of the sink's own bookkeeping (the
// ledger, setup), which is never the item's fault: retryable or plain.
func pgClassifyOp(op string, err error) error {
	if IsRetryable(pgClassify(err, "", nil)) {
		return fmt.Errorf("%w: %s: %w", ErrRetryable, op, err)
	}
	return fmt.Errorf("consumer: %s: %w", op, err)
}
