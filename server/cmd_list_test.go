package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The replies here are Redis 7.0.15's, byte for byte (they were recorded
// from redis-server; compat_test.go checks the same scripts against a live
// one).
func TestListCommandsExactReplies(t *testing.T) {
	ts := startServer(t)
	runSteps(t, ts, []step{
		{"LPUSH q a b c", ":3\r\n"},
		{"RPUSH q d", ":4\r\n"},
		{"LRANGE q 0 -1", "*4\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n"},
		{"LRANGE q -2 100", "*2\r\n$1\r\na\r\n$1\r\nd\r\n"},
		{"LRANGE q 5 10", "*0\r\n"},
		{"LRANGE q x 1", "-ERR value is not an integer or out of range\r\n"},
		{"LLEN q", ":4\r\n"},
		{"LLEN nosuch", ":0\r\n"},
		{"LINDEX q 1", "$1\r\nb\r\n"},
		{"LINDEX q -1", "$1\r\nd\r\n"},
		{"LINDEX q 9", "$-1\r\n"},
		{"LSET q 0 C", "+OK\r\n"},
		{"LSET q 9 C", "-ERR index out of range\r\n"},
		{"LSET nosuch 0 C", "-ERR no such key\r\n"},
		{"LINSERT q BEFORE a X", ":5\r\n"},
		{"LINSERT q AFTER nope X", ":-1\r\n"},
		{"LINSERT nosuch AFTER a X", ":0\r\n"},
		{"LINSERT q SIDEWAYS a X", "-ERR syntax error\r\n"},
		{"LPOS q X", ":2\r\n"},
		{"LPOS q nope", "$-1\r\n"},
		{"LPOS q X COUNT 0", "*1\r\n:2\r\n"},
		{"LPOS q X RANK 0", "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"},
		{"LREM q 0 X", ":1\r\n"},
		{"LTRIM q 1 -1", "+OK\r\n"},
		{"LRANGE q 0 -1", "*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n"},
		{"LPOP q", "$1\r\nb\r\n"},
		{"RPOP q 5", "*2\r\n$1\r\nd\r\n$1\r\na\r\n"},
		{"RPOP q", "$-1\r\n"},
		{"RPOP q 2", "*-1\r\n"},
		{"LPOP q -1", "-ERR value is out of range, must be positive\r\n"},
		{"EXISTS q", ":0\r\n"},
		{"LPUSHX q a", ":0\r\n"},
		{"RPUSH src 1 2 3", ":3\r\n"},
		{"LMOVE src dst RIGHT LEFT", "$1\r\n3\r\n"},
		{"RPOPLPUSH src dst", "$1\r\n2\r\n"},
		{"LMOVE src dst UP LEFT", "-ERR syntax error\r\n"},
		{"LMPOP 2 nosuch dst LEFT COUNT 5", "*2\r\n$3\r\ndst\r\n*2\r\n$1\r\n2\r\n$1\r\n3\r\n"},
		{"LMPOP 0 dst LEFT", "-ERR numkeys should be greater than 0\r\n"},
		{"LMPOP 1 dst LEFT", "*-1\r\n"},
		{"LPUSH", "-ERR wrong number of arguments for 'lpush' command\r\n"},
		{"lpush", "-ERR wrong number of arguments for 'lpush' command\r\n"},
		{"NOSUCHCMD a b", "-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' \r\n"},
	})
}

func TestWrongType(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	r.do("SET", "s", "x")
	for _, cmd := range [][]string{
		{"LPUSH", "s", "a"}, {"RPOP", "s"}, {"LLEN", "s"}, {"LRANGE", "s", "0", "-1"},
		{"LMOVE", "s", "d", "LEFT", "LEFT"}, {"BLPOP", "s", "1"},
	} {
		if got := r.do(cmd...); got != "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" {
			t.Errorf("%v: %q", cmd, got)
		}
	}
}

