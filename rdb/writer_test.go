package rdb

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writerCase is a dataset the Writer writes: per database, keys in order.
type writerKey struct {
	db     int
	key    string
	str    []byte     // a string key if list is nil
	nodes  [][][]byte // a list key: its nodes' items
	expire int64
}

func writerDataset() []writerKey {
	order := func(i int) []byte {
		return fmt.Appendf(nil, `{"order_id":%d,"sku":"SKU-%05d","quantity":%d,"email":"anna.berg%d@example.com","note":""}`, 1e7+i, i*7919%20000, 1+i%5, i%1000)
	}
	var orders [][][]byte
	for n := 0; n < 5; n++ {
		var node [][]byte
		for i := range 300 {
			node = append(node, order(n*300+i))
		}
		orders = append(orders, node)
	}
	odd := [][][]byte{
		{[]byte(""), []byte("1"), []byte("-12"), []byte("12345678901"), []byte("007")},
		{bytes.Repeat([]byte("x"), 63), bytes.Repeat([]byte("y"), 64), bytes.Repeat([]byte("z"), 4095)},
		{bytes.Repeat([]byte("w"), 4096), bytes.Repeat([]byte("abc"), 30000)},
	}
	return []writerKey{
		{db: 0, key: "s", str: []byte("short")},
		{db: 0, key: "n", str: []byte("123456"), expire: 1_900_000_000_000},
		{db: 0, key: "long string key that LZF may compress, repeated repeated repeated", str: bytes.Repeat([]byte("order "), 500)},
		{db: 0, key: "orders", nodes: orders, expire: 1_900_000_000_123},
		{db: 0, key: "empty", str: []byte{}},
		{db: 3, key: "odd", nodes: odd},
		{db: 3, key: "one", nodes: [][][]byte{{[]byte("only")}}},
	}
}

