package consumer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DefaultLedgerTable is the ledger table's name when MySQLOptions leaves it
// empty.
const DefaultLedgerTable = "mullet_ledger"

// SQLMode is the sql_mode of every connection the MySQL sink opens,
// whatever the DSN says. STRICT_TRANS_TABLES makes a value that does not fit
// its column (too long, out of range, not a number, NULL into NOT NULL, no
// default) an error, so the item becomes a dead letter instead of a silently
// truncated row. The mode deliberately lacks NO_BACKSLASH_ESCAPES: Write
// escapes string literals with backslashes. (MariaDB's default mode minus
// NO_AUTO_CREATE_USER, which MySQL 8 rejects.)
const SQLMode = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

// defaultStatementBytes is the soft size of one INSERT statement. Statements
// this size already amortise the round trip (a 1000-row batch of orders is
// ~120 KiB); bigger ones only cost memory.
const defaultStatementBytes = 4 << 20

// MySQLOptions configures NewMySQL. The zero value and nil mean defaults.
type MySQLOptions struct {
	// LedgerTable names the ledger table, created if missing. "" means
	// DefaultLedgerTable.
	LedgerTable string
	// StatementBytes is the soft limit on one INSERT statement's size: rows
	// go into further statements of the same transaction beyond it. 0 means
	// 4 MiB. A single row may exceed it, up to max_allowed_packet.
	StatementBytes int
	// Logger receives the driver's own messages ("closing bad idle
	// connection: EOF"), so they have the server log's format; nil leaves
	// the driver's logger (mysql.SetLogger's).
	Logger *slog.Logger
}

// MySQLLogger adapts l to go-sql-driver/mysql's Logger (for
// mysql.SetLogger, or MySQLOptions.Logger): each message is one WARN
// record with component=mysql. The driver only logs trouble.
func MySQLLogger(l *slog.Logger) mysql.Logger { return driverLogger{l.With("component", "mysql")} }

type driverLogger struct{ l *slog.Logger }

// Print logs v as fmt.Sprintln would join it, on one line.
func (d driverLogger) Print(v ...any) {
	d.l.Warn(strings.Join(strings.Fields(fmt.Sprintln(v...)), " "))
}

// MySQL is a Sink writing to MySQL or MariaDB through a fixed pool of
// connections. It is safe for concurrent use; at most poolSize Writes run
// at once, the others wait for a connection.
type MySQL struct {
	db           *sql.DB
	ledger       string // quoted ledger table name
	softBytes    int    // soft statement size limit
	hardBytes    int    // hard statement size limit, from max_allowed_packet
	placeholders bool   // send ? placeholders instead of literals: for the benchmark comparison only, its size limits ignore the arguments
	pruneDenied  error  // the start-up check found DELETE on the ledger denied
	closed       atomic.Bool
}

