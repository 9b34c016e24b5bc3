package server

import (
	"fmt"
	"strings"
	"testing"

	"mullet/rdb"
)

// dumpListPayload is the DUMP payload of a list of items.
func dumpListPayload(items ...string) []byte {
	b := make([][]byte, len(items))
	for i, it := range items {
		b[i] = []byte(it)
	}
	return rdb.EncodeList(b)
}

// dumpSteps pin DUMP's payloads for strings, which are byte-identical to
// redis-server 7.0.15's for values it does not compress (all of these);
// compat_keys_test.go replays them against a live one.
var dumpSteps = []step{
	{"FLUSHALL", "+OK\r\n"},
	{"SET s hello", "+OK\r\n"},
	{"DUMP s", "$17\r\n\x00\x05hello\n\x00cr\xdfve4 \n\r\n"},
	{"SET n 12345", "+OK\r\n"},
	{"DUMP n", "$14\r\n\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\b\xb9\r\n"},
	{"SET neg -5", "+OK\r\n"},
	{"DUMP neg", "$13\r\n\x00\xc0\xfb\n\x00I\xc4\xc6\xf4\xd7&?h\r\n"},
	{"SET big 99999999999", "+OK\r\n"},
	{"DUMP big", "$23\r\n\x00\v99999999999\n\x00#\xb0H\xfb\x0e\xdb\xef\x7f\r\n"},
	{"SET i32 2147483648", "+OK\r\n"},
	{"DUMP i32", "$22\r\n\x00\n2147483648\n\x00\xe7\xb1)\xa3L\x1dv\xee\r\n"},
	{"DUMP nosuch", "$-1\r\n"},
	{"DUMP", "-ERR wrong number of arguments for 'dump' command\r\n"},
	{"RESTORE k 0", "-ERR wrong number of arguments for 'restore' command\r\n"},
	{"RESTORE s 0 x", "-BUSYKEY Target key name already exists.\r\n"},
	{"RESTORE s x x", "-BUSYKEY Target key name already exists.\r\n"},
	{"RESTORE k x x", "-ERR value is not an integer or out of range\r\n"},
	{"RESTORE k -1 x", "-ERR Invalid TTL value, must be >= 0\r\n"},
	{"RESTORE k 0 x", "-ERR DUMP payload version or checksum are wrong\r\n"},
	{"RESTORE k 0 0123456789", "-ERR DUMP payload version or checksum are wrong\r\n"},
	{"RESTORE s 0 x REPLACE", "-ERR DUMP payload version or checksum are wrong\r\n"},
	{"RESTORE s 0 x FOO", "-ERR syntax error\r\n"},
	{"RESTORE s 0 x REPLACE IDLETIME", "-ERR syntax error\r\n"},
	{"RESTORE s 0 x IDLETIME -1", "-ERR Invalid IDLETIME value, must be >= 0\r\n"},
	{"RESTORE s 0 x IDLETIME x", "-ERR value is not an integer or out of range\r\n"},
	{"RESTORE s 0 x FREQ 256", "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"},
	{"RESTORE s 0 x FREQ -1", "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"},
	{"RESTORE s 0 x FREQ 1 IDLETIME 1", "-ERR syntax error\r\n"},
	{"RESTORE s 0 x IDLETIME 1 FREQ 1", "-ERR syntax error\r\n"},
	{"RESTORE s 0 x IDLETIME 1 IDLETIME 2 FREQ", "-ERR syntax error\r\n"},
}

func TestDumpExactReplies(t *testing.T) {
	runSteps(t, startServer(t), dumpSteps)
}

// restoreSteps need binary payloads, so they are run with explicit
// argument lists. Their replies are Redis 7.0's (checked live in
// compat_keys_test.go) except where noted.
type restoreStep struct {
	args []string
	want string
}

