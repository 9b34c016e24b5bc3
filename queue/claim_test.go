package queue

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mullet/internal/testutil"
)

func lrange(t *testing.T, ks *Keyspace, key string) []string {
	t.Helper()
	tx := ks.Begin()
	defer tx.End()
	items, err := tx.Range(0, []byte(key), 0, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, string(it))
	}
	return out
}

func pushItems(t *testing.T, ks *Keyspace, key string, items ...string) {
	t.Helper()
	var vals [][]byte
	for _, s := range items {
		vals = append(vals, []byte(s))
	}
	tx := ks.Begin()
	_, err := tx.Push(0, []byte(key), vals, true, false)
	tx.End()
	if err != nil {
		t.Fatal(err)
	}
}

func TestClaim(t *testing.T) {
	log := testutil.NewLog()
	ks := New(Config{Log: log})
	pushItems(t, ks, "q", "a", "b", "c", "d", "e") // LPUSH: list is e d c b a
	mark := log.Len()

	tx := ks.Begin()
	got, err := tx.Claim(0, []byte("q"), []byte("q:inflight:1"), 3, nil)
	var claimed []string
	for _, it := range got {
		claimed = append(claimed, string(it)) // copy before End
	}
	ticket := tx.End()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(claimed, want) {
		t.Errorf("claimed %q, want %q (oldest first)", claimed, want)
	}
	if got, want := lrange(t, ks, "q:inflight:1"), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("batch key holds %q, want %q", got, want)
	}
	if got, want := lrange(t, ks, "q"), []string{"e", "d"}; !slices.Equal(got, want) {
		t.Errorf("queue holds %q, want %q", got, want)
	}
	wantLog := []string{
		"MULTI",
		"LMOVE q q:inflight:1 RIGHT RIGHT",
		"LMOVE q q:inflight:1 RIGHT RIGHT",
		"LMOVE q q:inflight:1 RIGHT RIGHT",
		"EXEC",
	}
	if got := log.Lines(mark); !slices.Equal(got, wantLog) {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLog, "\n"))
	}
	if ticket != uint64(log.Len()) {
		t.Errorf("End returned ticket %d, want the EXEC's %d", ticket, log.Len())
	}

	// Claiming more than there is takes the rest and deletes the queue.
	tx = ks.Begin()
	got, err = tx.Claim(0, []byte("q"), []byte("q:inflight:2"), 10, nil)
	n := len(got)
	tx.End()
	if err != nil || n != 2 {
		t.Fatalf("second claim: %d items, %v; want 2", n, err)
	}
	tx = ks.Begin()
	exists := tx.Exists(0, [][]byte{[]byte("q")})
	tx.End()
	if exists != 0 {
		t.Error("an emptied queue must be deleted, as Redis does")
	}
}

func TestClaimNothing(t *testing.T) {
	log := testutil.NewLog()
	ks := New(Config{Log: log})
	pushItems(t, ks, "q", "a")
	for _, tc := range []struct {
		name string
		src  string
		n    int
	}{
		{"missing queue", "nope", 5},
		{"zero count", "q", 0},
		{"negative count", "q", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := log.Len()
			tx := ks.Begin()
			got, err := tx.Claim(0, []byte(tc.src), []byte("dst"), tc.n, nil)
			ticket := tx.End()
			if err != nil || len(got) != 0 || ticket != 0 || log.Len() != mark {
				t.Errorf("got %d items, err %v, ticket %d, %d records; want nothing", len(got), err, ticket, log.Len()-mark)
			}
			tx = ks.Begin()
			exists := tx.Exists(0, [][]byte{[]byte("dst")})
			tx.End()
			if exists != 0 {
				t.Error("an empty claim must not create the batch key")
			}
		})
	}
}