// NewMySQL connects to the database named in dsn (go-sql-driver/mysql
// syntax) with at most poolSize connections, and creates the ledger table if
// it does not exist. It overrides the DSN's sql_mode with SQLMode and sets
// interpolateParams, so a statement costs one round trip. The connection
// charset must be utf8mb4, utf8 or latin1 (the driver's default is utf8mb4):
// literals are escaped for those.
func NewMySQL(ctx context.Context, dsn string, poolSize int, opts *MySQLOptions) (*MySQL, error) {
	if poolSize < 1 {
		return nil, fmt.Errorf("consumer: MySQL pool size must be at least 1, got %d", poolSize)
	}
	var o MySQLOptions
	if opts != nil {
		o = *opts
	}
	if o.LedgerTable == "" {
		o.LedgerTable = DefaultLedgerTable
	}
	if reason := CheckName(o.LedgerTable); reason != "" {
		return nil, fmt.Errorf("consumer: ledger table %q: %s", o.LedgerTable, reason)
	}
	if o.StatementBytes <= 0 {
		o.StatementBytes = defaultStatementBytes
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("consumer: MySQL DSN: %w", err)
	}
	cfg.InterpolateParams = true
	if o.Logger != nil {
		cfg.Logger = MySQLLogger(o.Logger)
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["sql_mode"] = "'" + SQLMode + "'"
	if cfg.Timeout == 0 {
		// Without it a dial to an unreachable host waits for the OS's TCP
		// timeout (minutes) before Write can report a retryable error.
		cfg.Timeout = 10 * time.Second
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("consumer: MySQL DSN: %w", err)
	}
	db := sql.OpenDB(conn)
	// Both limits equal: MySQL must never see more than poolSize connections
	// from us, and idle ones are kept rather than reopened per batch.
	db.SetMaxOpenConns(poolSize)
	db.SetMaxIdleConns(poolSize)

	s := &MySQL{db: db, ledger: QuoteName(o.LedgerTable), softBytes: o.StatementBytes}
	if err := s.setup(ctx, cfg.MaxAllowedPacket); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// CheckDSN reports whether dsn is a valid go-sql-driver/mysql DSN, so a
// typo fails at start-up instead of in an endless retry loop.
func CheckDSN(dsn string) error {
	if _, err := mysql.ParseDSN(dsn); err != nil {
		return fmt.Errorf("consumer: MySQL DSN: %w", err)
	}
	return nil
}

// setup creates the ledger and learns the largest statement MySQL accepts.
func (s *MySQL) setup(ctx context.Context, clientPacket int) error {
	// VARBINARY: batch IDs compare byte for byte; a case-insensitive
	// collation could make two IDs collide.
	ddl := "CREATE TABLE IF NOT EXISTS " + s.ledger + ` (
		batch_id VARBINARY(255) NOT NULL PRIMARY KEY,
		table_name VARCHAR(64) NOT NULL,
		row_count INT UNSIGNED NOT NULL,
		committed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`
	if _, err := s.db.ExecContext(ctx, ddl); err != nil {
		// Without CREATE the statement fails even when the table exists
		// (MySQL checks privileges first); an existing ledger will do.
		if !isDenied(err) {
			return classifyOp("create ledger table", err)
		}
		if _, serr := s.db.ExecContext(ctx, "SELECT 1 FROM "+s.ledger+" LIMIT 0"); serr != nil {
			return fmt.Errorf("consumer: the MySQL user cannot create the ledger table %s (GRANT CREATE on the database, once): %w", s.ledger, err)
		}
	}
	if err := s.checkPrivileges(ctx); err != nil {
		return err
	}
	var packet int
	if err := s.db.QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&packet); err != nil {
		return classifyOp("read max_allowed_packet", err)
	}
	if clientPacket > 0 && clientPacket < packet {
		packet = clientPacket // the driver refuses bigger packets itself
	}
	// Leave room for the command byte and our own estimate's slack.
	s.hardBytes = packet - 1024
	s.softBytes = min(s.softBytes, s.hardBytes)
	return nil
}

// checkPrivileges does to the ledger, in a transaction it rolls back,
// what the sink will do: INSERT a record (every batch), SELECT it
// (settlement after a restart), DELETE it (pruning). The first two are
// required: it fails naming the missing privilege. Without DELETE the
// sink works but the ledger is never pruned: PruneDenied reports it.
func (s *MySQL) checkPrivileges(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return classifyOp("check privileges", err)
	}
	defer tx.Rollback()
	var r [8]byte
	rand.Read(r[:])
	id := fmt.Sprintf("mullet-privilege-check-%x", r)
	steps := []struct{ priv, why, query string }{
		{"INSERT", "every batch records its ID there", "INSERT INTO " + s.ledger + " (batch_id, table_name, row_count) VALUES (?, '', 0)"},
		{"SELECT", "settlement reads it after a restart", "SELECT batch_id FROM " + s.ledger + " WHERE batch_id = ?"},
		{"DELETE", "pruning deletes the records no longer needed", "DELETE FROM " + s.ledger + " WHERE batch_id = ?"},
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.query, id); err != nil {
			if !isDenied(err) {
				return classifyOp("check privileges ("+st.priv+")", err)
			}
			denied := fmt.Errorf("consumer: the MySQL user lacks %s on the ledger table %s (%s): %w", st.priv, s.ledger, st.why, err)
			if st.priv == "DELETE" {
				s.pruneDenied = denied
				return nil
			}
			return denied
		}
	}
	return nil
}

// PruneDenied returns why Forget will fail, if the start-up check found
// DELETE on the ledger denied; the sink works, but the ledger grows by a
// row per batch until someone grants it.
func (s *MySQL) PruneDenied() error { return s.pruneDenied }

// isDenied reports a missing privilege: on a table, a column or the
// database.
func isDenied(err error) bool {
	switch mysqlErrno(err) {
	case 1044, 1142, 1143:
		return true
	}
	return false
}

