package queue

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is the type of value a key holds.
type Kind uint8

// The kinds of value. A queue server needs lists and, for the counters and
// locks queue libraries keep beside their lists, strings.
const (
	KindNone Kind = iota
	KindString
	KindList
)

// String returns the name TYPE reports.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindList:
		return "list"
	}
	return "none"
}

// Config holds the keyspace's settings. The zero value is usable: 16
// databases, no memory limit, no log.
type Config struct {
	// Databases is the number of databases SELECT can address. Zero means
	// 16, Redis's default.
	Databases int

	// MaxMemory is the most bytes the data may take, as UsedMemory counts
	// them; zero means no limit. Past it, writes that add data fail with
	// ErrFull (Redis's noeviction); nothing is evicted. It can be changed
	// while running with SetMaxMemory.
	MaxMemory int64

	// BaseMemory is what the process takes with no data, counted in
	// UsedMemory as Redis counts its own start-up allocations
	// (used_memory_startup) so that used_memory means the same thing.
	// cmd/mullet measures it at start; zero (tests) counts the data only.
	BaseMemory int64

	// Log receives every write. Nil means no persistence.
	Log Log

	// Now returns the current time; nil means time.Now. Tests set it to
	// control expiry.
	Now func() time.Time

	// CompressDepth is list-compress-depth: lists keep that many chunks
	// at each end raw and compress the others (compress.go); 0, Redis's
	// default, compresses nothing. SetCompressDepth changes it for lists
	// created afterwards, as CONFIG SET does in Redis.
	CompressDepth int
}

// Keyspace holds the databases of keys and everything that must change
// atomically with them: blocked clients, watched keys, memory accounting and
// the order of the log. One mutex guards it all; every operation runs inside
// a Tx that holds it. Operations are short (O(1) for pushes and pops), so
// one lock serves many clients, as Redis's single thread does.
type Keyspace struct {
	mu sync.Mutex // guards every field below it
	tx Tx         // the one transaction, reused: only the lock holder uses it
	db []*db
	ep epochs

	log        Log
	logRef     atomic.Pointer[logBox] // the same log, for Wait without the lock
	now        func() time.Time
	blocked    int               // waiters registered
	ready      []readyKey        // keys that got data while clients wait
	readySet   map[readyKey]bool // dedupes ready
	watching   int               // watched keys, to skip touch when zero
	snapshots  int               // live snapshots
	lastTicket uint64            // ticket of the last record appended
	replaying  bool              // loading the log: no expiry by the clock
	notify     map[dbKey][]chan struct{}
	// spare is the last list emptied by pops, kept with its ring (and its
	// key's string) for the next new list: a queue drained to empty and
	// refilled, which is what queues do all day, then allocates nothing.
	spare *value

	used      atomic.Int64 // bytes accounted for the data; see memory.go
	peak      atomic.Int64 // the most UsedMemory has been; written under mu
	base      int64        // Config.BaseMemory
	maxmemory atomic.Int64
	depth     atomic.Int64 // list-compress-depth for new lists

	// Stats, read without the lock.
	expiredKeys atomic.Int64
	keyHits     atomic.Int64
	keyMisses   atomic.Int64
}

type logBox struct{ l Log }

type readyKey struct {
	db  int
	key string
}

type dbKey struct {
	db  int
	key string
}

type db struct {
	keys    map[string]*value
	expires map[string]struct{} // keys with a TTL, sampled by the active expiry cycle
	blocked map[string]*waitList
	watched map[string][]*Watch

	// The modelled footprints of keys and expires (memory.go). They go
	// wherever the maps go (SWAPDB).
	keysMem, expiresMem mapModel

	// scan orders the keys for SCAN while there are many (scanindex.go);
	// nil below scanIndexOn keys. It goes wherever keys goes.
	scan *scanIndex
}

type value struct {
	kind   Kind
	list   *list
	str    []byte
	expire int64  // unix milliseconds; 0: no TTL
	name   string // the key, as stored in the map (set for lists; may be stale after RENAME)
}

// New returns an empty keyspace.
func New(cfg Config) *Keyspace {
	n := cfg.Databases
	if n <= 0 {
		n = 16
	}
	ks := &Keyspace{log: cfg.Log, now: cfg.Now, base: max(cfg.BaseMemory, 0)}
	ks.peak.Store(ks.base)
	ks.logRef.Store(&logBox{cfg.Log})
	if ks.now == nil {
		ks.now = time.Now
	}
	ks.ep.cur = 1
	ks.db = make([]*db, n)
	for i := range ks.db {
		ks.db[i] = newDB()
	}
	ks.maxmemory.Store(cfg.MaxMemory)
	ks.depth.Store(int64(max(cfg.CompressDepth, 0)))
	ks.tx.ks = ks
	return ks
}