func TestBlockingFIFOAndTimeouts(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	// Three clients block in order; three pushes serve them in that order.
	results := make([]chan string, 3)
	for i := range results {
		results[i] = make(chan string, 1)
		c := ts.client(t)
		go func() {
			v, err := c.BRPop(ctx, 0, "q").Result()
			if err != nil {
				results[i] <- "err: " + err.Error()
				return
			}
			results[i] <- v[1]
		}()
		waitBlocked(t, ts, i+1)
	}
	p := ts.client(t)
	for i := 0; i < 3; i++ {
		p.LPush(ctx, "q", fmt.Sprint(i))
		if got := <-results[i]; got != fmt.Sprint(i) {
			t.Fatalf("waiter %d got %q, want %d", i, got, i)
		}
	}
	// A timeout answers a null array and leaves no waiter behind.
	r := ts.raw(t)
	start := time.Now()
	if got := r.do("BLPOP", "empty", "0.1"); got != "*-1\r\n" {
		t.Fatalf("timeout reply %q", got)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Fatalf("BLPOP returned after %v, before its timeout", d)
	}
	if n := ts.ks.Blocked(); n != 0 {
		t.Fatalf("%d clients still blocked", n)
	}
	if got := r.do("BLPOP", "q", "-1"); got != "-ERR timeout is negative\r\n" {
		t.Fatalf("negative timeout: %q", got)
	}
	if got := r.do("BLPOP", "q", "abc"); got != "-ERR timeout is not a float or out of range\r\n" {
		t.Fatalf("bad timeout: %q", got)
	}
}