// Write implements Sink. The transaction inserts the ledger record first, so
// a retry of a committed batch stops at the duplicate key before sending
// any rows, and two concurrent attempts at one ID serialise on its row lock.
// The rows go as multi-row INSERTs, one per set of columns, split at
// StatementBytes: rows with the same columns keep their order, and each set
// is inserted in the order of its first item. Items are parsed and every
// statement built before a connection is taken: a poison item is found
// without touching MySQL.
//
// Literals are rendered by the sink rather than sent as ? placeholders for
// the driver's interpolateParams: the same bytes reach the wire without
// the driver's per-argument conversions, and BenchmarkMySQLSink shows more
// rows/s (docs/consumer.md).
func (s *MySQL) Write(ctx context.Context, b Batch) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := checkBatch(b); err != nil {
		return err
	}
	rows, err := parseItems(b.Items)
	if err != nil {
		return err
	}
	stmts, err := s.build(b.Table, rows)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err, b.Table, nil)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO "+s.ledger+" (batch_id, table_name, row_count) VALUES (?, ?, ?)",
		b.ID, b.Table, len(b.Items))
	if err != nil {
		tx.Rollback()
		if mysqlErrno(err) == 1062 {
			return ErrAlreadyCommitted
		}
		// Never a RowError or TableError: the ledger is ours, not the item's.
		return classifyOp("insert into ledger", err)
	}
	for i := range stmts {
		if _, err := tx.ExecContext(ctx, stmts[i].query, stmts[i].args...); err != nil {
			tx.Rollback()
			return classify(err, b.Table, &stmts[i])
		}
	}
	// A lost connection here leaves the outcome unknown; it is retryable
	// because the ledger turns the retry into ErrAlreadyCommitted if the
	// COMMIT did happen.
	if err := tx.Commit(); err != nil {
		return classify(err, b.Table, nil)
	}
	return nil
}

// Committed implements Sink.
func (s *MySQL) Committed(ctx context.Context, ids []string) (map[string]bool, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	found := make(map[string]bool)
	for chunk := range slices.Chunk(ids, 1000) {
		q := "SELECT batch_id FROM " + s.ledger + " WHERE batch_id IN (" + placeholders(len(chunk)) + ")"
		rows, err := s.db.QueryContext(ctx, q, anys(chunk)...)
		if err != nil {
			return nil, classifyOp("query ledger", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, classifyOp("query ledger", err)
			}
			found[id] = true
		}
		if err := rows.Err(); err != nil {
			return nil, classifyOp("query ledger", err)
		}
		rows.Close()
	}
	return found, nil
}

// Forget implements Sink. Each chunk of 1000 ids is deleted in its own
// statement; after an error some chunks may already be gone, which is
// harmless: forgetting is idempotent.
func (s *MySQL) Forget(ctx context.Context, ids []string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	for chunk := range slices.Chunk(ids, 1000) {
		q := "DELETE FROM " + s.ledger + " WHERE batch_id IN (" + placeholders(len(chunk)) + ")"
		if _, err := s.db.ExecContext(ctx, q, anys(chunk)...); err != nil {
			return classifyOp("delete from ledger", err)
		}
	}
	return nil
}

// Stats returns the connection pool's statistics: open, in use, idle, and
// how often a Write waited for a connection (INFO consumer shows them).
func (s *MySQL) Stats() sql.DBStats { return s.db.Stats() }

// Close closes every connection; calls in progress finish first.
func (s *MySQL) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.db.Close()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func anys(ids []string) []any {
	a := make([]any, len(ids))
	for i, id := range ids {
		a[i] = id
	}
	return a
}

// A statement is one INSERT of some rows of a batch.
type statement struct {
	query string
	args  []any // only with placeholders
	rows  int   // how many rows it inserts
	item  int   // the item index of its row, when rows == 1
}

// A group is the rows of a batch sharing one set of columns.
type group struct {
	cols  []string // in the order of the group's first row
	items []int    // indexes into the batch
}

// maxPlaceholders is MySQL's limit on ? markers in one prepared statement.
// With interpolateParams nothing is prepared, but a statement must stay
// valid if someone turns it off.
const maxPlaceholders = 65535