func restoreSteps() []restoreStep {
	hello := string(rdb.EncodeString([]byte("hello")))
	list := string(dumpListPayload("a", "b", "c"))
	badCRC := []byte(hello)
	badCRC[len(badCRC)-1] ^= 1
	badVersion := []byte(hello)
	badVersion[len(badVersion)-10] = 11
	return []restoreStep{
		{[]string{"FLUSHALL"}, "+OK\r\n"},
		{[]string{"RESTORE", "k", "0", hello}, "+OK\r\n"},
		{[]string{"GET", "k"}, "$5\r\nhello\r\n"},
		{[]string{"TTL", "k"}, ":-1\r\n"},
		{[]string{"RESTORE", "k", "0", hello}, "-BUSYKEY Target key name already exists.\r\n"},
		{[]string{"RESTORE", "k", "0", list, "REPLACE"}, "+OK\r\n"},
		{[]string{"LRANGE", "k", "0", "-1"}, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{[]string{"RESTORE", "k", "100000", hello, "REPLACE", "IDLETIME", "10"}, "+OK\r\n"},
		{[]string{"TTL", "k"}, ":100\r\n"},
		{[]string{"RESTORE", "k", "4102444800000", hello, "REPLACE", "ABSTTL", "FREQ", "5"}, "+OK\r\n"},
		{[]string{"PEXPIRETIME", "k"}, ":4102444800000\r\n"},
		// A TTL already past creates nothing, but REPLACE still deletes.
		{[]string{"RESTORE", "k", "1", hello, "ABSTTL"}, "-BUSYKEY Target key name already exists.\r\n"},
		{[]string{"RESTORE", "k", "1", hello, "ABSTTL", "REPLACE"}, "+OK\r\n"},
		{[]string{"EXISTS", "k"}, ":0\r\n"},
		{[]string{"RESTORE", "k", "1", hello, "ABSTTL"}, "+OK\r\n"},
		{[]string{"EXISTS", "k"}, ":0\r\n"},
		{[]string{"RESTORE", "k", "9223372036854775807", hello}, "+OK\r\n"}, // the TTL wraps negative: expired
		{[]string{"EXISTS", "k"}, ":0\r\n"},
		{[]string{"RESTORE", "k", "0", string(badCRC)}, "-ERR DUMP payload version or checksum are wrong\r\n"},
		{[]string{"RESTORE", "k", "0", string(badVersion)}, "-ERR DUMP payload version or checksum are wrong\r\n"},
		{[]string{"RESTORE", "k", "0", hello[:len(hello)-1]}, "-ERR DUMP payload version or checksum are wrong\r\n"},
		{[]string{"RESTORE", "k", "0", string(dumpListPayload())}, "-ERR Bad data format\r\n"},
		{[]string{"RESTORE", "k", "0", ""}, "-ERR DUMP payload version or checksum are wrong\r\n"},
		{[]string{"SET", "e", ""}, "+OK\r\n"},
		{[]string{"DUMP", "e"}, "$12\r\n\x00\x00\n\x00]\x9b\\@\x0f\x7f\xa2\xda\r\n"},
	}
}

func TestRestore(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	for i, s := range restoreSteps() {
		if got := r.do(s.args...); got != s.want {
			t.Fatalf("step %d %.40q: got %q, want %q", i, s.args, got, s.want)
		}
	}
	// A hash DUMPed by Redis 7.0: Redis restores it, mullet holds no
	// hashes and refuses it rather than drop data.
	hash := "\x10\r\r\x00\x00\x00\x02\x00\x81f\x02\x81v\x02\xff\n\x00 \xf1=D#T\b\x9d"
	if got := r.do("RESTORE", "h", "0", hash); got != "-ERR Bad data format\r\n" {
		t.Fatalf("RESTORE of a hash: %q", got)
	}
	// Redis 7.0's own DUMP of a list (quicklist of listpacks) restores.
	redisList := "\x12\x01\x02\x0f\x0f\x00\x00\x00\x03\x00\x81a\x02\x81b\x02\x01\x01\xff\n\x00\xe0\x1b\xabJG\xceY\""
	if got := r.do("RESTORE", "l", "0", redisList); got != "+OK\r\n" {
		t.Fatalf("RESTORE of Redis's list: %q", got)
	}
	if got := r.do("LRANGE", "l", "0", "-1"); got != "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\n1\r\n" {
		t.Fatalf("restored list: %q", got)
	}
}

// TestDumpRestoreRoundTrip moves strings and lists of every size class
// through DUMP and RESTORE.
func TestDumpRestoreRoundTrip(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	values := []string{"", "0", "-1", "2147483647", "2147483648", "-2147483649", "007", "x", strings.Repeat("ab", 5000)}
	for i, v := range values {
		src := fmt.Sprint("s", i)
		r.do("SET", src, v)
		payload := r.do("DUMP", src)
		body := bulkBody(t, payload)
		if got := r.do("RESTORE", src+"c", "0", body); got != "+OK\r\n" {
			t.Fatalf("RESTORE of %q: %q", v, got)
		}
		if a, b := r.do("GET", src), r.do("GET", src+"c"); a != b {
			t.Fatalf("%q came back as %q", a, b)
		}
	}
	for _, n := range []int{1, 2, 63, 64, 1000, 20000} {
		args := []string{"RPUSH", "l"}
		for i := range n {
			args = append(args, fmt.Sprint(i%7, strings.Repeat("x", i%300)))
		}
		r.do("DEL", "l")
		r.do(args...)
		body := bulkBody(t, r.do("DUMP", "l"))
		if got := r.do("RESTORE", "lc", "0", body, "REPLACE"); got != "+OK\r\n" {
			t.Fatalf("RESTORE of a %d-item list: %q", n, got)
		}
		if a, b := r.do("LRANGE", "l", "0", "-1"), r.do("LRANGE", "lc", "0", "-1"); a != b {
			t.Fatalf("%d-item list differs after the round trip", n)
		}
	}
}

// bulkBody returns the contents of a bulk string reply.
func bulkBody(t testing.TB, reply string) string {
	t.Helper()
	i := strings.Index(reply, "\r\n")
	if !strings.HasPrefix(reply, "$") || i < 0 || !strings.HasSuffix(reply, "\r\n") {
		t.Fatalf("not a bulk string: %.60q", reply)
	}
	return reply[i+2 : len(reply)-2]
}

// TestRestoreLog checks that RESTORE reaches the log as commands any
// Redis replays (no payload, no clock): DEL, SET or RPUSH, and an absolute
// PEXPIREAT, in one MULTI.
func TestRestoreLog(t *testing.T) {
	ts, clock, log := startKeysServer(t)
	r := ts.raw(t)
	hello := string(rdb.EncodeString([]byte("hello")))
	at := fmt.Sprint(clock.ms.Load() + 5000)
	runLogSteps(t, r, log, []logStep{
		{[]string{"RESTORE", "k", "5000", hello}, "+OK\r\n", []string{"-1 MULTI", "0 DEL k", "0 SET k hello", "0 PEXPIREAT k " + at, "-1 EXEC"}},
		{[]string{"RESTORE", "k", "0", string(dumpListPayload("a", "b")), "REPLACE"}, "+OK\r\n", []string{"-1 MULTI", "0 DEL k", "0 RPUSH k a b", "-1 EXEC"}},
		{[]string{"RESTORE", "k", "1", hello, "REPLACE", "ABSTTL"}, "+OK\r\n", []string{"0 DEL k"}},
		{[]string{"RESTORE", "k", "1", hello, "REPLACE", "ABSTTL"}, "+OK\r\n", nil},
		{[]string{"RESTORE", "k", "0", hello, "FOO"}, "-ERR syntax error\r\n", nil},
	})
}
