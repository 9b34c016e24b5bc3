package command

import (
	"bytes"
	"math"
	"slices"

	"mullet/queue"
)

// SORT and SORT_RO on lists, with Redis 7.0's options, ordering and
// errors (sort.c). mullet has no sets, sorted sets or hashes: sorting a
// string is WRONGTYPE, and a "key->field" pattern finds nothing, as in
// Redis when the key holds no hash.
func init() {
	register(
		&command{name: "sort", fn: cmdSort, arity: -2, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "1.0.0", summary: "Sort the elements in a list, set or sorted set",
			complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N)."},
		&command{name: "sort_ro", fn: cmdSortRO, arity: -2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "7.0.0", summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
			complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N)."},
	)
}

const msgSortScore = "ERR One or more scores can't be converted into double"

func cmdSort(c *Session, args [][]byte)   { sortGeneric(c, args, false) }
func cmdSortRO(c *Session, args [][]byte) { sortGeneric(c, args, true) }

// sortItem is one element of the sorting vector (Redis's redisSortObject).
type sortItem struct {
	obj    []byte  // the element
	score  float64 // numeric sort key
	cmp    []byte  // ALPHA BY value (a copy); nil with hasCmp false: missing
	hasCmp bool
}

// sorter holds what sortCompare reads from Redis's globals.
type sorter struct {
	desc, alpha, byPattern, store bool
}

// compare is Redis's sortCompare. Numeric ties fall back to comparing the
// elements' bytes, so numeric output is fully determined. Without STORE,
// ALPHA compares with strcoll, which stops at a NUL; mullet collates
// bytewise, as Redis does in the C locale.
func (s *sorter) compare(a, b *sortItem) int {
	var r int
	switch {
	case !s.alpha:
		switch {
		case a.score > b.score:
			r = 1
		case a.score < b.score:
			r = -1
		default:
			r = bytes.Compare(a.obj, b.obj)
		}
	case s.byPattern:
		switch {
		case !a.hasCmp || !b.hasCmp:
			switch {
			case a.hasCmp == b.hasCmp:
				r = 0
			case !a.hasCmp:
				r = -1
			default:
				r = 1
			}
		case s.store:
			r = bytes.Compare(a.cmp, b.cmp)
		default:
			r = bytes.Compare(cString(a.cmp), cString(b.cmp))
		}
	case s.store:
		r = bytes.Compare(a.obj, b.obj)
	default:
		r = bytes.Compare(cString(a.obj), cString(b.obj))
	}
	if s.desc {
		return -r
	}
	return r
}

// lookupByPattern is Redis's lookupKeyByPattern: "#" is the element
// itself; otherwise the first '*' is replaced by the element and the
// string key of that name is read (nil, false if it is missing or not a
// string). A pattern without '*' reads nothing. "key->field" names a hash
// field: the key is still looked up (and so expired if due), but mullet
// holds no hashes, so the answer is always nil. The pattern is scanned as
// a C string, up to a NUL. val aliases keyspace memory.
func (c *Session) lookupByPattern(pattern, elem []byte, buf *[]byte) (val []byte, ok bool) {
	if len(pattern) > 0 && pattern[0] == '#' && (len(pattern) == 1 || pattern[1] == 0) {
		return elem, true
	}
	cp := cString(pattern)
	star := bytes.IndexByte(cp, '*')
	if star < 0 {
		return nil, false
	}
	end := len(pattern)
	field := false
	if f := bytes.Index(cp[star+1:], []byte("->")); f >= 0 && star+1+f+2 < len(cp) {
		end = star + 1 + f
		field = true
	}
	key := append(append(append((*buf)[:0], pattern[:star]...), elem...), pattern[star+1:end]...)
	*buf = key
	v, found, err := c.tx.Get(c.db, key)
	if field || err != nil || !found {
		return nil, false
	}
	return v, true
}

