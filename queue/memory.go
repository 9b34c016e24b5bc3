package queue

import (
	"slices"
	"sort"
	"unsafe"
)

// Memory accounting. UsedMemory is what the data costs the Go heap, counted
// the way the allocator hands memory out, so that maxmemory bounds the
// process and not some idealised byte count:
//
//   - list items: their chunk buffers (queue/list.go), whose sizes are
//     picked from the allocator's size classes so the count is exact, plus
//     each list's ring of chunk descriptors and its header;
//   - strings: the capacity of the byte slice, which the runtime rounded up
//     to its size class when it was cloned;
//   - every key: its value header and the bytes of its name;
//   - the maps of keys and of TTLs: modelled from the Go runtime's swiss
//     tables (see mapModel), because for many small keys the map slots cost
//     as much as the keys themselves;
//   - a big database's SCAN index (scanindex.go): its blocks and block
//     list, counted exactly.
//
// What it does not count: connection buffers, the log's buffers, goroutine
// stacks, garbage not yet collected, and chunk buffers a live Snapshot still
// reads after the data moved on (the AOF rewrite). Those are the runtime's
// overhead, which the soft memory limit set from maxmemory (cmd/mullet)
// leaves headroom for. Redis likewise leaves the fork's copy-on-write pages
// out of used_memory.
//
// Ensures: every operation adds to the counter exactly what it later takes
// away, so deleting every key brings UsedMemory back to its value at start
// (TestMemoryReturnsToStart checks each path).

// sizeClasses are the Go allocator's small object sizes, probed at start:
// slices.Grow rounds a request up to its size class.
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
	maxSmallSize = 32768 // the runtime's largest size class
	pageSize     = 8192  // large objects take whole pages
	tinySize     = 16    // pointer-free objects below this share 16-byte blocks
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

// stringSize is what a string of n bytes costs. Strings are pointer-free,
// and the runtime packs those shorter than 16 bytes into shared 16-byte
// blocks, as many whole ones as fit: a 10-byte key takes a block to
// itself, a 5-byte one a third of one.
func stringSize(n int) int64 {
	if n <= 0 {
		return 0
	}
	if n < tinySize {
		return int64(tinySize / (tinySize / n))
	}
	return heapSize(n)
}

// The fixed parts of a key, measured from the types themselves.
var (
	valueHeader = heapSize(int(unsafe.Sizeof(value{})))
	listHeader  = heapSize(int(unsafe.Sizeof(list{})))
	chunkSlot   = int(unsafe.Sizeof(chunk{}))

	// A swiss-table group is 8 control bytes and 8 slots; a slot is the
	// key and the element laid out as a struct (a zero-size element still
	// pads the slot).
	keysGroup = 8 + 8*int(unsafe.Sizeof(struct {
		k string
		v *value
	}{}))
	expiresGroup = 8 + 8*int(unsafe.Sizeof(struct {
		k string
		v struct{}
	}{}))
)

// keyCost is what key holding v costs, its map slots apart (see
// mapModel): the value header, the key's bytes and the value's own
// memory. A key given a TTL after it was made (EXPIRE) has a second copy
// of its name in the TTL map, which is not counted: a few bytes beside the
// TTL map's slot, which is.
func keyCost(key string, v *value) int64 {
	return valueHeader + stringSize(len(key)) + v.memSize()
}

// memSize is the memory v's data takes.
func (v *value) memSize() int64 {
	if v.kind == KindList {
		return v.list.memSize()
	}
	return int64(cap(v.str))
}

// ringBytes is what a ring of n chunk descriptors takes.
func ringBytes(n int) int64 { return heapSize(n * chunkSlot) }