func newDB() *db {
	return &db{keys: make(map[string]*value), expires: make(map[string]struct{})}
}

// Databases returns the number of databases.
func (ks *Keyspace) Databases() int { return len(ks.db) }

// SetLog installs the log (nil removes it), for turning appendonly on or
// off while running. Records already appended stay with the old log.
func (ks *Keyspace) SetLog(l Log) {
	ks.mu.Lock()
	ks.log = l
	ks.logRef.Store(&logBox{l})
	ks.mu.Unlock()
}

// Logging reports whether a log is installed.
func (ks *Keyspace) Logging() bool { return ks.logRef.Load().l != nil }

// Wait blocks until the record with ticket is as durable as the log's
// policy promises (see Log.Wait). With no log, or ticket 0, it returns at
// once.
func (ks *Keyspace) Wait(ticket uint64) error {
	l := ks.logRef.Load().l
	if l == nil || ticket == 0 {
		return nil
	}
	return l.Wait(ticket)
}

// Notify is Wait without blocking: done true (with Wait's error) if the
// record with ticket is already as durable as the policy promises, or
// cannot be; otherwise fn is called once, later, from another goroutine,
// with what Wait would return. An event loop uses it so that an fdatasync
// in flight (appendfsync always) does not stop it serving other clients.
func (ks *Keyspace) Notify(ticket uint64, fn func(error)) (done bool, err error) {
	l := ks.logRef.Load().l
	if l == nil || ticket == 0 {
		return true, nil
	}
	if n, ok := l.(Notifier); ok {
		return n.Notify(ticket, fn)
	}
	go func() { fn(l.Wait(ticket)) }()
	return false, nil
}

// WaitSyncs reports whether Wait waits for stable storage under the log's
// current fsync policy (see SyncReporter); false without a log.
func (ks *Keyspace) WaitSyncs() bool {
	r, ok := ks.logRef.Load().l.(SyncReporter)
	return ok && r.WaitSyncs()
}

// Sync blocks until the record with ticket is on stable storage (see
// Log.Sync). It returns ErrNoLog when there is no log.
func (ks *Keyspace) Sync(ctx context.Context, ticket uint64) error {
	l := ks.logRef.Load().l
	if l == nil {
		return ErrNoLog
	}
	if ticket == 0 {
		return nil
	}
	return l.Sync(ctx, ticket)
}

// SetMaxMemory changes the memory limit; 0 removes it.
func (ks *Keyspace) SetMaxMemory(n int64) { ks.maxmemory.Store(n) }

// MaxMemory returns the memory limit (0: none).
func (ks *Keyspace) MaxMemory() int64 { return ks.maxmemory.Load() }

// UsedMemory returns Redis's used_memory: Config.BaseMemory plus what the
// data costs the Go heap (see memory.go for what is counted). It is what
// maxmemory is compared with. It is safe to call without a Tx.
func (ks *Keyspace) UsedMemory() int64 { return ks.base + ks.used.Load() }

// UsedMemoryPeak returns the most UsedMemory has been since start or the
// last ResetStats (used_memory_peak). Unlike Redis's, which is sampled,
// it is exact.
func (ks *Keyspace) UsedMemoryPeak() int64 { return max(ks.peak.Load(), ks.UsedMemory()) }

// StartupMemory returns Config.BaseMemory (used_memory_startup); the data
// takes UsedMemory minus this (used_memory_dataset).
func (ks *Keyspace) StartupMemory() int64 { return ks.base }

// OverLimit reports whether a write that adds data must be refused: used
// memory is past a non-zero maxmemory (Redis's noeviction). Like Redis,
// the check is made before the command runs, so one command may take
// memory a little past the limit; and it is a strict comparison, so
// writes stop once used memory exceeds the limit, not when it reaches it.
func (ks *Keyspace) OverLimit() bool {
	m := ks.maxmemory.Load()
	return m > 0 && ks.UsedMemory() > m
}

// LogErr returns the log's sticky error, wrapped in ErrLogFailed, or nil.
func (ks *Keyspace) LogErr() error {
	l := ks.logRef.Load().l
	if l == nil {
		return nil
	}
	if err := l.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrLogFailed, err)
	}
	return nil
}

// Blocked returns the number of clients blocked on keys, exactly.
func (ks *Keyspace) Blocked() int {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.blocked
}

// Stats are keyspace counters for INFO.
type Stats struct {
	ExpiredKeys int64
	KeyHits     int64
	KeyMisses   int64
}

