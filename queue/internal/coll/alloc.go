package coll

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"sort"
	"unsafe"
)

// Limits are the encoding thresholds, Redis's *-max-listpack-* and
// set-max-intset-entries directives. A collection reads them through the
// pointer it was made with at every write, so CONFIG SET takes effect for
// the next conversion, as in Redis; a collection never converts back down.
// Change them only under the lock that guards the collections.
type Limits struct {
	HashMaxListpackEntries int // hash-max-listpack-entries, default 128
	HashMaxListpackValue   int // hash-max-listpack-value (bytes), default 64
	SetMaxIntsetEntries    int // set-max-intset-entries, default 512
	ZsetMaxListpackEntries int // zset-max-listpack-entries, default 128
	ZsetMaxListpackValue   int // zset-max-listpack-value (bytes), default 64
}

// DefaultLimits returns Redis 7.0's defaults.
func DefaultLimits() Limits {
	return Limits{
		HashMaxListpackEntries: 128,
		HashMaxListpackValue:   64,
		SetMaxIntsetEntries:    512,
		ZsetMaxListpackEntries: 128,
		ZsetMaxListpackValue:   64,
	}
}

// Epochs let a snapshot (the AOF rewrite) read collections while writers
// keep going, as queue's lists do: every buffer a writer may change in
// place is stamped with Cur when allocated; Freeze makes every existing
// buffer shared, and a writer copies a shared buffer before changing it.
// Buffers that are only ever appended to past what a snapshot saw (the
// arenas of big collections) need no stamp. One Epochs serves a whole
// keyspace; the zero value is not usable, use NewEpochs.
type Epochs struct {
	Cur    uint32 // stamped on new buffers
	Frozen uint32 // buffers with epoch <= Frozen are shared; 0: none
}

// NewEpochs returns epochs with nothing shared.
func NewEpochs() *Epochs { return &Epochs{Cur: 1} }

// Freeze marks every buffer allocated so far as shared with a snapshot.
func (e *Epochs) Freeze() { e.Frozen = e.Cur; e.Cur++ }

// Thaw ends sharing: the last snapshot was released.
func (e *Epochs) Thaw() { e.Frozen = 0 }

func (e *Epochs) shared(epoch uint32) bool { return e.Frozen != 0 && epoch <= e.Frozen }

// Memory is counted the way the Go allocator hands it out, as queue's
// memory.go does (the integration can share one copy of these helpers).

var sizeClasses = func() []int {
	var cs []int
	for n := 1; n <= maxSmallSize; {
		c := cap(slices.Grow([]byte(nil), n))
		cs = append(cs, c)
		n = c + 1
	}
	return cs
}()

const (
	maxSmallSize = 32768
	pageSize     = 8192
)

// heapSize is what the allocator takes for an object of n bytes.
func heapSize(n int) int64 {
	if n <= 0 {
		return 0
	}
	if n > maxSmallSize {
		return int64((n + pageSize - 1) &^ (pageSize - 1))
	}
	return int64(sizeClasses[sort.SearchInts(sizeClasses, n)])
}

// allocBuf returns a zero-length buffer whose capacity is n rounded up to
// what the allocator hands out, so cap() is the exact heap cost.
func allocBuf(n int) []byte { return slices.Grow([]byte(nil), n) }

// sliceBytes is what the backing array of a slice of cap c elements of
// size sz costs.
func sliceBytes(c int, sz uintptr) int64 { return heapSize(c * int(sz)) }

var (
	bytesHeader = unsafe.Sizeof([]byte(nil))
)

// seed keys every hash of the process: big collections place members by
// it, and SCAN cursors are positions in its order, so it must not change
// while the process runs.
var seed = maphash.MakeSeed()

func hashOf(b []byte) uint64 { return maphash.Bytes(seed, b) }

// Packed entries, in small encodings and in arenas: the length as a
// uvarint, then the bytes.

func entrySize(n int) int { return uvarintLen(uint64(n)) + n }

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func appendEntry(dst, v []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}

// readEntry decodes the entry at p: its bytes (capacity clipped, so an
// append by the caller cannot write into the buffer) and the offset past it.
func readEntry(b []byte, p int) ([]byte, int) {
	var n uint64
	if c := b[p]; c < 0x80 {
		n, p = uint64(c), p+1
	} else {
		var k int
		n, k = binary.Uvarint(b[p:])
		p += k
	}
	end := p + int(n)
	return b[p:end:end], end
}

// ParseInt reports whether b is an integer exactly as Redis's string2ll
// accepts it (and so whether a set member can live in an intset): optional
// '-', decimal digits, no leading zeros, no '+', no spaces, within int64,
// and not "-0".
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	s := b
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	var u uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	case neg && u <= 1<<63:
		return int64(-u), true
	}
	return 0, false
}