// A mapModel follows the capacity of one Go map as the runtime grows it
// (internal/runtime/maps): a map of up to 8 entries is one group; past
// that it is a table that doubles when 7/8 full, split into tables of at
// most 1024 slots that each allocate their groups as one array. A Go map
// never gives memory back when keys are deleted, so the model's capacity
// only goes up until the map is replaced (see db.reclaim). Tombstones can
// make the real map grow a little earlier than the model.
type mapModel struct {
	slots int   // modelled capacity: 0 (nothing allocated yet), 8, 16, 32...
	bytes int64 // heap bytes for slots, as counted in UsedMemory
}

const maxTableSlots = 1024

// grow brings the model up to n entries and returns the bytes it added.
func (m *mapModel) grow(n, group int) int64 {
	if n <= m.limit() {
		return 0
	}
	for n > m.limit() {
		if m.slots == 0 {
			m.slots = 8
		} else {
			m.slots *= 2
		}
	}
	old := m.bytes
	m.bytes = mapBytes(m.slots, group)
	return m.bytes - old
}

// limit is how many entries the modelled capacity holds before it grows.
func (m *mapModel) limit() int {
	if m.slots <= 8 {
		return m.slots
	}
	return m.slots * 7 / 8
}

// mapBytes is the heap a map with the given capacity takes: its groups,
// and past one group, the table headers and the directory of tables.
func mapBytes(slots, group int) int64 {
	switch {
	case slots == 0:
		return 0
	case slots <= 8:
		return heapSize(group)
	}
	tables := max(1, slots/maxTableSlots)
	per := slots / tables
	const tableHeader = 32 // internal/runtime/maps.table
	return int64(tables)*(heapSize(per/8*group)+heapSize(tableHeader)) + heapSize(8*tables)
}

// addUsed changes the accounted bytes and keeps the peak. Call with the
// lock held (peak is only written under it).
func (ks *Keyspace) addUsed(d int64) {
	n := ks.used.Add(d)
	if d > 0 && ks.base+n > ks.peak.Load() {
		ks.peak.Store(ks.base + n)
	}
}

// putKey stores v under key in d and accounts for it; key must be absent.
func (ks *Keyspace) putKey(d *db, key string, v *value) {
	d.keys[key] = v
	delta := keyCost(key, v) + d.keysMem.grow(len(d.keys), keysGroup)
	if v.expire != 0 {
		d.expires[key] = struct{}{}
		delta += d.expiresMem.grow(len(d.expires), expiresGroup)
	}
	switch {
	case d.scan != nil:
		delta += d.scan.insert(key)
	case len(d.keys) >= scanIndexOn:
		d.scan = newScanIndex(d.keys)
		delta += d.scan.bytes
	}
	ks.addUsed(delta)
}

// dropKey removes key, which holds v, from d and accounts for it.
func (ks *Keyspace) dropKey(d *db, key string, v *value) {
	delete(d.keys, key)
	if v.expire != 0 {
		delete(d.expires, key)
	}
	freed := keyCost(key, v) + d.reclaim()
	if d.scan != nil {
		if len(d.keys) < scanIndexOff {
			freed += d.scan.bytes
			d.scan = nil
		} else {
			freed += d.scan.remove(key)
		}
	}
	ks.addUsed(-freed)
}

// ttlChanged accounts for v's TTL going from had (an expiry or 0) to
// v.expire, keeping d.expires in step.
func (ks *Keyspace) ttlChanged(d *db, key string, v *value, had int64) {
	switch {
	case had == 0 && v.expire != 0:
		d.expires[key] = struct{}{}
		ks.addUsed(d.expiresMem.grow(len(d.expires), expiresGroup))
	case had != 0 && v.expire == 0:
		delete(d.expires, key)
		ks.addUsed(-d.reclaim())
	}
}