func writeDataset(t testing.TB, keys []writerKey, aofBase bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, aofBase)
	db := -1
	for _, k := range keys {
		if k.db != db {
			db = k.db
			n, e := 0, 0
			for _, o := range keys {
				if o.db == db {
					n++
					if o.expire != 0 {
						e++
					}
				}
			}
			w.SelectDB(db, n, e)
		}
		exp := NoExpire
		if k.expire != 0 {
			exp = k.expire
		}
		if k.nodes == nil {
			w.String([]byte(k.key), k.str, exp)
			continue
		}
		w.List([]byte(k.key), exp, len(k.nodes))
		for _, node := range k.nodes {
			w.Node()
			for _, it := range node {
				w.Item(it)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func wantLoaded(keys []writerKey) map[string]loaded {
	want := map[string]loaded{}
	for _, k := range keys {
		exp := NoExpire
		if k.expire != 0 {
			exp = k.expire
		}
		v := Value{Kind: KindString, Str: k.str}
		if k.nodes != nil {
			v = Value{Kind: KindList}
			for _, n := range k.nodes {
				v.List = append(v.List, n...)
			}
		}
		want[fmt.Sprintf("%d/%s", k.db, k.key)] = loaded{v, exp}
	}
	return want
}

func TestWriterRoundTrip(t *testing.T) {
	keys := writerDataset()
	data := writeDataset(t, keys, true)
	got, err := loadAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	checkLoaded(t, got, wantLoaded(keys))
	// LZF paid: the orders are stored in well under their raw size.
	raw := 0
	for _, n := range keys[3].nodes {
		for _, it := range n {
			raw += len(it)
		}
	}
	if len(data) > raw/2+200_000 {
		t.Errorf("file of %d bytes for %d bytes of orders and ~200 KB of other data: LZF did not pay", len(data), raw)
	}
	// Damage anywhere is caught by the checksum or the parser.
	for _, off := range []int{20, len(data) / 2, len(data) - 12} {
		bad := bytes.Clone(data)
		bad[off] ^= 0x40
		if _, err := loadAll(t, bad); err == nil {
			t.Errorf("flipping a bit at %d of %d went unnoticed", off, len(data))
		}
	}
}

func TestWriterMisuse(t *testing.T) {
	for name, fn := range map[string]func(w *Writer){
		"item outside a node": func(w *Writer) { w.Item([]byte("x")) },
		"too many nodes":      func(w *Writer) { w.List([]byte("k"), NoExpire, 1); w.Node(); w.Item([]byte("a")); w.Node() },
		"too few nodes":       func(w *Writer) { w.List([]byte("k"), NoExpire, 2); w.Node(); w.Item([]byte("a")) },
		"empty node":          func(w *Writer) { w.List([]byte("k"), NoExpire, 1); w.Node() },
		"list without nodes":  func(w *Writer) { w.List([]byte("k"), NoExpire, 0) },
		"key inside a list": func(w *Writer) {
			w.List([]byte("k"), NoExpire, 2)
			w.Node()
			w.Item([]byte("a"))
			w.String([]byte("s"), nil, NoExpire)
		},
	} {
		var buf bytes.Buffer
		w := NewWriter(&buf, false)
		w.SelectDB(0, 1, 0)
		fn(w)
		if err := w.Close(); err == nil {
			t.Errorf("%s: Close reported no error", name)
		}
	}
}

// TestWriterLoadsInRedis: redis-server 7.0 loads the file as its dump.rdb
// to the same keys, values and expiry times, and redis-check-rdb accepts it.
func TestWriterLoadsInRedis(t *testing.T) {
	keys := writerDataset()
	dir := t.TempDir()
	path := filepath.Join(dir, "mullet.rdb")
	if err := os.WriteFile(path, writeDataset(t, keys, false), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("redis-check-rdb", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "RDB looks OK") {
		t.Fatalf("redis-check-rdb: %v\n%s", err, out)
	}
	srv := startRedis(t, "--dir", dir, "--dbfilename", "mullet.rdb")
	for _, k := range keys {
		srv.do(t, "SELECT", fmt.Sprint(k.db))
		if k.nodes == nil {
			if got, _ := srv.do(t, "GET", k.key).([]byte); !bytes.Equal(got, k.str) {
				t.Errorf("%d/%s: GET %.40q, want %.40q", k.db, k.key, got, k.str)
			}
		} else {
			var want [][]byte
			for _, n := range k.nodes {
				want = append(want, n...)
			}
			got := srv.lrange(t, k.key)
			if len(got) != len(want) {
				t.Fatalf("%d/%s: %d items, want %d", k.db, k.key, len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("%d/%s: item %d %.40q, want %.40q", k.db, k.key, i, got[i], want[i])
				}
			}
		}
		wantExp := int64(-1)
		if k.expire != 0 {
			wantExp = k.expire
		}
		if got, _ := srv.do(t, "PEXPIRETIME", k.key).(int64); got != wantExp {
			t.Errorf("%d/%s: PEXPIRETIME %d, want %d", k.db, k.key, got, wantExp)
		}
	}
	srv.do(t, "SELECT", "0")
	if n, _ := srv.do(t, "DBSIZE").(int64); n != 5 {
		t.Errorf("db 0 holds %d keys, want 5", n)
	}
}

// TestLoadPassesBigListsInParts: a list of many megabytes reaches apply in
// parts of about flushAt bytes, in order, with the key and expiry on each,
// and nothing lost at the seams.
func TestLoadPassesBigListsInParts(t *testing.T) {
	var nodes [][][]byte
	var want [][]byte
	for n := range 60 {
		var node [][]byte
		for i := range 300 {
			it := fmt.Appendf(nil, `{"order_id":%d,"pad":"%0150d"}`, n*300+i, i)
			node = append(node, it)
			want = append(want, it)
		}
		nodes = append(nodes, node)
	}
	keys := []writerKey{{db: 2, key: "big", nodes: nodes, expire: 1_900_000_000_000}, {db: 2, key: "after", str: []byte("x")}}
	data := writeDataset(t, keys, true)
	var got [][]byte
	parts := 0
	err := Load(bytes.NewReader(data), func(db int, key []byte, v Value, exp int64) error {
		if string(key) == "after" {
			return nil
		}
		if db != 2 || string(key) != "big" || exp != 1_900_000_000_000 || v.Kind != KindList {
			t.Fatalf("part %d: db %d key %q expire %d kind %v", parts, db, key, exp, v.Kind)
		}
		parts++
		for _, it := range v.List {
			got = append(got, bytes.Clone(it))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if parts < 3 {
		t.Fatalf("%d items of ~170 B came in %d parts", len(want), parts)
	}
	if len(got) != len(want) {
		t.Fatalf("%d items, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("item %d: %q, want %q", i, got[i], want[i])
		}
	}
}
