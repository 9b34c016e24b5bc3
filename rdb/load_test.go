package rdb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loaded is one key as Load reported it, copied out of Load's buffers.
type loaded struct {
	v      Value
	expire int64
}

// loadAll loads an RDB file into a map keyed by "db/key".
func loadAll(t testing.TB, data []byte) (map[string]loaded, error) {
	t.Helper()
	got := map[string]loaded{}
	err := Load(bytes.NewReader(data), func(db int, key []byte, v Value, exp int64) error {
		name := fmt.Sprintf("%d/%s", db, key)
		c := Value{Kind: v.Kind, Str: bytes.Clone(v.Str)}
		if v.Kind == KindList {
			c.List = got[name].v.List // a big list comes in parts
		}
		for _, it := range v.List {
			c.List = append(c.List, bytes.Clone(it))
		}
		got[name] = loaded{c, exp}
		return nil
	})
	return got, err
}

func checkLoaded(t testing.TB, got map[string]loaded, want map[string]loaded) {
	t.Helper()
	if len(got) != len(want) {
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		t.Fatalf("loaded %d keys %q, want %d", len(got), keys, len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("key %s missing", k)
		}
		if g.expire != w.expire {
			t.Errorf("%s: expire %d, want %d", k, g.expire, w.expire)
		}
		if w.v.Kind == KindString {
			if g.v.Kind != KindString || !bytes.Equal(g.v.Str, w.v.Str) {
				t.Errorf("%s: got %v %.40q, want %.40q", k, g.v.Kind, g.v.Str, w.v.Str)
			}
			continue
		}
		assertList(t, g.v, w.v.List)
	}
}

// Expiry times far in the future, so keys survive until SAVE.
const (
	expireA = 4102444800000 // 2100-01-01
	expireB = 4102444800123
)

// populate fills srv with lists and strings in dbs 0, 3 and 15, some with
// expiry times, and returns what Load should report.
func populate(t testing.TB, srv *redisServer) map[string]loaded {
	want := map[string]loaded{}
	lists := redisLists()
	for _, k := range []string{"small", "ints", "10k", "large", "repetitive", "binary"} {
		srv.rpush(t, k, lists[k])
		want["0/"+k] = loaded{Value{Kind: KindList, List: lists[k]}, NoExpire}
	}
	for k, v := range redisStrings() {
		srv.do(t, "SET", k, v)
		want["0/"+k] = loaded{Value{Kind: KindString, Str: v}, NoExpire}
	}
	srv.do(t, "PEXPIREAT", "small", strconv.Itoa(expireA))
	want["0/small"] = loaded{want["0/small"].v, expireA}

	srv.do(t, "SELECT", "3")
	srv.rpush(t, "q3", lists["small"])
	srv.do(t, "PEXPIREAT", "q3", strconv.Itoa(expireB))
	want["3/q3"] = loaded{Value{Kind: KindList, List: lists["small"]}, expireB}
	srv.do(t, "SET", "s3", "in db 3", "PXAT", strconv.Itoa(expireA))
	want["3/s3"] = loaded{Value{Kind: KindString, Str: []byte("in db 3")}, expireA}

	srv.do(t, "SELECT", "15")
	srv.do(t, "CONFIG", "SET", "list-compress-depth", "1")
	srv.rpush(t, "q15", lists["10k"])
	srv.do(t, "CONFIG", "SET", "list-compress-depth", "0")
	want["15/q15"] = loaded{Value{Kind: KindList, List: lists["10k"]}, NoExpire}
	srv.do(t, "SELECT", "0")
	return want
}