// Stats returns the counters.
func (ks *Keyspace) Stats() Stats {
	return Stats{ks.expiredKeys.Load(), ks.keyHits.Load(), ks.keyMisses.Load()}
}

// ResetStats zeroes the counters and brings the memory peak down to the
// memory in use (CONFIG RESETSTAT). It takes no lock, so a handler may
// call it with or without a Tx.
func (ks *Keyspace) ResetStats() {
	ks.expiredKeys.Store(0)
	ks.keyHits.Store(0)
	ks.keyMisses.Store(0)
	// A write racing with this may leave the peak a little low;
	// UsedMemoryPeak never reports less than the memory in use.
	ks.peak.Store(ks.UsedMemory())
}

// A Tx is the keyspace locked for one command or one MULTI/EXEC. Its
// methods are the keyspace's operations; values they return alias keyspace
// memory and are valid only until End.
type Tx struct {
	ks        *Keyspace
	nowMs     int64  // 0 until NowMs reads the clock
	ticket    uint64 // the last log record of this Tx
	atomic    bool   // bracket this Tx's records with MULTI/EXEC
	multiOpen bool
	argv      [][]byte // scratch for log records
	num       [2][24]byte
}

// Begin locks the keyspace and returns the transaction. Every Begin must be
// followed by End.
func (ks *Keyspace) Begin() *Tx {
	ks.mu.Lock()
	tx := &ks.tx
	tx.nowMs = 0
	tx.ticket = 0
	tx.atomic = false
	tx.multiOpen = false
	return tx
}

// Atomic marks the transaction's log records as one unit: they are written
// between MULTI and EXEC, as Redis propagates a transaction.
func (tx *Tx) Atomic() { tx.atomic = true }

// End finishes the transaction: it closes its MULTI in the log, hands data
// to blocked clients whose keys received some, and unlocks. It returns the
// log ticket to wait for before replying (0: nothing was logged).
func (tx *Tx) End() uint64 {
	ks := tx.ks
	if tx.multiOpen {
		tx.ticket = ks.log.Append(-1, argvEXEC)
		ks.lastTicket = tx.ticket
		tx.multiOpen = false
	}
	tx.atomic = false
	if len(ks.ready) > 0 {
		ks.serveReady(tx)
	}
	ks.ep.spare.settle()
	ks.ep.scratch.settle()
	t := tx.ticket
	ks.mu.Unlock()
	return t
}

// NowMs returns the transaction's clock in Unix milliseconds: read once,
// when first asked (Redis's per-command time snapshot), so the commands
// that meet no expiring key do not read the clock at all: on a VM a clock
// read is a noticeable share of an LPUSH's CPU.
func (tx *Tx) NowMs() int64 {
	if tx.nowMs == 0 {
		tx.nowMs = tx.ks.now().UnixMilli()
	}
	return tx.nowMs
}

// Databases returns the number of databases.
func (tx *Tx) Databases() int { return len(tx.ks.db) }

var (
	bMULTI     = []byte("MULTI")
	bEXEC      = []byte("EXEC")
	bDEL       = []byte("DEL")
	bLPUSH     = []byte("LPUSH")
	bRPUSH     = []byte("RPUSH")
	bLPOP      = []byte("LPOP")
	bRPOP      = []byte("RPOP")
	bLMOVE     = []byte("LMOVE")
	bLEFT      = []byte("LEFT")
	bRIGHT     = []byte("RIGHT")
	bSET       = []byte("SET")
	bPEXPIREAT = []byte("PEXPIREAT")
	bPERSIST   = []byte("PERSIST")
)

// Records that belong to no database are appended with db -1.
var (
	argvMULTI = [][]byte{bMULTI}
	argvEXEC  = [][]byte{bEXEC}
)

// emit appends one record to the log, opening the Tx's MULTI first if the
// Tx is atomic.
func (tx *Tx) emit(db int, argv [][]byte) {
	l := tx.ks.log
	if l == nil {
		return
	}
	if tx.atomic && !tx.multiOpen {
		tx.multiOpen = true
		l.Append(-1, argvMULTI)
	}
	tx.ticket = l.Append(db, argv)
	tx.ks.lastTicket = tx.ticket
}

// LogTicket returns the ticket of the last record appended to the log by
// anyone: Sync on it waits for everything written so far.
func (tx *Tx) LogTicket() uint64 { return tx.ks.lastTicket }

// logv appends the record built in tx.argv.
func (tx *Tx) logv(db int) { tx.emit(db, tx.argv) }

// itoa formats n into one of the Tx's number buffers (slot 0 or 1).
func (tx *Tx) itoa(slot int, n int64) []byte {
	return strconv.AppendInt(tx.num[slot][:0], n, 10)
}

