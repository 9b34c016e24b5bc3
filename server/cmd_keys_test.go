package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mullet/config"
	"mullet/internal/resp"
	"mullet/internal/testutil"
	"mullet/queue"
)

// keysSteps pins the keyspace commands' replies. They were recorded from
// redis-server 7.0.15, and compat_keys_test.go replays them against a live
// one. TTLs are large enough that their rounding to seconds is stable.
var keysSteps = []step{
	{"FLUSHALL", "+OK\r\n"},
	{"SET a 1", "+OK\r\n"},
	{"RPUSH l x y", ":2\r\n"},
	{"EXISTS a l nosuch a", ":3\r\n"},
	{"DEL a nosuch", ":1\r\n"},
	{"UNLINK l l", ":1\r\n"},
	{"EXISTS a l", ":0\r\n"},
	{"DEL", "-ERR wrong number of arguments for 'del' command\r\n"},
	{"EXISTS", "-ERR wrong number of arguments for 'exists' command\r\n"},
	{"TYPE nosuch", "+none\r\n"},
	{"SET s v", "+OK\r\n"},
	{"TYPE s", "+string\r\n"},
	{"RPUSH l a", ":1\r\n"},
	{"TYPE l", "+list\r\n"},
	{"TYPE a b", "-ERR wrong number of arguments for 'type' command\r\n"},
	{"TOUCH s l x", ":2\r\n"},
	{"DBSIZE", ":2\r\n"},
	{"DBSIZE x", "-ERR wrong number of arguments for 'dbsize' command\r\n"},
	{"KEYS s*", "*1\r\n$1\r\ns\r\n"},
	{"KEYS nomatch*", "*0\r\n"},
	{"KEYS [lx]", "*1\r\n$1\r\nl\r\n"},
	{"KEYS", "-ERR wrong number of arguments for 'keys' command\r\n"},
	{"SCAN 0 MATCH s", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\ns\r\n"},
	{"SCAN 0 MATCH l* TYPE list COUNT 100", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nl\r\n"},
	{"SCAN 0 TYPE string", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\ns\r\n"},
	{"SCAN 0 TYPE LIST", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nl\r\n"},
	{"SCAN 0 TYPE hash", "*2\r\n$1\r\n0\r\n*0\r\n"},
	{"SCAN 0 COUNT 0", "-ERR syntax error\r\n"},
	{"SCAN 0 COUNT -1", "-ERR syntax error\r\n"},
	{"SCAN 0 COUNT x", "-ERR value is not an integer or out of range\r\n"},
	{"SCAN 0 MATCH", "-ERR syntax error\r\n"},
	{"SCAN 0 FOO bar", "-ERR syntax error\r\n"},
	{"SCAN x", "-ERR invalid cursor\r\n"},
	{"SCAN 1x", "-ERR invalid cursor\r\n"},
	{"SCAN -", "-ERR invalid cursor\r\n"},
	{"SCAN 18446744073709551616", "-ERR invalid cursor\r\n"},
	{"SCAN", "-ERR wrong number of arguments for 'scan' command\r\n"},
	{"RENAME nosuch x", "-ERR no such key\r\n"},
	{"RENAMENX nosuch x", "-ERR no such key\r\n"},
	{"RENAME s s", "+OK\r\n"},
	{"RENAMENX s s", ":0\r\n"},
	{"RENAME s s2", "+OK\r\n"},
	{"RENAMENX s2 l", ":0\r\n"},
	{"RENAMENX s2 s3", ":1\r\n"},
	{"RENAME s3 l", "+OK\r\n"},
	{"TYPE l", "+string\r\n"},
	{"RENAME a", "-ERR wrong number of arguments for 'rename' command\r\n"},
	{"EXPIRE l 100", ":1\r\n"},
	{"TTL l", ":100\r\n"},
	{"EXPIRE l 100 NX", ":0\r\n"},
	{"EXPIRE l 200 XX", ":1\r\n"},
	{"TTL l", ":200\r\n"},
	{"EXPIRE l 100 GT", ":0\r\n"},
	{"EXPIRE l 300 GT", ":1\r\n"},
	{"TTL l", ":300\r\n"},
	{"EXPIRE l 50 LT", ":1\r\n"},
	{"TTL l", ":50\r\n"},
	{"EXPIRE l 60 XX LT", ":0\r\n"},
	{"EXPIRE l 40 xx lt", ":1\r\n"},
	{"TTL l", ":40\r\n"},
	{"EXPIRE l 45 XX GT", ":1\r\n"},
	{"TTL l", ":45\r\n"},
	{"PERSIST l", ":1\r\n"},
	{"PERSIST l", ":0\r\n"},
	{"TTL l", ":-1\r\n"},
	{"PTTL l", ":-1\r\n"},
	{"EXPIRETIME l", ":-1\r\n"},
	{"PEXPIRETIME l", ":-1\r\n"},
	{"TTL nosuch", ":-2\r\n"},
	{"PTTL nosuch", ":-2\r\n"},
	{"EXPIRETIME nosuch", ":-2\r\n"},
	{"PEXPIRETIME nosuch", ":-2\r\n"},
	{"EXPIRE l 100 XX", ":0\r\n"},
	{"EXPIRE l 100 GT", ":0\r\n"},
	{"EXPIRE l 100 LT", ":1\r\n"},
	{"TTL l", ":100\r\n"},
	{"PERSIST nosuch", ":0\r\n"},
	{"EXPIRE nosuch 10", ":0\r\n"},
	{"EXPIRE l 10 NX XX", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
	{"EXPIRE l 10 NX GT", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
	{"EXPIRE l 10 GT LT", "-ERR GT and LT options at the same time are not compatible\r\n"},
	{"EXPIRE l 10 Foo", "-ERR Unsupported option Foo\r\n"},
	{"EXPIRE l 10 nx foo", "-ERR Unsupported option foo\r\n"},
	{"EXPIRE l abc", "-ERR value is not an integer or out of range\r\n"},
	{"EXPIRE l abc foo", "-ERR Unsupported option foo\r\n"},
	{"EXPIRE l 9223372036854775807", "-ERR invalid expire time in 'expire' command\r\n"},
	{"EXPIRE l 9223372036854775", "-ERR invalid expire time in 'expire' command\r\n"},
	{"EXPIRE l -9223372036854775808", "-ERR invalid expire time in 'expire' command\r\n"},
	{"PEXPIRE l 9223372036854775807", "-ERR invalid expire time in 'pexpire' command\r\n"},
	{"EXPIREAT l 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
	{"EXPIREAT l 9223372036854776", "-ERR invalid expire time in 'expireat' command\r\n"},
	{"PEXPIREAT l -9223372036854775808", ":1\r\n"},
	{"EXPIRE l", "-ERR wrong number of arguments for 'expire' command\r\n"},
	{"TTL", "-ERR wrong number of arguments for 'ttl' command\r\n"},
	{"PERSIST", "-ERR wrong number of arguments for 'persist' command\r\n"},
	{"SET k v", "+OK\r\n"},
	{"PEXPIREAT k 4102444800000", ":1\r\n"},
	{"PEXPIRETIME k", ":4102444800000\r\n"},
	{"EXPIRETIME k", ":4102444800\r\n"},
	{"EXPIREAT k 4102444800 NX", ":0\r\n"},
	{"EXPIREAT k 4102444801 GT", ":1\r\n"},
	{"PEXPIRETIME k", ":4102444801000\r\n"},
	{"EXPIREAT k 1", ":1\r\n"},
	{"EXISTS k", ":0\r\n"},
	{"SET k v", "+OK\r\n"},
	{"EXPIRE k 0", ":1\r\n"},
	{"EXISTS k", ":0\r\n"},
	{"SET k v", "+OK\r\n"},
	{"PEXPIRE k -5", ":1\r\n"},
	{"EXISTS k", ":0\r\n"},
	{"SET k v", "+OK\r\n"},
	{"PEXPIREAT k 4102444800000", ":1\r\n"},
	{"EXPIRE k -1 GT", ":0\r\n"},
	{"EXISTS k", ":1\r\n"},
	{"EXPIRE k -1 LT", ":1\r\n"},
	{"EXISTS k", ":0\r\n"},
	{"FLUSHALL", "+OK\r\n"},
	{"SET a 1", "+OK\r\n"},
	{"SWAPDB 0 1", "+OK\r\n"},
	{"DBSIZE", ":0\r\n"},
	{"SELECT 1", "+OK\r\n"},
	{"DBSIZE", ":1\r\n"},
	{"GET a", "$1\r\n1\r\n"},
	{"SWAPDB 1 0", "+OK\r\n"},
	{"DBSIZE", ":0\r\n"},
	{"SELECT 0", "+OK\r\n"},
	{"SWAPDB 0 0", "+OK\r\n"},
	{"SWAPDB a 1", "-ERR invalid first DB index\r\n"},
	{"SWAPDB 1 a", "-ERR invalid second DB index\r\n"},
	{"SWAPDB 0 16", "-ERR DB index is out of range\r\n"},
	{"SWAPDB -1 0", "-ERR DB index is out of range\r\n"},
	{"SWAPDB 2147483648 0", "-ERR invalid first DB index\r\n"},
	{"SWAPDB 0", "-ERR wrong number of arguments for 'swapdb' command\r\n"},
	{"FLUSHDB x", "-ERR syntax error\r\n"},
	{"FLUSHDB ASYNC", "+OK\r\n"},
	{"FLUSHDB sync", "+OK\r\n"},
	{"FLUSHDB async sync", "-ERR syntax error\r\n"},
	{"FLUSHALL SYNC", "+OK\r\n"},
	{"FLUSHALL ASYNC", "+OK\r\n"},
	{"FLUSHALL a b", "-ERR syntax error\r\n"},
	{"RANDOMKEY", "$-1\r\n"},
	{"SET r 1", "+OK\r\n"},
	{"RANDOMKEY", "$1\r\nr\r\n"},
	{"RANDOMKEY x", "-ERR wrong number of arguments for 'randomkey' command\r\n"},
	{"SET k v", "+OK\r\n"},
	{"MOVE k 0", "-ERR source and destination objects are the same\r\n"},
	{"MOVE k 16", "-ERR DB index is out of range\r\n"},
	{"MOVE k -1", "-ERR DB index is out of range\r\n"},
	{"MOVE k x", "-ERR value is not an integer or out of range\r\n"},
	{"MOVE nosuch 1", ":0\r\n"},
	{"MOVE k 1", ":1\r\n"},
	{"MOVE k 1", ":0\r\n"},
	{"EXISTS k", ":0\r\n"},
	{"SELECT 1", "+OK\r\n"},
	{"GET k", "$1\r\nv\r\n"},
	{"SET k other", "+OK\r\n"},
	{"MOVE k 0", ":1\r\n"},
	{"SELECT 0", "+OK\r\n"},
	{"SET k v2", "+OK\r\n"},
	{"SELECT 1", "+OK\r\n"},
	{"MOVE k 0", ":0\r\n"},
	{"SELECT 0", "+OK\r\n"},
	{"GET k", "$2\r\nv2\r\n"},
	{"MOVE k", "-ERR wrong number of arguments for 'move' command\r\n"},
	{"RPUSH l a b c", ":3\r\n"},
	{"COPY l l", "-ERR source and destination objects are the same\r\n"},
	{"COPY l l2", ":1\r\n"},
	{"LRANGE l2 0 -1", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
	{"COPY l l2", ":0\r\n"},
	{"COPY l l2 REPLACE", ":1\r\n"},
	{"COPY nosuch l3", ":0\r\n"},
	{"COPY nosuch nosuch", "-ERR source and destination objects are the same\r\n"},
	{"COPY l l DB 0", "-ERR source and destination objects are the same\r\n"},
	{"COPY l l DB 1", ":1\r\n"},
	{"COPY l l db 1", ":0\r\n"},
	{"COPY l l db 16", "-ERR DB index is out of range\r\n"},
	{"COPY l l db -1", "-ERR DB index is out of range\r\n"},
	{"COPY l l db x", "-ERR value is not an integer or out of range\r\n"},
	{"COPY l l db", "-ERR syntax error\r\n"},
	{"COPY l l foo", "-ERR syntax error\r\n"},
	{"COPY l l2 replace db 1 replace", ":1\r\n"},
	{"SELECT 1", "+OK\r\n"},
	{"LRANGE l2 0 -1", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
	{"SELECT 0", "+OK\r\n"},
	{"SET s v", "+OK\r\n"},
	{"EXPIRE s 100", ":1\r\n"},
	{"COPY s s2", ":1\r\n"},
	{"TTL s2", ":100\r\n"},
	{"COPY s l2", ":0\r\n"},
	{"COPY s l2 REPLACE", ":1\r\n"},
	{"TYPE l2", "+string\r\n"},
	{"TTL l2", ":100\r\n"},
	{"COPY a", "-ERR wrong number of arguments for 'copy' command\r\n"},
}

func TestKeysCommandsExactReplies(t *testing.T) {
	runSteps(t, startServer(t), keysSteps)
}

// keysClock is a settable clock for the keyspace, so TTL tests do not
// depend on how fast the machine runs.
type keysClock struct{ ms atomic.Int64 }

func (k *keysClock) now() time.Time          { return time.UnixMilli(k.ms.Load()) }
func (k *keysClock) advance(d time.Duration) { k.ms.Add(d.Milliseconds()) }

// startKeysServer is startServer with a settable clock and a recording
// log.
func startKeysServer(t testing.TB) (*testServer, *keysClock, *testutil.Log) {
	t.Helper()
	clock := &keysClock{}
	clock.ms.Store(1_700_000_000_000)
	log := testutil.NewLog()
	return startServerWith(t, serverOpts{log: log, now: clock.now}), clock, log
}

// logStep is a command, its exact reply, and the exact records it logs.
type logStep struct {
	cmd  []string
	want string
	log  []string
}

func runLogSteps(t *testing.T, r *raw, log *testutil.Log, steps []logStep) {
	t.Helper()
	log.Take()
	for i, s := range steps {
		if got := r.do(s.cmd...); got != s.want {
			t.Fatalf("step %d %q: got %q, want %q", i, s.cmd, got, s.want)
		}
		got := log.Take()
		if strings.Join(got, "\n") != strings.Join(s.log, "\n") {
			t.Fatalf("step %d %q logged\n%s\nwant\n%s", i, s.cmd, strings.Join(got, "\n"), strings.Join(s.log, "\n"))
		}
	}
}

// TestExpiryOnAFakeClock checks TTL arithmetic to the millisecond, that
// a key is gone at exactly its expiry time, and that each kind of read
// of an expired key deletes it and logs a DEL, as Redis propagates lazy
// expiry.
func TestExpiryOnAFakeClock(t *testing.T) {
	ts, clock, log := startKeysServer(t)
	r := ts.raw(t)
	t0 := clock.ms.Load()
	at := fmt.Sprint(t0 + 1500)
	runLogSteps(t, r, log, []logStep{
		{[]string{"SET", "k", "v", "PX", "1500"}, "+OK\r\n", []string{"0 SET k v PXAT " + at}},
		{[]string{"PTTL", "k"}, ":1500\r\n", nil},
		{[]string{"TTL", "k"}, ":2\r\n", nil},
		{[]string{"PEXPIRETIME", "k"}, ":" + at + "\r\n", nil},
		{[]string{"EXPIRETIME", "k"}, fmt.Sprintf(":%d\r\n", (t0+1500+500)/1000), nil},
	})
	clock.advance(600 * time.Millisecond)
	runLogSteps(t, r, log, []logStep{
		{[]string{"PTTL", "k"}, ":900\r\n", nil},
		{[]string{"TTL", "k"}, ":1\r\n", nil},
	})
	clock.advance(899 * time.Millisecond)
	runLogSteps(t, r, log, []logStep{{[]string{"PTTL", "k"}, ":1\r\n", nil}})
	clock.advance(time.Millisecond)
	runLogSteps(t, r, log, []logStep{
		{[]string{"DBSIZE"}, ":1\r\n", nil}, // Redis counts keys not yet reclaimed
		{[]string{"KEYS", "*"}, "*0\r\n", nil},
		{[]string{"RANDOMKEY"}, "$-1\r\n", nil},
		{[]string{"GET", "k"}, "$-1\r\n", []string{"0 DEL k"}},
		{[]string{"DBSIZE"}, ":0\r\n", nil},
	})

	// Every kind of read expires the key it finds due.
	reads := [][]string{
		{"GET", "x"}, {"EXISTS", "x"}, {"TYPE", "x"}, {"TTL", "x"}, {"PTTL", "x"}, {"STRLEN", "x"},
		{"MGET", "x"}, {"DUMP", "x"}, {"TOUCH", "x"}, {"EXPIRETIME", "x"}, {"GETEX", "x"}, {"GETDEL", "x"},
		{"INCRBYFLOAT", "x", "1"}, {"APPEND", "x", "y"}, {"SORT", "x"}, {"RENAME", "x", "z"},
		{"PERSIST", "x"}, {"EXPIRE", "x", "100"}, {"COPY", "x", "z"}, {"MOVE", "x", "1"},
		{"LLEN", "x"}, {"LRANGE", "x", "0", "-1"},
	}
	for _, cmd := range reads {
		r.do("SET", "x", "1", "PX", "10")
		clock.advance(10 * time.Millisecond)
		log.Take()
		r.do(cmd...)
		got := log.Take()
		if len(got) == 0 || got[0] != "0 DEL x" {
			t.Errorf("%q on an expired key logged %q, want a DEL first", cmd, got)
		}
		if n := r.do("EXISTS", "x"); n != ":0\r\n" && cmd[0] != "INCRBYFLOAT" && cmd[0] != "APPEND" {
			t.Errorf("%q left the expired key: EXISTS %q", cmd, n)
		}
	}
}

// TestKeysPropagation pins what each write logs: Redis's propagation
// (PEXPIREAT for relative expiries, DEL for expiries in the past, SET
// KEEPTTL for INCRBYFLOAT) and plain commands for COPY and RESTORE.
func TestKeysPropagation(t *testing.T) {
	ts, clock, log := startKeysServer(t)
	r := ts.raw(t)
	t0 := clock.ms.Load()
	ms := func(d int64) string { return fmt.Sprint(t0 + d) }
	runLogSteps(t, r, log, []logStep{
		{[]string{"SET", "k", "v"}, "+OK\r\n", []string{"0 SET k v"}},
		{[]string{"SET", "k", "v", "NX"}, "$-1\r\n", nil},
		{[]string{"EXPIRE", "k", "10"}, ":1\r\n", []string{"0 PEXPIREAT k " + ms(10000)}},
		{[]string{"EXPIRE", "k", "5", "GT"}, ":0\r\n", nil},
		{[]string{"SET", "k", "w", "KEEPTTL"}, "+OK\r\n", []string{"0 SET k w KEEPTTL"}},
		{[]string{"SETEX", "k", "3", "v"}, "+OK\r\n", []string{"0 SET k v PXAT " + ms(3000)}},
		{[]string{"GETEX", "k", "PERSIST"}, "$1\r\nv\r\n", []string{"0 PERSIST k"}},
		{[]string{"GETEX", "k", "PERSIST"}, "$1\r\nv\r\n", nil},
		{[]string{"GETEX", "k", "EX", "7"}, "$1\r\nv\r\n", []string{"0 PEXPIREAT k " + ms(7000)}},
		{[]string{"GETEX", "k", "PXAT", "1"}, "$1\r\nv\r\n", []string{"0 DEL k"}},
		{[]string{"INCRBYFLOAT", "f", "10.5"}, "$4\r\n10.5\r\n", []string{"0 SET f 10.5 KEEPTTL"}},
		{[]string{"INCRBYFLOAT", "f", "0.1"}, "$4\r\n10.6\r\n", []string{"0 SET f 10.6 KEEPTTL"}},
		{[]string{"INCR", "c"}, ":1\r\n", []string{"0 INCRBY c 1"}},
		{[]string{"APPEND", "c", "0"}, ":2\r\n", []string{"0 APPEND c 0"}},
		{[]string{"GETSET", "c", "x"}, "$2\r\n10\r\n", []string{"0 SET c x"}},
		{[]string{"GETDEL", "c"}, "$1\r\nx\r\n", []string{"0 DEL c"}},
		{[]string{"MSETNX", "a", "1", "f", "2"}, ":0\r\n", nil},
		{[]string{"RPUSH", "l", "a", "b"}, ":2\r\n", []string{"0 RPUSH l a b"}},
		{[]string{"PEXPIRE", "l", "100"}, ":1\r\n", []string{"0 PEXPIREAT l " + ms(100)}},
		{[]string{"COPY", "l", "l2", "DB", "2"}, ":1\r\n", []string{"-1 MULTI", "2 DEL l2", "2 RPUSH l2 a b", "2 PEXPIREAT l2 " + ms(100), "-1 EXEC"}},
		{[]string{"MOVE", "l", "3"}, ":1\r\n", []string{"0 MOVE l 3"}},
		{[]string{"RENAME", "f", "g"}, "+OK\r\n", []string{"0 RENAME f g"}},
		{[]string{"EXPIRE", "g", "0"}, ":1\r\n", []string{"0 DEL g"}},
		{[]string{"SWAPDB", "0", "3"}, "+OK\r\n", []string{"0 SWAPDB 0 3"}},
		{[]string{"FLUSHDB", "ASYNC"}, "+OK\r\n", []string{"0 FLUSHDB"}},
		{[]string{"FLUSHALL"}, "+OK\r\n", []string{"0 FLUSHALL"}},
		{[]string{"DEL", "nosuch"}, ":0\r\n", nil},
		{[]string{"PERSIST", "nosuch"}, ":0\r\n", nil},
	})
}

// keysRESP3Steps are replies whose RESP3 shape is worth pinning: nulls
// become "_", while TTL, EXISTS and friends stay integers and SCAN and
// KEYS stay arrays.
var keysRESP3Steps = []step{
	{"FLUSHALL", "+OK\r\n"},
	{"TTL nosuch", ":-2\r\n"},
	{"RANDOMKEY", "_\r\n"},
	{"GET nosuch", "_\r\n"},
	{"DUMP nosuch", "_\r\n"},
	{"SET k v", "+OK\r\n"},
	{"SET k v NX", "_\r\n"},
	{"SET k2 v2 NX GET", "_\r\n"},
	{"GETSET nosuch v", "_\r\n"},
	{"GETEX nosuch2", "_\r\n"},
	{"MGET k nosuch3", "*2\r\n$1\r\nv\r\n_\r\n"},
	{"TYPE k", "+string\r\n"},
	{"EXISTS k k", ":2\r\n"},
	{"EXPIRE k 100", ":1\r\n"},
	{"TTL k", ":100\r\n"},
	{"SETNX k v", ":0\r\n"},
	{"INCRBYFLOAT f 1.5", "$3\r\n1.5\r\n"},
	{"DEL k2 f nosuch", ":3\r\n"},
	{"KEYS *", "*1\r\n$1\r\nk\r\n"},
	{"SCAN 0", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"},
	{"RPUSH l 2 1", ":2\r\n"},
	{"SORT l GET # GET nosuch_*", "*4\r\n$1\r\n1\r\n_\r\n$1\r\n2\r\n_\r\n"},
}

// runStepsConn runs steps on an open connection.
func runStepsConn(t *testing.T, r *raw, steps []step) {
	t.Helper()
	for i, s := range steps {
		if got := r.do(strings.Fields(s.cmd)...); got != s.want {
			t.Fatalf("step %d %q: got %q, want %q", i, s.cmd, got, s.want)
		}
	}
}

func TestKeysRESP3(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	if got := r.do("HELLO", "3"); !strings.HasPrefix(got, "%") {
		t.Fatalf("HELLO 3: %q", got)
	}
	runStepsConn(t, r, keysRESP3Steps)
}

// TestScanVisitsEveryKey iterates a database with small COUNTs and checks
// that every key comes back, with MATCH and TYPE filters applied, and
// that the cursor ends at 0.
func TestScanVisitsEveryKey(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	want := map[string]string{}
	for i := range 500 {
		k := fmt.Sprintf("key:%d", i)
		if i%3 == 0 {
			r.do("RPUSH", k, "x")
			want[k] = "list"
		} else {
			r.do("SET", k, "x")
			want[k] = "string"
		}
	}
	scanAll := func(extra ...string) map[string]bool {
		seen := map[string]bool{}
		cursor := "0"
		for calls := 0; ; calls++ {
			if calls > 10000 {
				t.Fatal("SCAN does not terminate")
			}
			reply := r.do(append([]string{"SCAN", cursor}, extra...)...)
			elems := parseArrayOfBulks(t, reply)
			cursor = elems[0]
			for _, k := range elems[1:] {
				seen[k] = true
			}
			if cursor == "0" {
				return seen
			}
		}
	}
	check := func(name string, got map[string]bool, keep func(k, typ string) bool) {
		t.Helper()
		n := 0
		for k, typ := range want {
			if keep(k, typ) {
				n++
				if !got[k] {
					t.Errorf("%s: SCAN never returned %q", name, k)
				}
			} else if got[k] {
				t.Errorf("%s: SCAN returned %q, which the filter excludes", name, k)
			}
		}
		if len(got) != n {
			t.Errorf("%s: %d keys, want %d", name, len(got), n)
		}
	}
	check("all", scanAll("COUNT", "7"), func(string, string) bool { return true })
	check("match", scanAll("MATCH", "key:1*", "COUNT", "3"), func(k, _ string) bool { return strings.HasPrefix(k, "key:1") })
	check("type", scanAll("TYPE", "list"), func(_, typ string) bool { return typ == "list" })
	check("unknown type", scanAll("TYPE", "zset", "COUNT", "1000"), func(string, string) bool { return false })
}

// parseArrayOfBulks flattens a SCAN-shaped reply (cursor, array of bulks)
// or a plain array of bulks into strings.
func parseArrayOfBulks(t testing.TB, reply string) []string {
	t.Helper()
	var out []string
	lines := strings.Split(reply, "\r\n")
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "$") && lines[i] != "$-1" {
			i++
			out = append(out, lines[i])
		}
	}
	return out
}

// A keysTarget is a server the behaviour tests below run against: mullet here,
// and redis-server too in compat_keys_test.go.
type keysTarget struct {
	addr    string
	blocked func() int // clients blocked on keys
}

func mulletKeysTarget(ts *testServer) keysTarget {
	return keysTarget{addr: ts.addr, blocked: ts.ks.Blocked}
}

func (tg keysTarget) dial(t testing.TB) *raw {
	t.Helper()
	c, err := net.Dial("tcp", tg.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &raw{t: t, c: c, br: bufio.NewReader(c)}
}

func (tg keysTarget) waitBlocked(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for tg.blocked() != n {
		if time.Now().After(deadline) {
			t.Fatalf("blocked clients: %d, want %d", tg.blocked(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// blockedCase puts a list where a client waits, by some keyspace
// operation other than a push.
type blockedCase struct {
	name  string
	db    string     // the waiting client's database
	setup [][]string // run in db 0
	op    []string   // run in db 0
}

func blockedCases() []blockedCase {
	payload := string(dumpListPayload("job"))
	return []blockedCase{
		{"RENAME", "0", [][]string{{"RPUSH", "src", "job"}}, []string{"RENAME", "src", "dst"}},
		{"RENAMENX", "0", [][]string{{"RPUSH", "src", "job"}}, []string{"RENAMENX", "src", "dst"}},
		{"COPY", "0", [][]string{{"RPUSH", "src", "job"}}, []string{"COPY", "src", "dst"}},
		{"COPY DB", "1", [][]string{{"RPUSH", "src", "job"}}, []string{"COPY", "src", "dst", "DB", "1"}},
		{"MOVE", "1", [][]string{{"RPUSH", "dst", "job"}}, []string{"MOVE", "dst", "1"}},
		{"SWAPDB", "1", [][]string{{"RPUSH", "dst", "job"}}, []string{"SWAPDB", "0", "1"}},
		{"RESTORE", "0", nil, []string{"RESTORE", "dst", "0", payload}},
		{"SORT STORE", "0", [][]string{{"RPUSH", "src", "job"}}, []string{"SORT", "src", "ALPHA", "STORE", "dst"}},
	}
}

// checkBlockedServed blocks a client on "dst", runs the case's operation
// from another connection, and returns what the blocked client got.
func checkBlockedServed(t *testing.T, tg keysTarget, bc blockedCase) string {
	t.Helper()
	a, b := tg.dial(t), tg.dial(t)
	b.do("FLUSHALL")
	for _, cmd := range bc.setup {
		b.do(cmd...)
	}
	a.do("SELECT", bc.db)
	a.cmd("BLPOP", "dst", "5")
	tg.waitBlocked(t, 1)
	b.do(bc.op...)
	got := a.reply()
	tg.waitBlocked(t, 0)
	return got
}

func TestKeyspaceOpsServeBlockedClients(t *testing.T) {
	tg := mulletKeysTarget(startServer(t))
	for _, bc := range blockedCases() {
		t.Run(bc.name, func(t *testing.T) {
			if got := checkBlockedServed(t, tg, bc); got != "*2\r\n$3\r\ndst\r\n$3\r\njob\r\n" {
				t.Fatalf("blocked client got %q", got)
			}
		})
	}
}

// watchCase is a command run by another client while "k" is watched, and
// whether EXEC must then fail.
type watchCase struct {
	setup [][]string
	cmd   []string
	dirty bool
}

func watchCases() []watchCase {
	str := [][]string{{"SET", "k", "1"}}
	strTTL := [][]string{{"SET", "k", "1", "EX", "100"}}
	list := [][]string{{"RPUSH", "src", "b", "a"}}
	payload := string(dumpListPayload("x"))
	return []watchCase{
		{str, []string{"DEL", "k"}, true},
		{nil, []string{"DEL", "k"}, false},
		{str, []string{"UNLINK", "k"}, true},
		{str, []string{"EXISTS", "k"}, false},
		{str, []string{"GET", "k"}, false},
		{str, []string{"RENAME", "k", "k2"}, true},
		{[][]string{{"SET", "k2", "1"}}, []string{"RENAME", "k2", "k"}, true},
		{[][]string{{"SET", "k", "1"}, {"SET", "k2", "1"}}, []string{"RENAMENX", "k2", "k"}, false},
		{str, []string{"EXPIRE", "k", "100"}, true},
		{strTTL, []string{"EXPIRE", "k", "100", "NX"}, false},
		{nil, []string{"EXPIRE", "k", "100"}, false},
		{str, []string{"PERSIST", "k"}, false},
		{strTTL, []string{"PERSIST", "k"}, true},
		{str, []string{"SET", "k", "2"}, true},
		{str, []string{"SET", "k", "2", "NX"}, false},
		{str, []string{"SETNX", "k", "2"}, false},
		{nil, []string{"SETNX", "k", "2"}, true},
		{str, []string{"GETSET", "k", "2"}, true},
		{str, []string{"GETDEL", "k"}, true},
		{str, []string{"GETEX", "k"}, false},
		{str, []string{"GETEX", "k", "EX", "100"}, true},
		{str, []string{"INCR", "k"}, true},
		{str, []string{"INCRBYFLOAT", "k", "1.5"}, true},
		{str, []string{"APPEND", "k", "x"}, true},
		{nil, []string{"MSET", "a", "1", "k", "2"}, true},
		{str, []string{"MSETNX", "a", "1", "k", "2"}, false},
		{str, []string{"FLUSHDB"}, true},
		{nil, []string{"FLUSHDB"}, false},
		{str, []string{"FLUSHALL"}, true},
		{str, []string{"SWAPDB", "0", "1"}, true},
		{nil, []string{"SWAPDB", "0", "1"}, false},
		{str, []string{"MOVE", "k", "1"}, true},
		{list, []string{"COPY", "src", "k"}, true},
		{str, []string{"COPY", "k", "k2"}, false},
		{list, []string{"SORT", "src", "ALPHA", "STORE", "k"}, true},
		{nil, []string{"SORT", "nosuch", "STORE", "k"}, false},
		{str, []string{"SORT", "nosuch", "STORE", "k"}, true},
		{str, []string{"SORT", "k", "BY", "nosort"}, false},
		{nil, []string{"RESTORE", "k", "0", payload}, true},
		{str, []string{"RESTORE", "k", "0", payload, "REPLACE"}, true},
		{str, []string{"RESTORE", "k", "1", payload, "ABSTTL", "REPLACE"}, true},
		{nil, []string{"RESTORE", "k", "1", payload, "ABSTTL"}, false},
	}
}

// checkWatch runs one watchCase and returns EXEC's reply.
func checkWatch(t *testing.T, tg keysTarget, wc watchCase) string {
	t.Helper()
	a, b := tg.dial(t), tg.dial(t)
	b.do("FLUSHALL")
	for _, cmd := range wc.setup {
		b.do(cmd...)
	}
	a.do("WATCH", "k")
	b.do(wc.cmd...)
	a.do("MULTI")
	a.do("PING")
	return a.do("EXEC")
}

func TestWatchSeesKeyspaceWrites(t *testing.T) {
	tg := mulletKeysTarget(startServer(t))
	for _, wc := range watchCases() {
		want := "*1\r\n+PONG\r\n"
		if wc.dirty {
			want = "*-1\r\n"
		}
		if got := checkWatch(t, tg, wc); got != want {
			t.Errorf("setup %q, then %q: EXEC %q, want %q", wc.setup, wc.cmd, got, want)
		}
	}
}

// keysFamily is every command of the keyspace, string, SORT and DUMP
// families, which FuzzKeysCommands drives.
var keysFamily = map[string]bool{}

func init() {
	for _, name := range []string{"del", "unlink", "exists", "touch", "type", "keys", "scan", "randomkey", "dbsize",
		"rename", "renamenx", "copy", "move", "flushdb", "flushall", "swapdb", "expire", "pexpire", "expireat",
		"pexpireat", "ttl", "pttl", "expiretime", "pexpiretime", "persist", "get", "set", "setnx", "setex", "psetex",
		"getset", "getdel", "getex", "incr", "decr", "incrby", "decrby", "incrbyfloat", "mget", "mset", "msetnx",
		"append", "strlen", "sort", "sort_ro", "dump", "restore", "rpush", "lrange", "select"} {
		keysFamily[name] = true
	}
}

// FuzzKeysCommands runs arbitrary argument lists for these commands
// through the dispatcher, each on the same small dataset so that an input
// reproduces alone: nothing may panic, and every command must answer
// exactly one well-formed RESP value.
func FuzzKeysCommands(f *testing.F) {
	for _, steps := range [][]step{keysSteps, stringSteps, sortSteps, dumpSteps} {
		for _, s := range steps {
			f.Add(s.cmd)
		}
	}
	f.Add(`RESTORE k 0 "\x00\x05hello\n\x00cr\xdfve4 \n" REPLACE`)
	f.Add(`SORT l BY w_*->f GET # GET "w_\x00*" LIMIT 1 3 ALPHA STORE l`)
	set := config.New()
	if err := set.Load("", [][]string{{"appendonly", "no"}}); err != nil {
		f.Fatal(err)
	}
	ks := queue.New(queue.Config{})
	s := New(Config{Keyspace: ks, Settings: set, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	conn, peer := net.Pipe()
	defer conn.Close()
	defer peer.Close()
	c := newClient(s, conn)
	f.Fuzz(func(t *testing.T, line string) {
		argv, ok := splitArgs([]byte(line), nil)
		if !ok || len(argv) == 0 || !keysFamily[strings.ToLower(string(argv[0]))] {
			return
		}
		c.sess.Dispatch(stringsToArgs([]string{"SELECT", "0"}))
		for _, seed := range [][]string{{"FLUSHALL"}, {"RPUSH", "l", "3", "1", "2", "x", "1.5"},
			{"MSET", "w_1", "1", "w_2", "b", "w_x", "-3", "s", "v"}, {"SET", "t", "10", "EX", "100"}} {
			c.sess.Dispatch(stringsToArgs(seed))
		}
		c.rw.Buf = c.rw.Buf[:0]
		c.sess.Dispatch(argv)
		br := bufio.NewReader(bytes.NewReader(c.rw.Buf))
		var one bytes.Buffer
		if err := resp.ReadRaw(br, &one); err != nil || one.Len() != len(c.rw.Buf) {
			t.Fatalf("%q answered %q, not one RESP value", line, c.rw.Buf)
		}
	})
}

func stringsToArgs(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}