// waitBlocked waits until n clients are blocked, as tools do by polling
// INFO's blocked_clients.
func waitBlocked(t testing.TB, ts *testServer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for ts.ks.Blocked() != n {
		if time.Now().After(deadline) {
			t.Fatalf("blocked clients: %d, want %d", ts.ks.Blocked(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBlockedClientDisconnectLeavesNoTrace(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	r.cmd("BLPOP", "q", "0")
	waitBlocked(t, ts, 1)
	r.c.Close()
	waitBlocked(t, ts, 0)
	// The next push is not swallowed by the departed client.
	c := ts.raw(t)
	c.do("RPUSH", "q", "item")
	if got := c.do("LLEN", "q"); got != ":1\r\n" {
		t.Fatalf("LLEN after push: %q", got)
	}
}

func TestBlockingInsideMultiDoesNotBlock(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	r.do("MULTI")
	r.do("BLPOP", "q", "0")
	r.do("BLMOVE", "q", "d", "LEFT", "LEFT", "0")
	if got := r.do("EXEC"); got != "*2\r\n*-1\r\n$-1\r\n" {
		t.Fatalf("EXEC: %q", got)
	}
}

func TestBLMoveAndPipelinedCommandsWaitForTheBlock(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	// BLMOVE then PING in one write: PING must be answered after the move.
	r.send("*6\r\n$6\r\nBLMOVE\r\n$3\r\nsrc\r\n$3\r\ndst\r\n$5\r\nRIGHT\r\n$4\r\nLEFT\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n")
	waitBlocked(t, ts, 1)
	p := ts.raw(t)
	p.do("RPUSH", "src", "job")
	if got := r.reply(); got != "$3\r\njob\r\n" {
		t.Fatalf("BLMOVE reply %q", got)
	}
	if got := r.reply(); got != "+PONG\r\n" {
		t.Fatalf("pipelined PING reply %q", got)
	}
	if got := p.do("LRANGE", "dst", "0", "-1"); got != "*1\r\n$3\r\njob\r\n" {
		t.Fatalf("dst %q", got)
	}
}

func TestClientUnblock(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	id := strings.TrimSuffix(strings.TrimPrefix(r.do("CLIENT", "ID"), ":"), "\r\n")
	r.cmd("BRPOP", "q", "0")
	waitBlocked(t, ts, 1)
	a := ts.raw(t)
	if got := a.do("CLIENT", "UNBLOCK", id, "ERROR"); got != ":1\r\n" {
		t.Fatalf("CLIENT UNBLOCK: %q", got)
	}
	if got := r.reply(); got != "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n" {
		t.Fatalf("unblocked reply %q", got)
	}
	r.cmd("BRPOP", "q", "0")
	waitBlocked(t, ts, 1)
	a.do("CLIENT", "UNBLOCK", id)
	if got := r.reply(); got != "*-1\r\n" {
		t.Fatalf("unblock-as-timeout reply %q", got)
	}
	if got := a.do("CLIENT", "UNBLOCK", id); got != ":0\r\n" {
		t.Fatalf("unblocking an unblocked client: %q", got)
	}
}

func TestMultiExecWatch(t *testing.T) {
	ts := startServer(t)
	runSteps(t, ts, []step{
		{"MULTI", "+OK\r\n"},
		{"LPUSH q a", "+QUEUED\r\n"},
		{"LLEN q", "+QUEUED\r\n"},
		{"EXEC", "*2\r\n:1\r\n:1\r\n"},
		{"EXEC", "-ERR EXEC without MULTI\r\n"},
		{"MULTI", "+OK\r\n"},
		{"MULTI", "-ERR MULTI calls can not be nested\r\n"},
		{"NOSUCH", "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"},
		{"EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{"DISCARD", "-ERR DISCARD without MULTI\r\n"},
	})
	// WATCH: a change by another client aborts EXEC with a null array.
	a, b := ts.raw(t), ts.raw(t)
	a.do("WATCH", "q")
	b.do("LPUSH", "q", "x")
	a.do("MULTI")
	a.do("LPOP", "q")
	if got := a.do("EXEC"); got != "*-1\r\n" {
		t.Fatalf("EXEC after watched change: %q", got)
	}
	a.do("WATCH", "q")
	a.do("MULTI")
	a.do("LPOP", "q")
	if got := a.do("EXEC"); got != "*1\r\n$1\r\nx\r\n" {
		t.Fatalf("EXEC with untouched watch: %q", got)
	}
}

func TestProtocolErrors(t *testing.T) {
	ts := startServer(t)
	cases := []struct{ in, want string }{
		{"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n:5\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"},
		{"*1\r\n$999999999999\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"PING \"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
	}
	for _, tc := range cases {
		r := ts.raw(t)
		r.send(tc.in)
		if got := r.reply(); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
		r.expectClosed()
	}
	// The server still serves others.
	if got := ts.raw(t).do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after protocol errors: %q", got)
	}
}

func TestInlineCommands(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	r.send("\r\nRPUSH q \"a b\" 'c\\'d' \"\\x41\\n\"\r\nLRANGE q 0 -1\n")
	if got := r.reply(); got != ":3\r\n" {
		t.Fatalf("inline RPUSH %q", got)
	}
	if got := r.reply(); got != "*3\r\n$3\r\na b\r\n$3\r\nc'd\r\n$2\r\nA\n\r\n" {
		t.Fatalf("inline LRANGE %q", got)
	}
}

func TestPipelineLargeAndConcurrent(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := ts.client(t)
			pipe := c.Pipeline()
			for i := 0; i < 1000; i++ {
				pipe.RPush(ctx, "q", fmt.Sprintf("%d-%d", w, i))
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c := ts.client(t)
	if n := c.LLen(ctx, "q").Val(); n != 8000 {
		t.Fatalf("LLEN %d", n)
	}
	// Per producer, order is kept.
	items := c.LRange(ctx, "q", 0, -1).Val()
	next := map[string]int{}
	for _, it := range items {
		var w, i int
		fmt.Sscanf(it, "%d-%d", &w, &i)
		if i != next[fmt.Sprint(w)] {
			t.Fatalf("producer %d: item %d out of order", w, i)
		}
		next[fmt.Sprint(w)]++
	}
}

func TestRESP3(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	hello := r.do("HELLO", "3")
	if !strings.HasPrefix(hello, "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n") {
		t.Fatalf("HELLO 3: %q", hello)
	}
	if got := r.do("LPOP", "nosuch"); got != "_\r\n" {
		t.Fatalf("RESP3 null: %q", got)
	}
	if got := r.do("HELLO", "4"); got != "-NOPROTO unsupported protocol version\r\n" {
		t.Fatalf("HELLO 4: %q", got)
	}
	c := ts.client(t, func(o *redis.Options) { o.Protocol = 3 })
	ctx := context.Background()
	c.RPush(ctx, "q", "a")
	if v, err := c.BLPop(ctx, time.Second, "q").Result(); err != nil || v[1] != "a" {
		t.Fatalf("go-redis RESP3 BLPOP: %v %v", v, err)
	}
}