// sortScore converts a sort key as Redis does with strtod: the whole C
// string must convert, and overflow, underflow and NaN are errors. An
// empty string is 0.
func sortScore(b []byte) (float64, bool) {
	cs := cString(b)
	f, end, erange := parseCDouble(cs)
	if end != len(cs) || erange || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// sortGeneric is Redis's sortCommandGeneric for lists:
//
//	SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]
//
// Options are parsed before the key is looked at, so a syntax error wins
// over WRONGTYPE. STORE writes through Store (logged as DEL and RPUSH
// batches), or deletes the destination when the result is empty.
func sortGeneric(c *Session, args [][]byte, readonly bool) {
	var (
		srt              sorter
		limitStart       int64
		limitCount       int64 = -1
		dontSort         bool
		sortBy, storeKey []byte
		gets             [][]byte
	)
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case optIs(args[j], "asc"):
			srt.desc = false
		case optIs(args[j], "desc"):
			srt.desc = true
		case optIs(args[j], "alpha"):
			srt.alpha = true
		case optIs(args[j], "limit") && left >= 2:
			s, ok1 := parseInt(args[j+1])
			n, ok2 := parseInt(args[j+2])
			if !ok1 || !ok2 {
				c.errorReply(msgNotInteger)
				return
			}
			limitStart, limitCount = s, n
			j += 2
		case !readonly && optIs(args[j], "store") && left >= 1:
			storeKey = args[j+1]
			j++
		case optIs(args[j], "by") && left >= 1:
			sortBy = args[j+1]
			// A BY pattern without '*' is constant: nothing to sort by.
			// As in Redis, a later BY with a '*' does not sort again.
			if bytes.IndexByte(cString(sortBy), '*') < 0 {
				dontSort = true
			}
			j++
		case optIs(args[j], "get") && left >= 1:
			gets = append(gets, args[j+1])
			j++
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	key := args[1]
	if c.tx.Type(c.db, key) == queue.KindString {
		c.replyErr(queue.ErrWrongType)
		return
	}
	n, _ := c.tx.Len(c.db, key)

	// LIMIT sanity checks, exactly as Redis clamps them.
	vlen := n
	start := min(max(limitStart, 0), vlen)
	limitCount = min(max(limitCount, -1), vlen)
	end := vlen - 1
	if limitCount >= 0 {
		end = start + limitCount - 1
	}
	if start >= vlen {
		start, end = vlen-1, vlen-2
	}
	if end >= vlen {
		end = vlen - 1
	}

	var vec []sortItem
	if dontSort {
		// The list's own order (reversed for DESC), only the range asked
		// for.
		if start != 0 || end != vlen-1 {
			vlen = end - start + 1
		}
		if end >= start {
			lo, hi := start, start+vlen-1
			if srt.desc {
				lo, hi = n-start-vlen, n-1-start
			}
			items, _ := c.tx.Range(c.db, key, lo, hi, nil)
			if srt.desc {
				slices.Reverse(items)
			}
			vec = make([]sortItem, len(items))
			for i, it := range items {
				vec[i].obj = it
			}
			end -= start
			start = 0
		}
	} else {
		items, _ := c.tx.Range(c.db, key, 0, -1, nil)
		vec = make([]sortItem, len(items))
		for i, it := range items {
			vec[i].obj = it
		}
	}

	scoreErr := false
	var keyBuf []byte
	if !dontSort {
		for i := range vec {
			it := &vec[i]
			byval := it.obj
			if sortBy != nil {
				v, ok := c.lookupByPattern(sortBy, it.obj, &keyBuf)
				if !ok {
					continue
				}
				byval = v
			}
			if srt.alpha {
				if sortBy != nil {
					it.cmp, it.hasCmp = bytes.Clone(byval), true
				}
			} else if f, ok := sortScore(byval); ok {
				it.score = f
			} else {
				scoreErr = true
			}
		}
		if !scoreErr {
			srt.byPattern = sortBy != nil
			srt.store = storeKey != nil
			if sortBy != nil && (start != 0 || end != int64(len(vec))-1) {
				pqsort(vec, srt.compare, int(start), int(end))
			} else {
				// glibc's qsort is a stable merge sort, which this
				// reproduces when equal sort keys hide different
				// elements (ALPHA with BY).
				slices.SortStableFunc(vec, func(a, b sortItem) int { return srt.compare(&a, &b) })
			}
		}
	}

	outLen := end - start + 1
	if len(gets) > 0 {
		outLen *= int64(len(gets))
	}
	switch {
	case scoreErr:
		c.errorReply(msgSortScore)
	case storeKey == nil:
		c.array(int(outLen))
		for j := start; j <= end; j++ {
			if len(gets) == 0 {
				c.bulk(vec[j].obj)
			}
			for _, g := range gets {
				if v, ok := c.lookupByPattern(g, vec[j].obj, &keyBuf); ok {
					c.bulk(v)
				} else {
					c.null()
				}
			}
		}
	default:
		if outLen == 0 {
			c.tx.Del(c.db, [][]byte{storeKey})
			c.int(0)
			return
		}
		out := make([][]byte, 0, outLen)
		for j := start; j <= end; j++ {
			if len(gets) == 0 {
				out = append(out, vec[j].obj)
			}
			for _, g := range gets {
				v, ok := c.lookupByPattern(g, vec[j].obj, &keyBuf)
				switch {
				case !ok:
					v = []byte{}
				case len(g) == 1 && g[0] == '#':
				default:
					v = bytes.Clone(v) // a later lookup may expire the key it came from
				}
				out = append(out, v)
			}
		}
		if bytes.Equal(storeKey, key) {
			// Store deletes the old list before building the new one from
			// out, whose elements alias the old list's memory.
			for i, v := range out {
				out[i] = bytes.Clone(v)
			}
		}
		c.tx.Store(c.db, storeKey, out, nil, 0)
		c.int(outLen)
	}
}

// pqsort sorts v so that v[lo..hi] (inclusive) hold what a full sort would
// put there, leaving the rest partitioned. It is the Bentley-McIlroy
// quicksort Redis uses for SORT ... BY ... LIMIT (pqsort.c, NetBSD's
// qsort with recursion pruned to the wanted range), followed step by
// step, because with ALPHA equal sort keys make the order of the
// elements depend on the exact sequence of swaps.
func pqsort(v []sortItem, cmp func(a, b *sortItem) int, lo, hi int) {
	pqsortRange(v, 0, len(v), cmp, lo, hi)
}

func pqsortRange(v []sortItem, base, n int, cmp func(a, b *sortItem) int, lo, hi int) {
	at := func(i int) *sortItem { return &v[base+i] }
	swap := func(i, j int) { v[base+i], v[base+j] = v[base+j], v[base+i] }
	insertion := func() {
		for m := 1; m < n; m++ {
			for l := m; l > 0 && cmp(at(l-1), at(l)) > 0; l-- {
				swap(l, l-1)
			}
		}
	}
	med3 := func(a, b, c int) int {
		if cmp(at(a), at(b)) < 0 {
			if cmp(at(b), at(c)) < 0 {
				return b
			}
			if cmp(at(a), at(c)) < 0 {
				return c
			}
			return a
		}
		if cmp(at(b), at(c)) > 0 {
			return b
		}
		if cmp(at(a), at(c)) < 0 {
			return a
		}
		return c
	}
	for {
		if n < 7 {
			insertion()
			return
		}
		pm := n / 2
		if n > 7 {
			pl, pn := 0, n-1
			if n > 40 {
				d := n / 8
				pl = med3(pl, pl+d, pl+2*d)
				pm = med3(pm-d, pm, pm+d)
				pn = med3(pn-2*d, pn-d, pn)
			}
			pm = med3(pl, pm, pn)
		}
		swap(0, pm)
		pa, pb := 1, 1
		pc, pd := n-1, n-1
		swapped := false
		for {
			for pb <= pc {
				r := cmp(at(pb), at(0))
				if r > 0 {
					break
				}
				if r == 0 {
					swapped = true
					swap(pa, pb)
					pa++
				}
				pb++
			}
			for pb <= pc {
				r := cmp(at(pc), at(0))
				if r < 0 {
					break
				}
				if r == 0 {
					swapped = true
					swap(pc, pd)
					pd--
				}
				pc--
			}
			if pb > pc {
				break
			}
			swap(pb, pc)
			swapped = true
			pb++
			pc--
		}
		if !swapped {
			insertion()
			return
		}
		vecswap := func(i, j, k int) {
			for ; k > 0; k-- {
				swap(i, j)
				i++
				j++
			}
		}
		r := min(pa, pb-pa)
		vecswap(0, pb-r, r)
		r = min(pd-pc, n-pd-1)
		vecswap(pb, n-r, r)
		// outside reports whether [b, b+k) lies wholly before or after the
		// wanted range, so it need not be sorted.
		outside := func(b, k int) bool {
			e := b + k - 1
			return (lo < b && hi < b) || (lo > e && hi > e)
		}
		if r := pb - pa; r > 1 && !outside(base, r) {
			pqsortRange(v, base, r, cmp, lo, hi)
		}
		r = pd - pc
		if r <= 1 {
			return
		}
		base, n = base+n-r, r
		if outside(base, n) {
			return
		}
	}
}
