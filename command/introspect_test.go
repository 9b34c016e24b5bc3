package command

import (
	"slices"
	"strings"
	"testing"
)

func TestCommandKeySpecs(t *testing.T) {
	meta := derivedMeta(&command{name: "x", arity: -2, firstKey: 1, lastKey: -1, step: 2})
	args := func(s string) [][]byte {
		var out [][]byte
		for _, f := range strings.Fields(s) {
			out = append(out, []byte(f))
		}
		return out
	}
	pos, _, ok := meta.keyPositions(args("x k1 v1 k2 v2"))
	if !ok || !slices.Equal(pos, []int{1, 3}) {
		t.Errorf("derived spec: %v %v", pos, ok)
	}
	m, err := redisCommandMeta()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cmd, line string
		want      []int
		ok        bool
	}{
		{"blmpop", "blmpop 0 2 a b left", []int{3, 4}, true},
		{"blmpop", "blmpop 0 x a b left", nil, false},
		{"lmpop", "lmpop 1 a left", []int{2}, true},
		{"rpoplpush", "rpoplpush a b", []int{1, 2}, true},
		{"del", "del a b c", []int{1, 2, 3}, true},
		{"mset", "mset a 1 b 2", []int{1, 3}, true},
		{"set", "set k v", []int{1}, true},
	} {
		meta := m[tc.cmd]
		if meta == nil {
			t.Fatalf("no metadata for %s", tc.cmd)
		}
		pos, _, ok := meta.keyPositions(args(tc.line))
		if ok != tc.ok || !slices.Equal(pos, tc.want) {
			t.Errorf("%s: keys at %v (%v), want %v (%v)", tc.line, pos, ok, tc.want, tc.ok)
		}
	}
}
