package consumer

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The layout of sink.db:
//
//	tables/<table>/<uint64 big-endian sequence> = row as a JSON object
//	ledger/<batch ID>                           = {"table":..,"rows":..,"committed_at":..}
//
// Rows are keyed by the table bucket's NextSequence, so a cursor walks them
// in insertion order. A row's JSON holds the values as MySQL would store
// them (see Kind): true is 1, a nested object is a string of its JSON text.
// The ledger and the rows of a batch are written in one bbolt transaction.
var (
	bucketTables = []byte("tables")
	bucketLedger = []byte("ledger")
)

// BoltFile is the sink's file name inside mullet's --dir.
const BoltFile = "sink.db"

// ErrSinkLocked is returned by NewBolt and DumpTable when another process,
// normally a running mullet, holds the file. bbolt allows one writer
// process, and it keeps readers out while it writes.
var ErrSinkLocked = errors.New("consumer: sink.db is in use by a running mullet")

// ErrNoTable is returned by DumpTable when the file holds no such table.
var ErrNoTable = errors.New("consumer: no such table in sink.db")

// DefaultBoltTimeout is how long NewBolt and DumpTable wait for the file's
// lock before returning ErrSinkLocked.
const DefaultBoltTimeout = time.Second

// BoltOptions configures NewBolt. The zero value and nil mean defaults.
type BoltOptions struct {
	// Timeout is how long to wait for the file lock. 0 means
	// DefaultBoltTimeout.
	Timeout time.Duration
}

// Bolt is a Sink writing into an embedded bbolt file, for deployments
// without MySQL. Every Write is one bbolt transaction with one fsync, so
// batches, not single rows, amortise it. Bolt is safe for concurrent use;
// bbolt runs one write transaction at a time.
type Bolt struct {
	db     *bolt.DB
	closed atomic.Bool
}

// NewBolt opens or creates the sink file at path (by convention
// <dir>/sink.db). It returns ErrSinkLocked if another process holds it.
func NewBolt(path string, opts *BoltOptions) (*Bolt, error) {
	db, err := openBolt(path, opts, false)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketTables); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(bucketLedger)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("consumer: init %s: %w", path, err)
	}
	return &Bolt{db: db}, nil
}

func openBolt(path string, opts *BoltOptions, readOnly bool) (*bolt.DB, error) {
	timeout := DefaultBoltTimeout
	if opts != nil && opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	// Without a timeout bbolt waits for the lock forever: a second mullet
	// or a dump while the server runs would hang instead of explaining.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: readOnly})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w (%s)", ErrSinkLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("consumer: open %s: %w", path, err)
	}
	return db, nil
}

// ledgerRecord is the value of a ledger entry.
type ledgerRecord struct {
	Table       string    `json:"table"`
	Rows        int       `json:"rows"`
	CommittedAt time.Time `json:"committed_at"`
}

// Write implements Sink. ctx is only checked before the transaction starts:
// a bbolt transaction cannot be interrupted, and it is short.
func (s *Bolt) Write(ctx context.Context, b Batch) error {
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
	// Encode outside the transaction, which holds the writer lock.
	vals := make([][]byte, len(rows))
	for i, r := range rows {
		vals[i] = appendRowJSON(nil, r)
	}
	rec, err := json.Marshal(ledgerRecord{Table: b.Table, Rows: len(rows), CommittedAt: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return retryable(err)
	}
	already := false
	err = s.db.Update(func(tx *bolt.Tx) error {
		ledger := tx.Bucket(bucketLedger)
		if ledger.Get([]byte(b.ID)) != nil {
			already = true
			return nil
		}
		t, err := tx.Bucket(bucketTables).CreateBucketIfNotExists([]byte(b.Table))
		if err != nil {
			return err
		}
		for _, v := range vals {
			seq, err := t.NextSequence()
			if err != nil {
				return err
			}
			if err := t.Put(binary.BigEndian.AppendUint64(nil, seq), v); err != nil {
				return err
			}
		}
		return ledger.Put([]byte(b.ID), rec)
	})
	if err != nil {
		// A failed write or fsync (disk full, I/O error) rolls the whole
		// transaction back; the batch may succeed once space is freed.
		return retryable(fmt.Errorf("consumer: write %s: %w", s.db.Path(), err))
	}
	if already {
		return ErrAlreadyCommitted
	}
	return nil
}

// Committed implements Sink.
func (s *Bolt) Committed(ctx context.Context, ids []string) (map[string]bool, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	found := make(map[string]bool)
	err := s.db.View(func(tx *bolt.Tx) error {
		ledger := tx.Bucket(bucketLedger)
		for _, id := range ids {
			if ledger.Get([]byte(id)) != nil {
				found[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("consumer: read ledger: %w", err)
	}
	return found, nil
}

// Forget implements Sink.
func (s *Bolt) Forget(ctx context.Context, ids []string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		ledger := tx.Bucket(bucketLedger)
		for _, id := range ids {
			if err := ledger.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return retryable(fmt.Errorf("consumer: prune ledger: %w", err))
	}
	return nil
}

// Close closes the file, waiting for transactions in progress.
func (s *Bolt) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.db.Close()
}

// DumpTable writes the rows of table in the sink file at path to w as JSON
// lines, in insertion order. It opens the file read-only and returns
// ErrSinkLocked while a running mullet holds it, ErrNoTable if the table has
// never received a row.
func DumpTable(path, table string, w io.Writer) error {
	db, err := openBolt(path, nil, true)
	if err != nil {
		return err
	}
	defer db.Close()
	bw := bufio.NewWriter(w)
	err = db.View(func(tx *bolt.Tx) error {
		tables := tx.Bucket(bucketTables)
		var t *bolt.Bucket
		if tables != nil {
			t = tables.Bucket([]byte(table))
		}
		if t == nil {
			return fmt.Errorf("%w: %s", ErrNoTable, shortQuote(table))
		}
		return t.ForEach(func(_, v []byte) error {
			bw.Write(v)
			return bw.WriteByte('\n')
		})
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// appendRowJSON renders r as a JSON object, keys in the row's order.
func appendRowJSON(buf []byte, r Row) []byte {
	buf = append(buf, '{')
	for i, c := range r.Columns {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, c)
		buf = append(buf, ':')
		switch v := r.Values[i]; v.Kind {
		case Null:
			buf = append(buf, "null"...)
		case Number, Bool:
			buf = append(buf, v.Text...)
		default:
			buf = appendJSONString(buf, v.Text)
		}
	}
	return append(buf, '}')
}

// appendJSONString quotes s, which is valid UTF-8 (ParseRow ensures it),
// escaping only what JSON requires: unlike encoding/json it leaves <, >
// and & alone, so dumps stay readable.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c < 0x20:
			buf = append(buf, `\u00`...)
			buf = append(buf, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		case c < utf8.RuneSelf:
			buf = append(buf, c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, `\ufffd`...)
			} else {
				buf = append(buf, s[i:i+size]...)
			}
			i += size - 1
		}
	}
	return append(buf, '"')
}
