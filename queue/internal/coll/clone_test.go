package coll

import (
	"fmt"
	"maps"
	"testing"
)

// TestClone copies each type in each encoding, then changes original and
// copy differently: each must match its own model, and Bytes() must be
// the same for both right after the copy.
func TestClone(t *testing.T) {
	lim := DefaultLimits()
	ep := NewEpochs()
	for _, n := range []int{0, 5, 100, 3000} {
		h := NewHash(&lim, ep)
		s := NewSet(&lim, ep)
		z := NewZSet(&lim, ep)
		hm, sm, zm := &hashModel{m: map[string]string{}}, map[string]bool{}, zmodel{}
		for i := 0; i < n; i++ {
			k := fmt.Sprint(i * 7)
			h.Set([]byte(k), []byte("v"+k))
			hm.set(k, "v"+k)
			s.Add([]byte(k))
			sm[k] = true
			z.Add([]byte(k), float64(i%10), 0)
			zm[k] = float64(i % 10)
		}
		hc, sc, zc := h.Clone(), s.Clone(), z.Clone()
		if hc.Bytes() != h.Bytes() || sc.Bytes() != s.Bytes() || zc.Bytes() != z.Bytes() {
			t.Fatalf("n=%d: clone sizes differ: %d/%d %d/%d %d/%d", n, hc.Bytes(), h.Bytes(), sc.Bytes(), s.Bytes(), zc.Bytes(), z.Bytes())
		}
		if hc.Encoding() != h.Encoding() || sc.Encoding() != s.Encoding() || zc.Encoding() != z.Encoding() {
			t.Fatalf("n=%d: clone changed encoding", n)
		}
		hcm := &hashModel{m: maps.Clone(hm.m), order: append([]string(nil), hm.order...)}
		scm, zcm := maps.Clone(sm), maps.Clone(zm)
		for i := 0; i < n+50; i += 2 {
			k := fmt.Sprint(i * 7)
			h.Delete([]byte(k))
			hm.del(k)
			hc.Set([]byte(k), []byte("new"))
			hcm.set(k, "new")
			s.Remove([]byte(k))
			delete(sm, k)
			sc.Add([]byte("x" + k))
			scm["x"+k] = true
			z.Remove([]byte(k))
			delete(zm, k)
			zc.Add([]byte(k), -1, 0)
			zcm[k] = -1
		}
		checkHash(t, h, hm)
		checkHash(t, hc, hcm)
		checkSet(t, s, sm)
		checkSet(t, sc, scm)
		checkZSet(t, z, zm)
		checkZSet(t, zc, zcm)
	}
}