// reclaim replaces maps that have become empty, or mostly empty and big,
// with fresh ones, since a Go map keeps its capacity when keys are deleted
// (Redis shrinks its hash tables in serverCron for the same reason). It
// returns the bytes freed. Copying what remains of a sparse map is paid
// for by the deletions that made it sparse: at most 1/32 of its capacity.
func (d *db) reclaim() int64 {
	freed := int64(0)
	if n := len(d.keys); n == 0 && d.keysMem.slots > 0 || d.keysMem.slots >= 16*maxTableSlots && n < d.keysMem.slots/32 {
		keys := make(map[string]*value)
		for k, v := range d.keys {
			keys[k] = v
		}
		old := d.keysMem.bytes
		d.keys, d.keysMem = keys, mapModel{}
		freed += old - d.keysMem.grow(n, keysGroup)
	}
	if n := len(d.expires); n == 0 && d.expiresMem.slots > 0 || d.expiresMem.slots >= 16*maxTableSlots && n < d.expiresMem.slots/32 {
		expires := make(map[string]struct{})
		for k := range d.expires {
			expires[k] = struct{}{}
		}
		old := d.expiresMem.bytes
		d.expires, d.expiresMem = expires, mapModel{}
		freed += old - d.expiresMem.grow(n, expiresGroup)
	}
	return freed
}

// flushed accounts for every key of d going away at once and gives d
// fresh maps.
func (ks *Keyspace) flushed(d *db) {
	var freed int64
	for k, v := range d.keys {
		freed += keyCost(k, v)
	}
	freed += d.keysMem.bytes + d.expiresMem.bytes
	if d.scan != nil {
		freed += d.scan.bytes
		d.scan = nil
	}
	d.keys = make(map[string]*value)
	d.expires = make(map[string]struct{})
	d.keysMem, d.expiresMem = mapModel{}, mapModel{}
	ks.addUsed(-freed)
}

// spares are chunk buffers of the full sizes (chunkSizes) that emptied,
// kept for the next chunk a push opens. A queue at its cap pops and pushes
// all the time; without reuse every chunk popped is garbage, and the heap
// grows by what the consumers drain until the collector runs, so that the
// process's footprint depends on the GC's pace rather than on maxmemory.
// With reuse, steady churn allocates nothing. At most spareChunkMax bytes are
// kept; they are not in UsedMemory (a pop must bring used memory down, so
// writes resume), and are part of the fixed overhead the runtime's memory
// limit leaves room for (cmd/mullet applyMemoryLimit).
//
// A buffer is reused only after the Tx that freed it ends: items a pop
// returned alias the buffer and stay valid until then. A buffer a live
// Snapshot may read (see epochs) is never reused.
type spares struct {
	free    [len(chunkSizes)][][]byte
	pending [][]byte // freed during the current Tx
	bytes   int      // in free and pending
}

const spareChunkMax = 4 << 20

// sizeIndex returns the index of n in chunkSizes, or -1.
func sizeIndex(n int) int {
	for i, c := range chunkSizes {
		if c == n {
			return i
		}
		if c > n {
			break
		}
	}
	return -1
}

// alloc returns a buffer of size bytes rounded up as allocBuf does, a
// spare one if there is one.
func (s *spares) alloc(size int) []byte {
	if i := sizeIndex(size); i >= 0 {
		if f := s.free[i]; len(f) > 0 {
			b := f[len(f)-1]
			f[len(f)-1] = nil
			s.free[i] = f[:len(f)-1]
			s.bytes -= len(b)
			return b
		}
	}
	return allocBuf(size)
}

// release offers c's buffer for reuse, unless a snapshot may read it.
func (e *epochs) release(c *chunk) {
	s := &e.spare
	if e.frozen != 0 && c.epoch <= e.frozen || s.bytes+len(c.b) > spareChunkMax || sizeIndex(len(c.b)) < 0 {
		return
	}
	s.pending = append(s.pending, c.b)
	s.bytes += len(c.b)
}

// settle makes the buffers freed during the Tx available; Tx.End calls it.
func (s *spares) settle() {
	for i, b := range s.pending {
		k := sizeIndex(len(b))
		s.free[k] = append(s.free[k], b)
		s.pending[i] = nil
	}
	s.pending = s.pending[:0]
}
