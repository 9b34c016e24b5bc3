package aof

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mullet/rdb"
)

// rdbOptions are testOptions with aof-use-rdb-preamble yes: the fake
// dataset is written with rdb.Writer and read back with rdb.Load, as
// cmd/mullet does with the keyspace.
func rdbOptions(t testing.TB, dir string) Options {
	o := testOptions(t, dir)
	o.RDBPreamble = true
	o.WriteRDB = func(w io.Writer, ds Dataset) error {
		m := ds.(*fakeDataset).m
		rw := rdb.NewWriter(w, true)
		for _, db := range []int{0, 1, 2, 3} {
			if len(m.lists[db])+len(m.strs[db]) == 0 {
				continue
			}
			rw.SelectDB(db, len(m.lists[db])+len(m.strs[db]), 0)
			for _, key := range slices.Sorted(mapKeys(m.lists[db])) {
				items := m.lists[db][key]
				nodes := (len(items) + 99) / 100
				rw.List([]byte(key), rdb.NoExpire, nodes)
				for i, it := range items {
					if i%100 == 0 {
						rw.Node()
					}
					rw.Item([]byte(it))
				}
			}
			for _, key := range slices.Sorted(mapKeys(m.strs[db])) {
				rw.String([]byte(key), []byte(m.strs[db][key]), rdb.NoExpire)
			}
		}
		return rw.Close()
	}
	o.LoadRDB = func(r io.Reader, apply func(argv [][]byte) error) error {
		return rdb.Load(r, func(db int, key []byte, v rdb.Value, _ int64) error {
			if err := apply(args("SELECT", fmt.Sprint(db))); err != nil {
				return err
			}
			if v.Kind == rdb.KindString {
				return apply([][]byte{[]byte("SET"), key, v.Str})
			}
			return apply(append([][]byte{[]byte("RPUSH"), key}, v.List...))
		})
	}
	return o
}

// TestRewriteRDBBase: with RDBPreamble the new base is *.base.rdb, in RDB
// format, listed so in the manifest; it replays, with the incr file after
// it, to the same data; Check reads it and catches damage in it; and
// turning the preamble off makes the next base RESP again.
func TestRewriteRDBBase(t *testing.T) {
	dir := t.TempDir()
	opts := rdbOptions(t, dir)
	a, _ := mustOpen(t, opts)
	ks := &fakeKeyspace{log: a, m: newModel()}
	for i := range 1000 {
		ks.do(i%3, "LPUSH", fmt.Sprint("q", i%4), fmt.Sprintf(`{"order_id":%d,"note":"leave at the door"}`, i))
	}
	ks.do(1, "SET", "k", strings.Repeat("v", 100))
	if err := a.Rewrite(ks); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait()
	a.Wait(ks.do(2, "RPOP", "q2"))
	want := ks.m.String()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	ad := filepath.Join(dir, DefaultDirName)
	man := readManifest(t, ad)
	if !strings.Contains(man, "file appendonly.aof.2.base.rdb seq 2 type b\n") {
		t.Fatalf("manifest:\n%s", man)
	}
	base, err := os.ReadFile(filepath.Join(ad, "appendonly.aof.2.base.rdb"))
	if err != nil || !bytes.HasPrefix(base, []byte("REDIS0010")) {
		t.Fatalf("base: %v %.9q", err, base)
	}
	if got := replayModel(t, opts).String(); got != want {
		t.Fatalf("replayed\n%s\nwant\n%s", got, want)
	}
	var out bytes.Buffer
	if err := Check(dir, opts, false, &out); err != nil {
		t.Fatalf("Check: %v\n%s", err, out.String())
	}

	// A flipped byte in the RDB is damage Check reports.
	bad := bytes.Clone(base)
	bad[len(bad)/2] ^= 0x20
	path := filepath.Join(ad, "appendonly.aof.2.base.rdb")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	var ce *CorruptError
	if err := Check(dir, opts, false, &out); !errors.As(err, &ce) {
		t.Fatalf("Check of a damaged RDB base = %v\n%s", err, out.String())
	}
	if err := os.WriteFile(path, base, 0o644); err != nil {
		t.Fatal(err)
	}

	// aof-use-rdb-preamble no from now on: the next base is RESP.
	a, _ = mustOpen(t, opts)
	a.SetRDBPreamble(false)
	ks.log = a
	if err := a.Rewrite(ks); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	man = readManifest(t, ad)
	if !strings.Contains(man, "file appendonly.aof.3.base.aof seq 3 type b\n") {
		t.Fatalf("manifest after turning the preamble off:\n%s", man)
	}
	if got := replayModel(t, opts).String(); got != want {
		t.Fatalf("replayed after the RESP rewrite\n%s\nwant\n%s", got, want)
	}
}