func (s *redisServer) save(t testing.TB) []byte {
	t.Helper()
	s.do(t, "SAVE")
	data, err := os.ReadFile(filepath.Join(s.dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestLoadRedisRDB(t *testing.T) {
	srv := startRedis(t)
	want := populate(t, srv)
	// LFU and LRU policies make SAVE write FREQ and IDLE opcodes. Every
	// variant loads the same keys.
	for _, cfg := range [][]string{
		{"maxmemory-policy", "noeviction"},
		{"maxmemory-policy", "allkeys-lfu"},
		{"maxmemory-policy", "allkeys-lru"},
		{"rdbcompression", "no"},
	} {
		t.Run(strings.Join(cfg, "="), func(t *testing.T) {
			srv.do(t, "CONFIG", "SET", cfg[0], cfg[1])
			data := srv.save(t)
			got, err := loadAll(t, data)
			if err != nil {
				t.Fatal(err)
			}
			checkLoaded(t, got, want)
		})
	}
}

// TestLoadAOFBase loads the RDB base file of a Redis 7.0 multi-part AOF.
func TestLoadAOFBase(t *testing.T) {
	srv := startRedis(t, "--appendonly", "yes")
	want := populate(t, srv)
	srv.do(t, "BGREWRITEAOF")
	deadline := time.Now().Add(10 * time.Second)
	for {
		info := string(srv.do(t, "INFO", "persistence").([]byte))
		if strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") &&
			strings.Contains(info, "aof_last_bgrewrite_status:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("AOF rewrite did not finish:\n%s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	manifest, err := os.ReadFile(filepath.Join(srv.dir, "appendonlydir", "appendonly.aof.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	var base string
	for _, line := range strings.Split(string(manifest), "\n") {
		if f := strings.Fields(line); len(f) >= 6 && f[5] == "b" {
			base = f[1]
		}
	}
	if !strings.HasSuffix(base, ".rdb") {
		t.Fatalf("no RDB base in manifest:\n%s", manifest)
	}
	data, err := os.ReadFile(filepath.Join(srv.dir, "appendonlydir", base))
	if err != nil {
		t.Fatal(err)
	}
	got, err := loadAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	checkLoaded(t, got, want)
}

func TestLoadRefusesOtherTypes(t *testing.T) {
	srv := startRedis(t)
	srv.do(t, "RPUSH", "before", "x")
	srv.do(t, "SELECT", "2")
	srv.do(t, "SADD", "myset", "a", "b")
	data := srv.save(t)
	seed(t, "FuzzLoad", "redis-set", data)
	var keys []string
	err := Load(bytes.NewReader(data), func(db int, key []byte, v Value, exp int64) error {
		keys = append(keys, string(key))
		return nil
	})
	var te *TypeError
	if !errors.As(err, &te) || string(te.Key) != "myset" || te.DB != 2 || !errors.Is(err, ErrUnsupportedType) ||
		data[te.Offset] != te.Type {
		t.Fatalf("err = %v, want TypeError for key myset in db 2", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `"myset"`) || !strings.Contains(msg, "set") {
		t.Fatalf("message %q should name the key and the type", msg)
	}
	if len(keys) != 1 || keys[0] != "before" {
		t.Fatalf("applied %q before the error", keys)
	}

	srv.do(t, "FLUSHALL")
	srv.do(t, "FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('f', function() return 1 end)")
	err = Load(bytes.NewReader(srv.save(t)), ignore)
	if !errors.As(err, &te) || te.Type != opFunction2 || !strings.Contains(err.Error(), "function library") {
		t.Fatalf("err = %v, want TypeError for a function library", err)
	}
}

// smallRDB is a real file small enough to damage at every byte.
func smallRDB(t *testing.T, extra ...string) []byte {
	srv := startRedis(t, extra...)
	srv.do(t, "RPUSH", "q", "a", "1", strings.Repeat("z", 40))
	srv.do(t, "SET", "s", strings.Repeat("compress ", 10), "PXAT", strconv.Itoa(expireA))
	srv.do(t, "SELECT", "1")
	srv.do(t, "SET", "n", "42")
	return srv.save(t)
}

func TestLoadDamagedFiles(t *testing.T) {
	data := smallRDB(t)
	seed(t, "FuzzLoad", "redis-small", data)
	if _, err := loadAll(t, data); err != nil {
		t.Fatal(err)
	}
	// Every truncation is reported as an unexpected end, never as success.
	for n := range len(data) {
		_, err := loadAll(t, data[:n])
		if !errors.Is(err, ErrCorrupt) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("truncated at %d of %d: err = %v", n, len(data), err)
		}
	}
	// Every single-bit flip is caught: by the format or else by the checksum.
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x10
		if _, err := loadAll(t, bad); err == nil {
			t.Fatalf("flip at byte %d of %d went unnoticed", i, len(data))
		}
	}
}

// TestLoadRedisNoChecksum loads a file saved with rdbchecksum no, which
// stores a zero checksum. The setting is immutable at run time in 7.0.
func TestLoadRedisNoChecksum(t *testing.T) {
	data := smallRDB(t, "--rdbchecksum", "no")
	if !bytes.Equal(data[len(data)-8:], make([]byte, 8)) {
		t.Fatalf("rdbchecksum no wrote checksum %x", data[len(data)-8:])
	}
	got, err := loadAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["0/s"].expire != expireA || string(got["1/n"].v.Str) != "42" {
		t.Fatalf("loaded %+v", got)
	}
}

func TestLoadLeavesBufioAfterRDB(t *testing.T) {
	data := smallRDB(t)
	br := bufio.NewReader(bytes.NewReader(append(bytes.Clone(data), "*1\r\n$4\r\nPING\r\n"...)))
	if err := Load(br, ignore); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "*1\r\n$4\r\nPING\r\n" {
		t.Fatalf("after Load the reader holds %q", rest)
	}
}

func TestLoad(t *testing.T) {
	list := body(EncodeList(strs("a", "b")))
	str := body(EncodeString([]byte("v")))
	applyErr := errors.New("stop")
	tests := []struct {
		name string
		file []byte
		want map[string]loaded
		err  error
	}{
		{"v10", newRDBFile(10).selectDB(0).key("l", list).end(true),
			map[string]loaded{"0/l": {Value{Kind: KindList, List: strs("a", "b")}, NoExpire}}, nil},
		{"v1 has no checksum", append([]byte("REDIS0001"), append(append([]byte{opSelectDB, 1}, str[0], 1, 'k'), append(str[1:], opEOF)...)...),
			map[string]loaded{"1/k": {Value{Kind: KindString, Str: []byte("v")}, NoExpire}}, nil},
		{"zero checksum", newRDBFile(9).key("k", str).end(false),
			map[string]loaded{"0/k": {Value{Kind: KindString, Str: []byte("v")}, NoExpire}}, nil},
		{"expire ms applies to one key", newRDBFile(10).expireMs(-5).key("a", str).key("b", str).end(true),
			map[string]loaded{"0/a": {Value{Kind: KindString, Str: []byte("v")}, -5}, "0/b": {Value{Kind: KindString, Str: []byte("v")}, NoExpire}}, nil},
		{"expire seconds", func() []byte {
			f := newRDBFile(10)
			f.buf = append(f.buf, opExpireTime, 0x10, 0, 0, 0)
			return f.key("k", str).end(true)
		}(), map[string]loaded{"0/k": {Value{Kind: KindString, Str: []byte("v")}, 16000}}, nil},
		{"freq and idle", func() []byte {
			f := newRDBFile(10)
			f.buf = append(f.buf, opFreq, 7, opIdle, 0x40, 200)
			return f.key("k", str).end(true)
		}(), map[string]loaded{"0/k": {Value{Kind: KindString, Str: []byte("v")}, NoExpire}}, nil},
		{"empty list skipped", newRDBFile(10).expireMs(9).key("e", body(EncodeList(nil))).key("k", str).end(true),
			map[string]loaded{"0/k": {Value{Kind: KindString, Str: []byte("v")}, NoExpire}}, nil},
		{"compressed aux", newRDBFile(10).aux("x", strings.Repeat("a", 30)).key("k", str).end(true),
			map[string]loaded{"0/k": {Value{Kind: KindString, Str: []byte("v")}, NoExpire}}, nil},

		{"version 11", newRDBFile(11).end(true), nil, ErrVersion},
		{"version 0", newRDBFile(0).end(true), nil, ErrVersion},
		{"version not a number", []byte("REDIS00a1\xff"), nil, ErrVersion},
		{"not rdb", []byte("*1\r\n$4\r\nPING\r\n"), nil, ErrNotRDB},
		{"empty", nil, nil, io.ErrUnexpectedEOF},
		{"bad checksum", func() []byte { f := newRDBFile(10).key("k", str).end(true); f[len(f)-1] ^= 1; return f }(), nil, ErrChecksum},
		{"no eof", newRDBFile(10).key("k", str).buf, nil, io.ErrUnexpectedEOF},
		{"module aux", append(newRDBFile(10).buf, opModuleAux, 1, 2, 3), nil, ErrUnsupportedType},
		{"unknown type", append(newRDBFile(10).buf, 200, 1, 'k'), nil, ErrUnsupportedType},
		{"huge db", append(newRDBFile(10).buf, opSelectDB, 0x81, 1, 0, 0, 0, 0, 0, 0, 0), nil, ErrCorrupt},
		{"apply error", newRDBFile(10).key("k", str).end(true), nil, applyErr},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seed(t, "FuzzLoad", "table-"+strings.ReplaceAll(tc.name, " ", "-"), tc.file)
			var got map[string]loaded
			var err error
			if tc.err == applyErr {
				err = Load(bytes.NewReader(tc.file), func(int, []byte, Value, int64) error { return applyErr })
			} else {
				got, err = loadAll(t, tc.file)
			}
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkLoaded(t, got, tc.want)
		})
	}
}

// bigListFile is an RDB file holding one list of n short items.
func bigListFile(n int) []byte {
	e := NewListEncoder(nil)
	for i := range n {
		e.Add(fmt.Appendf(nil, "item-%08d", i))
	}
	return newRDBFile(10).selectDB(0).key("big", body(e.Finish())).end(true)
}

// TestLoadAllocations checks that Load's cost in allocations does not grow
// with the number of items: buffers are reused and grow geometrically.
func TestLoadAllocations(t *testing.T) {
	file := bigListFile(100_000)
	n := 0
	allocs := testing.AllocsPerRun(2, func() {
		n = 0
		if err := Load(bytes.NewReader(file), func(_ int, _ []byte, v Value, _ int64) error {
			n += len(v.List)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	if n != 100_000 {
		t.Fatalf("loaded %d items", n)
	}
	if allocs > 200 {
		t.Fatalf("Load made %.0f allocations for 100k items", allocs)
	}
}

func BenchmarkLoad1M(b *testing.B) {
	file := bigListFile(1_000_000)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Load(bytes.NewReader(file), ignore); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadRedis1M loads a 1M-item list saved by redis-server (listpack
// nodes) rather than our type 1 encoding.
func BenchmarkLoadRedis1M(b *testing.B) {
	srv := startRedis(b)
	srv.rpush(b, "big", numbered(1_000_000, func(i int) string { return fmt.Sprintf("item-%08d", i) }))
	file := srv.save(b)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Load(bytes.NewReader(file), ignore); err != nil {
			b.Fatal(err)
		}
	}
}