func (tx *Tx) database(i int) (*db, error) {
	if i < 0 || i >= len(tx.ks.db) {
		return nil, ErrDBIndex
	}
	return tx.ks.db[i], nil
}

// lookup returns the live value of key, deleting it first if it expired.
func (tx *Tx) lookup(dbi int, key []byte) *value {
	d := tx.ks.db[dbi]
	v := d.keys[string(key)]
	if v == nil {
		return nil
	}
	if v.expire != 0 && v.expire <= tx.NowMs() && !tx.ks.replaying {
		tx.expireKey(dbi, string(key), v)
		return nil
	}
	return v
}

// SetReplaying marks the keyspace as replaying its log. While it is, keys
// do not expire by the clock, as Redis does not expire keys while loading:
// the log already holds the DEL of every key that expired, and a key that
// expired only by the time of the replay must still be there for the
// commands that touched it before it did (a PERSIST, a RENAME).
func (ks *Keyspace) SetReplaying(b bool) {
	ks.mu.Lock()
	ks.replaying = b
	ks.mu.Unlock()
}

// expireKey deletes an expired key and logs a DEL, as Redis propagates
// expirations so that the log replays without depending on the clock.
func (tx *Tx) expireKey(dbi int, key string, v *value) {
	tx.deleteKey(dbi, key, v)
	tx.ks.expiredKeys.Add(1)
	tx.argv = append(tx.argv[:0], bDEL, []byte(key))
	tx.logv(dbi)
}

// deleteKey removes key without logging. v must not be used afterwards:
// a list emptied by pops becomes the keyspace's spare for the next list.
func (tx *Tx) deleteKey(dbi int, key string, v *value) {
	tx.ks.dropKey(tx.ks.db[dbi], key, v)
	tx.touch(dbi, key)
	if v.kind == KindList && v.list.n == 0 {
		tx.ks.spare = v // emptied, not dropped whole: nothing else refers to it
	}
}

// touch marks watchers of key dirty (Redis's signalModifiedKey), except
// those that watched it already expired and now see it deleted: that is
// no logical change (Redis 7's touchWatchedKey).
func (tx *Tx) touch(dbi int, key string) {
	if tx.ks.watching == 0 {
		return
	}
	d := tx.ks.db[dbi]
	for _, w := range d.watched[key] {
		if wk := w.find(dbi, key); wk != nil && wk.expired {
			if _, exists := d.keys[key]; !exists {
				wk.expired = false
				continue
			}
		}
		w.dirty = true
	}
}

// newList creates an empty list under key, reusing the spare one if any.
func (tx *Tx) newList(dbi int, key []byte) *value {
	var v *value
	var k string
	if sp := tx.ks.spare; sp != nil {
		tx.ks.spare = nil
		if sp.name == string(key) {
			k = sp.name // the same queue again: even the key string is reused
		}
		*sp = value{kind: KindList, list: sp.list}
		v = sp
	} else {
		v = &value{kind: KindList, list: &list{ep: &tx.ks.ep}}
	}
	v.list.depth = tx.ks.compressDepth()
	if k == "" {
		k = string(key)
	}
	v.name = k
	tx.ks.putKey(tx.ks.db[dbi], k, v)
	return v
}

// setExpire sets or clears (ms 0) the TTL of an existing key.
func (tx *Tx) setExpire(dbi int, key string, v *value, ms int64) {
	had := v.expire
	v.expire = ms
	tx.ks.ttlChanged(tx.ks.db[dbi], key, v, had)
}

// ExpireCycle deletes up to limit expired keys, sampling keys with a TTL
// the way Redis's active expiry does, and reports how many it deleted. The
// server calls it from a ticker so keys nobody reads still go away.
func (tx *Tx) ExpireCycle(limit int) int {
	n := 0
	if tx.ks.replaying {
		return 0
	}
	for dbi, d := range tx.ks.db {
		if len(d.expires) == 0 {
			continue
		}
		checked := 0
		for k := range d.expires { // map order is random: a sample
			if checked >= limit {
				break
			}
			checked++
			v := d.keys[k]
			if v != nil && v.expire <= tx.NowMs() {
				tx.expireKey(dbi, k, v)
				n++
			}
		}
	}
	return n
}

// SetCompressDepth sets list-compress-depth for lists created from now on;
// negative means 0.
func (ks *Keyspace) SetCompressDepth(n int) { ks.depth.Store(int64(max(n, 0))) }

// compressDepth is the depth a new list gets. Depths past any list's
// chunk count all mean "compress nothing"; clamping keeps the arithmetic
// on chunk positions from overflowing.
func (ks *Keyspace) compressDepth() int { return int(min(ks.depth.Load(), 1<<30)) }