// build groups rows by column set, in order of first appearance, and
// renders each group as INSERTs no bigger than softBytes. A row that alone
// exceeds max_allowed_packet is poison.
func (s *MySQL) build(table string, rows []Row) ([]statement, error) {
	var groups []*group
	byKey := map[string]*group{}
	var last *group
	for i, r := range rows {
		// Fast path: producers send the same keys in the same order.
		if last != nil && slices.Equal(last.cols, r.Columns) {
			last.items = append(last.items, i)
			continue
		}
		sorted := slices.Clone(r.Columns)
		slices.Sort(sorted)
		key := strings.Join(sorted, "\x00") // NUL cannot occur in a name
		g := byKey[key]
		if g == nil {
			g = &group{cols: r.Columns}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.items = append(g.items, i)
		last = g
	}

	var stmts []statement
	for _, g := range groups {
		head := make([]byte, 0, 64)
		head = append(head, "INSERT INTO "...)
		head = appendName(head, table)
		head = append(head, " ("...)
		for j, c := range g.cols {
			if j > 0 {
				head = append(head, ',')
			}
			head = appendName(head, c)
		}
		head = append(head, ") VALUES "...)

		buf := slices.Clone(head)
		var args []any
		st := statement{}
		flush := func() {
			st.query = string(buf)
			st.args = args
			stmts = append(stmts, st)
			buf, args, st = append(buf[:0:0], head...), nil, statement{}
		}
		for _, i := range g.items {
			mark := len(buf)
			if st.rows > 0 {
				buf = append(buf, ',')
			}
			buf, args = s.appendRow(buf, args, g.cols, rows[i])
			if len(buf)-mark+len(head) > s.hardBytes {
				return nil, &RowError{Index: i, Reason: fmt.Sprintf(
					"row of %d bytes does not fit max_allowed_packet (%d bytes)", len(buf)-mark, s.hardBytes+1024)}
			}
			if st.rows > 0 && (len(buf) > s.softBytes || len(args) > maxPlaceholders) {
				// Move this row to a fresh statement.
				row := slices.Clone(buf[mark+1:])
				var rowArgs []any
				if s.placeholders {
					rowArgs = slices.Clone(args[len(args)-len(g.cols):])
					args = args[:len(args)-len(g.cols)]
				}
				buf = buf[:mark]
				flush()
				buf = append(buf, row...)
				args = rowArgs
			}
			st.rows++
			st.item = i
		}
		flush()
	}
	return stmts, nil
}

// appendRow renders one row's values in the order of cols, as literals or
// as placeholders plus args.
func (s *MySQL) appendRow(buf []byte, args []any, cols []string, r Row) ([]byte, []any) {
	buf = append(buf, '(')
	same := slices.Equal(cols, r.Columns)
	for j, c := range cols {
		if j > 0 {
			buf = append(buf, ',')
		}
		v := r.Values[j]
		if !same {
			v = r.Values[indexOf(r.Columns, c)]
		}
		if s.placeholders {
			buf = append(buf, '?')
			if v.Kind == Null {
				args = append(args, nil)
			} else {
				args = append(args, v.Text)
			}
			continue
		}
		buf = appendLiteral(buf, v)
	}
	return append(buf, ')'), args
}

// appendLiteral renders v as SQL. Numbers go unquoted so MySQL reads them
// as exact DECIMAL/integer literals (ParseRow guarantees they match JSON's
// number grammar, so they cannot inject anything). Strings are quoted and
// backslash-escaped as go-sql-driver's interpolateParams does, which is
// correct under SQLMode (no NO_BACKSLASH_ESCAPES) and an ASCII-compatible
// connection charset.
func appendLiteral(buf []byte, v Value) []byte {
	switch v.Kind {
	case Null:
		return append(buf, "NULL"...)
	case Number, Bool:
		return append(buf, v.Text...)
	}
	buf = append(buf, '\'')
	s := v.Text
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case 0:
			buf = append(buf, '\\', '0')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case 0x1a:
			buf = append(buf, '\\', 'Z')
		case '\'', '"', '\\':
			buf = append(buf, '\\', c)
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '\'')
}