func TestClaimErrors(t *testing.T) {
	ks := New(Config{})
	pushItems(t, ks, "q", "a")
	pushItems(t, ks, "busy", "x")
	tx := ks.Begin()
	tx.Set(0, []byte("str"), []byte("v"), SetOptions{})
	tx.End()
	for _, tc := range []struct {
		name     string
		src, dst string
		db       int
		want     error
	}{
		{"source is a string", "str", "d", 0, ErrWrongType},
		{"destination exists", "q", "busy", 0, ErrBusyKey},
		{"destination is the source", "q", "q", 0, ErrBusyKey},
		{"bad database", "q", "d", 99, ErrDBIndex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx := ks.Begin()
			_, err := tx.Claim(tc.db, []byte(tc.src), []byte(tc.dst), 1, nil)
			tx.End()
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if got := lrange(t, ks, "q"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("failed claims changed the queue: %q", got)
	}
}

// TestClaimAtMaxMemory: producers are refused at the cap (by the server),
// but claims keep the queue draining, and memory stays accounted.
func TestClaimAtMaxMemory(t *testing.T) {
	ks := New(Config{MaxMemory: 1})
	pushItems(t, ks, "q", "a", "b", "c")
	if !ks.OverLimit() {
		t.Fatal("test setup: keyspace should be over its limit")
	}
	before := ks.UsedMemory()
	tx := ks.Begin()
	got, err := tx.Claim(0, []byte("q"), []byte("b1"), 3, nil)
	tx.End()
	if err != nil || len(got) != 3 {
		t.Fatalf("claim at the cap: %d items, %v", len(got), err)
	}
	tx = ks.Begin()
	tx.Del(0, [][]byte{[]byte("b1")})
	tx.End()
	if used := ks.UsedMemory(); used != 0 {
		t.Errorf("used memory %d after claiming and deleting everything (was %d); accounting leaks", used, before)
	}
}

// TestClaimNoAllocsPerItem: the claim path copies nothing per item. It
// compares claims of 50 and 500 items: the difference must be the batch
// list's chunks (8 KiB each, ~50 items of 150 bytes), not one per item.
func TestClaimNoAllocsPerItem(t *testing.T) {
	ks := New(Config{Log: discardLog{}})
	item := bytes.Repeat([]byte("x"), 150)
	vals := make([][]byte, 1000)
	for i := range vals {
		vals[i] = item
	}
	out := make([][]byte, 0, 500)
	dst := []byte("batch")
	allocs := func(n int) float64 {
		return testing.AllocsPerRun(20, func() {
			tx := ks.Begin()
			tx.Push(0, []byte("q"), vals, true, false)
			out, _ = tx.Claim(0, []byte("q"), dst, n, out[:0])
			tx.Del(0, [][]byte{dst, []byte("q")})
			tx.End()
		})
	}
	small, big := allocs(50), allocs(500)
	if big-small > 50 {
		t.Errorf("claiming 500 items costs %.0f allocations more than 50 items; want a few per 8 KiB chunk, none per item", big-small)
	}
}

func BenchmarkClaim(b *testing.B) {
	ks := New(Config{Log: discardLog{}})
	item := bytes.Repeat([]byte("x"), 150)
	vals := make([][]byte, 500)
	for i := range vals {
		vals[i] = item
	}
	out := make([][]byte, 0, 500)
	dst := []byte("q:inflight:batch")
	b.ReportAllocs()
	for b.Loop() {
		tx := ks.Begin()
		tx.Push(0, []byte("q"), vals, true, false)
		out, _ = tx.Claim(0, []byte("q"), dst, 500, out[:0])
		tx.Del(0, [][]byte{dst})
		tx.End()
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "items/s")
}

type discardLog struct{}

func (discardLog) Append(int, [][]byte) uint64        { return 1 }
func (discardLog) Wait(uint64) error                  { return nil }
func (discardLog) Sync(context.Context, uint64) error { return nil }
func (discardLog) Err() error                         { return nil }

// TestClaimReplaysInRedis sends what Claim logged to a real redis-server
// 7.0 and checks it reaches the same lists: the AOF must stay loadable by
// Redis.
func TestClaimReplaysInRedis(t *testing.T) {
	log := testutil.NewLog()
	ks := New(Config{Log: log})
	var items []string
	for i := range 300 {
		items = append(items, fmt.Sprintf(`{"id":%d,"note":"item\r\n%d"}`, i, i))
	}
	pushItems(t, ks, "order_queue", items...)
	for i, n := range []int{100, 1, 150, 100} {
		tx := ks.Begin()
		_, err := tx.Claim(0, []byte("order_queue"), fmt.Appendf(nil, "order_queue:inflight:b%d", i), n, nil)
		tx.End()
		if err != nil {
			t.Fatal(err)
		}
	}

	r := startRedis(t)
	for _, rec := range log.Records(0) {
		r.do(t, rec.Argv...)
	}
	for _, key := range []string{"order_queue", "order_queue:inflight:b0", "order_queue:inflight:b1",
		"order_queue:inflight:b2", "order_queue:inflight:b3"} {
		want := lrange(t, ks, key)
		got := r.strings(t, "LRANGE", key, "0", "-1")
		if !slices.Equal(got, want) {
			t.Errorf("%s: redis-server has %d items, mullet %d\nredis: %.200q\nmullet: %.200q", key, len(got), len(want), got, want)
		}
	}
}

// redisConn is a bare RESP connection to a redis-server started by
// startRedis.
type redisConn struct {
	c  net.Conn
	br *bufio.Reader
}

// startRedis runs redis-server 7.0 on a free loopback port without
// persistence and kills it (by PID) when the test ends. It fails the test
// when redis-server is missing: CI installs it.
func startRedis(t *testing.T) *redisConn {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is required (apt-get install redis-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return &redisConn{c: c, br: bufio.NewReader(c)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server not accepting connections after 10s: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling a child process's port, not a goroutine
	}
}

// do sends one command and returns its reply, failing on an error reply.
func (r *redisConn) do(t *testing.T, args ...[]byte) any {
	t.Helper()
	var b []byte
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n", len(a))
		b = append(append(b, a...), "\r\n"...)
	}
	if _, err := r.c.Write(b); err != nil {
		t.Fatal(err)
	}
	v, err := readReply(r.br)
	if err != nil {
		t.Fatalf("%s: %v", args[0], err)
	}
	return v
}

func (r *redisConn) strings(t *testing.T, args ...string) []string {
	t.Helper()
	var bs [][]byte
	for _, a := range args {
		bs = append(bs, []byte(a))
	}
	v, _ := r.do(t, bs...).([]any)
	var out []string
	for _, e := range v {
		out = append(out, e.(string))
	}
	return out
}

func readReply(br *bufio.Reader) (any, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return nil, errors.New(line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		out := make([]any, 0, max(n, 0))
		for range n {
			v, err := readReply(br)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply %q", line)
}