// MySQL error numbers by what they mean for the batch. Numbers are shared
// by MySQL and MariaDB unless noted.
var (
	// poisonErrnos are errors caused by one row's content: retrying the
	// same row fails the same way; another row would succeed.
	poisonErrnos = map[uint16]string{
		1048: "column cannot be null",
		1054: "unknown column",
		1062: "duplicate entry",
		1110: "column specified twice", // keys differing only in case
		1138: "invalid use of NULL",
		1153: "packet bigger than max_allowed_packet",
		1169: "unique constraint violation",
		1216: "foreign key: no parent row",
		1217: "foreign key: row is referenced",
		1263: "NULL in NOT NULL column",
		1264: "out of range value",
		1265: "data truncated",
		1292: "incorrect or truncated value",
		1300: "invalid character string",
		1364: "field has no default value",
		1366: "incorrect value",
		1367: "illegal value",
		1406: "data too long",
		1416: "cannot get geometry object",
		1451: "foreign key: row is referenced",
		1452: "foreign key: no parent row",
		1690: "value out of range",
		1859: "duplicate entry with foreign key",
		3140: "invalid JSON text",         // MySQL
		3819: "check constraint violated", // MySQL
		4025: "check constraint failed",   // MariaDB
	}
	// retryableErrnos are errors of the moment: the same batch may succeed
	// later.
	retryableErrnos = map[uint16]bool{
		1021: true, // disk full
		1040: true, // too many connections
		1053: true, // server shutdown in progress
		1114: true, // table is full
		1158: true, // network read error
		1159: true, // network read timeout
		1160: true, // network write error
		1161: true, // network write timeout
		1180: true, // error during COMMIT
		1181: true, // error during ROLLBACK
		1205: true, // lock wait timeout
		1213: true, // deadlock
		1290: true, // --read-only (failover in progress)
		1317: true, // query interrupted
		1637: true, // too many active concurrent transactions
		1792: true, // read-only transaction
		1836: true, // read-only mode
		1927: true, // connection killed (MariaDB)
		1969: true, // max_statement_time exceeded (MariaDB)
		2006: true, // server has gone away
		2013: true, // lost connection during query
		3024: true, // max_execution_time exceeded (MySQL)
		3572: true, // NOWAIT lock
		4031: true, // disconnected for inactivity (MySQL)
	}
)

func mysqlErrno(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// classify sorts a database error for the caller (see Sink). st is the
// statement that failed, nil for the ledger, transaction control and
// queries; table is "" for errors that cannot be the batch's table.
func classify(err error, table string, st *statement) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch {
		case st != nil && poisonErrnos[me.Number] != "":
			idx := -1
			if st.rows == 1 {
				idx = st.item
			}
			return &RowError{Index: idx, Reason: me.Message, Err: err}
		case table != "" && me.Number == 1146:
			return &TableError{Table: table, Reason: "no such table: " + me.Message, Err: err}
		case retryableErrnos[me.Number]:
			return retryable(err)
		}
		return fmt.Errorf("consumer: %w", err)
	}
	if st != nil && errors.Is(err, mysql.ErrPktTooLarge) {
		// Our size estimate was wrong; the row(s) cannot go in one packet.
		idx := -1
		if st.rows == 1 {
			idx = st.item
		}
		return &RowError{Index: idx, Reason: err.Error(), Err: err}
	}
	if connectionLost(err) {
		return retryable(err)
	}
	return fmt.Errorf("consumer: %w", err)
}

// classifyOp classifies an error of the sink's own bookkeeping (the ledger,
// setup), which is never the item's fault: retryable or plain.
func classifyOp(op string, err error) error {
	if IsRetryable(classify(err, "", nil)) {
		return fmt.Errorf("%w: %s: %w", ErrRetryable, op, err)
	}
	return fmt.Errorf("consumer: %s: %w", op, err)
}

// connectionLost reports errors that mean "the server or the network is
// not there right now", as go-sql-driver and the net package report them.
func connectionLost(err error) bool {
	for _, target := range []error{
		driver.ErrBadConn,    // the driver knows nothing was sent
		mysql.ErrInvalidConn, // the connection broke mid-command
		mysql.ErrMalformPkt,  // a torn packet from a dying server
		sql.ErrConnDone,      // the connection went away under the tx
		sql.ErrTxDone,        // ctx ended and database/sql rolled back
		io.EOF,               // server closed the connection
		io.ErrUnexpectedEOF,  // ... mid-packet
		context.DeadlineExceeded,
		context.Canceled, // the caller is leaving; the batch is not done
		syscall.ECONNREFUSED,
		syscall.ECONNRESET,
		syscall.EPIPE,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne)
}
