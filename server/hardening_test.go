package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"mullet/command"
	"mullet/config"
	"mullet/internal/testutil"
)

// The hardening tests: what any client may send must leave the server up,
// bounded and private. Where Redis defines the behaviour, the same bytes go
// to a reference redis-server and the replies must match exactly.

// authStep is one step of an authentication script: a command on one of
// the script's connections, or (setPass) a password change at run time.
type authStep struct {
	conn    string
	args    []string
	setPass *string
}

// helloID hides the client id in a HELLO reply, which differs between
// servers.
var helloID = regexp.MustCompile(`\$2\r\nid\r\n:\d+\r\n`)

// runAuthScript runs steps on a server (connections opened on first use)
// and returns one reply per command step.
func runAuthScript(t *testing.T, addr string, setPass func(string), steps []authStep) []string {
	t.Helper()
	conns := map[string]*raw{}
	var out []string
	for _, st := range steps {
		if st.setPass != nil {
			setPass(*st.setPass)
			continue
		}
		r := conns[st.conn]
		if r == nil {
			r = dialRaw(t, addr)
			conns[st.conn] = r
		}
		out = append(out, helloID.ReplaceAllString(r.do(st.args...), "$$2\r\nid\r\n:N\r\n"))
	}
	return out
}

func pass(s string) *string { return &s }

func TestAuthMatchesRedis(t *testing.T) {
	cmd := func(conn string, args ...string) authStep { return authStep{conn: conn, args: args} }
	scripts := []struct {
		name     string
		password string
		steps    []authStep
	}{
		{"requirepass", "s3cret", []authStep{
			cmd("a", "PING"), cmd("a", "LPUSH", "q", "x"), cmd("a", "NOSUCH", "x"), cmd("a", "LPUSH"),
			cmd("a", "MULTI"), cmd("a", "AUTH", "a", "b", "c"), cmd("a", "AUTH", "wrong"),
			cmd("a", "AUTH", "default", "wrong"), cmd("a", "AUTH", "nobody", "s3cret"),
			cmd("a", "AUTH", "DEFAULT", "s3cret"), cmd("a", "AUTH", ""), cmd("a", "PING"),
			cmd("a", "HELLO"), cmd("a", "HELLO", "3"), cmd("a", "HELLO", "3", "AUTH", "default", "wrong"),
			cmd("a", "HELLO", "3", "AUTH", "default"), cmd("a", "HELLO", "2", "SETNAME", "x"),
			cmd("a", "SELECT", "1"), cmd("a", "ECHO", "x"),
			cmd("a", "AUTH", "s3cret"), cmd("a", "PING"), cmd("a", "LPUSH", "q", "x"),
			cmd("a", "AUTH", "wrong"), cmd("a", "PING"), // a failed AUTH keeps the earlier one
			cmd("a", "RESET"), cmd("a", "PING"), // RESET logs out
			cmd("a", "AUTH", "default", "s3cret"), cmd("a", "LLEN", "q"),
			cmd("b", "HELLO", "3", "AUTH", "default", "s3cret"), cmd("b", "LPOP", "nosuch"),
			cmd("c", "HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "worker"), cmd("c", "PING"),
		}},
		{"no password", "", []authStep{
			cmd("a", "AUTH", "x"), cmd("a", "AUTH", "default", "x"), cmd("a", "AUTH", "other", "x"),
			cmd("a", "AUTH", "DEFAULT", "x"), cmd("a", "HELLO", "2", "AUTH", "default", "anything"),
			cmd("a", "HELLO", "2", "AUTH", "nobody", "x"), cmd("a", "PING"),
		}},
		{"requirepass at run time", "", []authStep{
			cmd("before", "PING"),
			{setPass: pass("pw")},
			cmd("before", "PING"), // connected without a password: still in
			cmd("after", "PING"),
			cmd("after", "AUTH", "pw"), cmd("after", "PING"),
			cmd("late", "LLEN", "q"),
			{setPass: pass("")},
			cmd("late", "LLEN", "q"), // no password any more: no AUTH needed
			cmd("late", "AUTH", "x"),
			{setPass: pass("pw2")},
			cmd("late", "LLEN", "q"), // never authenticated: locked out again
			cmd("late", "AUTH", "pw"), cmd("late", "AUTH", "pw2"), cmd("late", "LLEN", "q"),
			cmd("after", "PING"), // authenticated with the old password: stays in
		}},
	}
	for _, sc := range scripts {
		t.Run(sc.name, func(t *testing.T) {
			var refArgs []string
			var dirs [][]string
			if sc.password != "" {
				refArgs = []string{"--requirepass", sc.password}
				dirs = [][]string{{"requirepass", sc.password}}
			}
			ref := startRedis(t, refArgs...)
			admin := dialRaw(t, ref)
			if sc.password != "" {
				admin.do("AUTH", sc.password)
			}
			want := runAuthScript(t, ref, func(p string) {
				if got := admin.do("CONFIG", "SET", "requirepass", p); got != "+OK\r\n" {
					t.Fatalf("redis CONFIG SET requirepass: %q", got)
				}
			}, sc.steps)
			ts := startServer(t, dirs...)
			got := runAuthScript(t, ts.addr, func(p string) {
				if err := ts.set.Set("requirepass", p); err != nil {
					t.Fatal(err)
				}
			}, sc.steps)
			i := 0
			for _, st := range sc.steps {
				if st.setPass != nil {
					continue
				}
				if got[i] != want[i] {
					t.Errorf("%s %q: mullet %q, redis %q", st.conn, st.args, got[i], want[i])
				}
				i++
			}
		})
	}
}

// Exact replies pinned without the reference, so a change shows in the
// diff of this file.
func TestAuthExactReplies(t *testing.T) {
	ts := startServer(t, []string{"requirepass", "s3cret"})
	runSteps(t, ts, []step{
		{"PING", "-NOAUTH Authentication required.\r\n"},
		{"AUTH nope", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{"HELLO 3", "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"},
		{"AUTH default s3cret", "+OK\r\n"},
		{"PING", "+PONG\r\n"},
	})
	runSteps(t, startServer(t), []step{
		{"AUTH x", "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"},
	})
}

// Before AUTH a client may only send small requests (Redis 7): at most 10
// arguments of at most 16 KiB. The limits fall away once it is in.
func TestUnauthenticatedRequestLimits(t *testing.T) {
	ref := startRedis(t, "--requirepass", "pw")
	ts := startServer(t, []string{"requirepass", "pw"})
	big := strings.Repeat("x", 16384)
	cases := []struct{ name, in, want string }{
		{"11 arguments", "*11\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n"},
		{"10 arguments", "*10\r\n$5\r\nLPUSH\r\n" + strings.Repeat("$1\r\nx\r\n", 9), "-NOAUTH Authentication required.\r\n"},
		{"16385-byte bulk", "*2\r\n$4\r\nECHO\r\n$16385\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n"},
		{"16384-byte bulk", "*2\r\n$4\r\nECHO\r\n$16384\r\n" + big + "\r\n", "-NOAUTH Authentication required.\r\n"},
		{"after AUTH", "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*12\r\n$4\r\nECHO\r\n$16385\r\n" + big + "y\r\n" +
			strings.Repeat("$1\r\nx\r\n", 10), "+OK\r\n-ERR wrong number of arguments for 'echo' command\r\n"},
	}
	for _, tc := range cases {
		gotRef, _ := exchange(t, tcpDialer(ref), tc.in, 300*time.Millisecond)
		got, _ := exchange(t, tcpDialer(ts.addr), tc.in, 300*time.Millisecond)
		if got != gotRef {
			t.Errorf("%s: mullet %q, redis %q", tc.name, got, gotRef)
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Malformed requests get Redis's protocol error, byte for byte, and the
// connection closes; nobody else notices.
func TestProtocolErrorsMatchRedis(t *testing.T) {
	ref := startRedis(t)
	ts := startServer(t)
	inputs := []string{
		"*1\r\n$-5\r\n", "*x\r\n", "*1\r\n:5\r\n", "*1\r\n$999999999999\r\n",
		"PING \"unbalanced\r\n", "PING 'a'b\r\n", "PING \"a\"b\r\n", "PING 'x\r\n",
		"*1\r\n$1x\r\n", "*1\r\n\r\n", "*1\r0\r0", "*1\r\n$+1\r\n", "*+1\r\n", "*1\r\n$ 1\r\n", "*1\r\n$01\r\n", "*01\r\n",
		"*-5\r\nPING\r\n", "*0\r\nPING\r\n", "*-1\r\n*1\r\n$4\r\nPING\r\n",
		"*2\r\n$4\r\nECHO\r\n*1\r\n", "*2\r\n$4\r\nECHO\r\n$3\r\nabcdef\r\nPING\r\n",
		"*1\r\n$3\r\nPINGG\r\n", "\r\n\r\nPING\r\n", "PING\n", "PING\x00junk\r\n", "PING\x00junk\r\n" + strings.Repeat("PING\r\n", 16000), "  \t PING   x  \r\n",
		"*2147483648\r\n", "*1\r\n$2147483648\r\n", "*1\r\n$536870913\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*1\r\n$3\r\nGET\r\n",
		"$5\r\nhellx\r\n", ":1\r\n", "+PING\r\n", "-ERR\r\n",
		strings.Repeat("a", 70000),                      // an inline line that never ends
		"*" + strings.Repeat("1", 70000),                // a count that never ends
		"*1\r\n$" + strings.Repeat("1", 70000),          // a bulk length that never ends
		"PING " + strings.Repeat("a", 70000) + "\r\n",   // a long inline line, ended
		"*1\r\n$70000\r\n" + strings.Repeat("b", 70000), // a long bulk, unfinished
	}
	for _, in := range inputs {
		var want string
		var wantClosed bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			want, wantClosed = exchange(t, tcpDialer(ref), in, 250*time.Millisecond)
		}()
		got, closed := exchange(t, tcpDialer(ts.addr), in, 250*time.Millisecond)
		<-done
		if got != want || closed != wantClosed {
			t.Errorf("%.60q: mullet %.200q (closed %v), redis %.200q (closed %v)", in, got, closed, want, wantClosed)
		}
	}
	if got := ts.raw(t).do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after protocol errors: %q", got)
	}
}

// A request that would need more memory than its limit is cut off, the
// connection closes, and the memory comes back.
func TestQueryLimitsFreeMemory(t *testing.T) {
	ts, logs := startLoggedServer(t, []string{"client-query-buffer-limit", "10mb"})
	cases := []struct {
		name    string
		header  string
		filler  []byte // sent again and again until the server closes
		maxRead int64  // bytes the server may read before it closes
	}{
		{"100 MB bulk, 10 MB limit", "*2\r\n$4\r\nECHO\r\n$100000000\r\n", bytes.Repeat([]byte("x"), 1<<20), 11 << 20},
		// Each 6-byte "$0\r\n\r\n" costs 8 bytes of argument offsets,
		// which count toward the limit.
		{"*2000000000 of empty bulks", "*2000000000\r\n", bytes.Repeat([]byte("$0\r\n\r\n"), 1<<16), 6 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := heapInUse()
			in0 := ts.s.core.Stats.NetIn.Load()
			r := ts.raw(t)
			r.send(tc.header)
			sent := 0
			done := make(chan struct{})
			go func() {
				defer close(done)
				for sent < 200<<20 {
					r.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
					n, err := r.c.Write(tc.filler)
					sent += n
					if err != nil {
						return
					}
				}
			}()
			r.expectClosed()
			<-done
			testutil.WaitFor(t, 5*time.Second, "the server to drop the client", func() bool { return ts.s.ClientCount() == 0 })
			read := ts.s.core.Stats.NetIn.Load() - in0
			if read > tc.maxRead {
				t.Errorf("server read %d bytes before closing; limit is 10 MB", read)
			}
			t.Logf("server read %d bytes, client sent %d", read, sent)
			if sent > 150<<20 {
				t.Errorf("client could send %d bytes", sent)
			}
			if after := heapInUse(); after > base+4<<20 {
				t.Errorf("heap grew from %d to %d bytes after the client left", base, after)
			}
		})
	}
	if !strings.Contains(logs.String(), "closing client that reached max query buffer length") {
		t.Errorf("no log line; log:\n%s", logs.String())
	}
	if got := ts.raw(t).do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
}

// proto-max-bulk-len refuses a bulk by its announced length, before any
// of it arrives.
func TestProtoMaxBulkLen(t *testing.T) {
	ref := startRedis(t, "--proto-max-bulk-len", "1mb")
	ts := startServer(t, []string{"proto-max-bulk-len", "1mb"})
	for _, in := range []string{"*2\r\n$4\r\nECHO\r\n$1048577\r\n", "*2\r\n$4\r\nECHO\r\n$1048576\r\n"} {
		want, wantClosed := exchange(t, tcpDialer(ref), in, 250*time.Millisecond)
		got, closed := exchange(t, tcpDialer(ts.addr), in, 250*time.Millisecond)
		if got != want || closed != wantClosed {
			t.Errorf("%q: mullet %q (closed %v), redis %q (closed %v)", in, got, closed, want, wantClosed)
		}
	}
}

func TestMaxClients(t *testing.T) {
	ref := startRedis(t, "--maxclients", "2")
	ts := startServer(t, []string{"maxclients", "2"})
	for _, addr := range []string{ref, ts.addr} {
		// Take both slots. The reference's readiness probe may not have
		// been reaped yet, so a refused connection is retried.
		var held []*raw
		testutil.WaitFor(t, 5*time.Second, "two clients in", func() bool {
			r := dialRaw(t, addr)
			if r.do("PING") == "+PONG\r\n" {
				held = append(held, r)
			}
			return len(held) == 2
		})
		a := held[0]
		got, closed := exchange(t, tcpDialer(addr), "PING\r\n", time.Second)
		if got != "-ERR max number of clients reached\r\n" || !closed {
			t.Errorf("%s (redis is %s): third client got %q (closed %v)", addr, ref, got, closed)
		}
		a.c.Close()
		// The slot comes back.
		testutil.WaitFor(t, 5*time.Second, "a free slot", func() bool {
			got, _ := exchange(t, tcpDialer(addr), "PING\r\n", 200*time.Millisecond)
			return got == "+PONG\r\n"
		})
	}
}

// timeout closes idle clients, but not blocked ones or monitors.
func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, []string{"timeout", "1"})
	idle := ts.raw(t)
	idle.do("PING")
	blocked := ts.raw(t)
	blocked.cmd("BLPOP", "q", "0")
	// MONITOR after the BLPOP has run: else it shows the BLPOP first.
	testutil.WaitFor(t, 5*time.Second, "the BLPOP to block", func() bool { return ts.ks.Blocked() == 1 })
	mon := ts.raw(t)
	if got := mon.do("MONITOR"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	start := time.Now()
	idle.expectClosed()
	if d := time.Since(start); d < 500*time.Millisecond || d > 3*time.Second {
		t.Errorf("idle client closed after %v, timeout 1s", d)
	}
	time.Sleep(1500 * time.Millisecond) // well past the timeout
	other := ts.raw(t)
	if got := other.do("RPUSH", "q", "a"); got != ":1\r\n" {
		t.Fatal(got)
	}
	if got := blocked.reply(); got != "*2\r\n$1\r\nq\r\n$1\r\na\r\n" {
		t.Errorf("blocked client: %q", got)
	}
	if got := mon.reply(); !strings.HasSuffix(got, `"RPUSH" "q" "a"`+"\r\n") {
		t.Errorf("monitor: %q", got)
	}
	// CONFIG SET timeout 0 stops the clock for a client already waiting.
	if err := ts.set.Set("timeout", "0"); err != nil {
		t.Fatal(err)
	}
	late := ts.raw(t)
	late.do("PING") // its read deadline was set with timeout 1 ...
	late.do("PING") // ... and cleared here
	time.Sleep(1500 * time.Millisecond)
	if got := late.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("after timeout 0: %q", got)
	}
}

func TestTCPKeepalive(t *testing.T) {
	ts := startServer(t, []string{"tcp-keepalive", "7"})
	ts.raw(t).do("PING")
	checkKeepalive(t, ts, 7)
}

// checkKeepalive asserts every client socket of ts has keepalive with
// the given idle time.
func checkKeepalive(t *testing.T, ts *testServer, idle int) {
	t.Helper()
	ts.s.mu.Lock()
	var clients []*client
	for _, c := range ts.s.clients {
		clients = append(clients, c)
	}
	ts.s.mu.Unlock()
	if len(clients) == 0 {
		t.Fatal("no clients")
	}
	for _, c := range clients {
		var on, secs int
		var gerr error
		get := func(fd int) {
			on, gerr = syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
			if gerr == nil {
				secs, gerr = syscall.GetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
			}
		}
		if c.lp != nil {
			get(c.fd) // an event loop's client: the loop has the socket
		} else {
			tc := tcpConn(c.conn)
			if tc == nil {
				t.Fatalf("%T is not TCP", c.conn)
			}
			rc, err := tc.SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			rc.Control(func(fd uintptr) { get(int(fd)) })
		}
		if gerr != nil || on != 1 || secs != idle {
			t.Errorf("client %d: keepalive %d, idle %d s (err %v); want on, %d s", c.id, on, secs, gerr, idle)
		}
	}
}

// fillList pushes n items of size bytes to key.
func fillList(t *testing.T, ts *testServer, key string, n, size int) {
	t.Helper()
	r := ts.raw(t)
	item := strings.Repeat("i", size)
	for n > 0 {
		batch := min(n, 10000)
		args := []string{"RPUSH", key}
		for i := 0; i < batch; i++ {
			args = append(args, item)
		}
		r.do(args...)
		n -= batch
	}
}

// An output-buffer limit keeps a client that asks for a huge reply, or
// stops reading one, from growing the server's memory.
func TestOutputBufferLimits(t *testing.T) {
	ts, logs := startLoggedServer(t)
	const items, size = 300000, 100 // a 33 MB LRANGE reply
	fillList(t, ts, "big", items, size)

	t.Run("default", func(t *testing.T) {
		if got := ts.s.outputLimit(); got != defaultNormalLimit {
			t.Errorf("normal 0 0 0 applies %+v, want mullet's default %+v", got, defaultNormalLimit)
		}
		if v, _ := ts.set.Get("client-output-buffer-limit"); !strings.HasPrefix(v, "normal 0 0 0 ") {
			t.Errorf("CONFIG GET shows %q", v)
		}
		if err := ts.set.Set("client-output-buffer-limit", "normal 5mb 1mb 10"); err != nil {
			t.Fatal(err)
		}
		if got := ts.s.outputLimit(); got != (config.OutputBufferLimit{Hard: 5 << 20, Soft: 1 << 20, Seconds: 10}) {
			t.Errorf("after CONFIG SET: %+v", got)
		}
	})

	t.Run("hard limit drops the reply as it is built", func(t *testing.T) {
		if err := ts.set.Set("client-output-buffer-limit", "normal 1mb 0 0"); err != nil {
			t.Fatal(err)
		}
		r := ts.raw(t)
		before := totalAlloc()
		r.cmd("LRANGE", "big", "0", "-1")
		b, err := r.br.ReadByte()
		if err == nil {
			t.Fatalf("got a reply starting %q; want the connection closed", b)
		}
		// Unlimited, the 33 MB reply costs over 150 MB of allocations as
		// c.rw.Buf grows (by 1.25x at that size). With the limit, what is left
		// is 1 MB of output and queue.Range's slice of 300k item headers
		// (7 MB, about 40 MB allocated as it grows).
		if alloc := totalAlloc() - before; alloc > 64<<20 {
			t.Errorf("LRANGE allocated %d MB", alloc>>20)
		}
		if !strings.Contains(logs.String(), "closing client that reached max output buffer") {
			t.Errorf("no log line:\n%s", logs.String())
		}
		// Smaller replies pass; the data is intact.
		if got := ts.raw(t).do("LRANGE", "big", "0", "1"); got != "*2\r\n$100\r\n"+strings.Repeat("i", 100)+"\r\n$100\r\n"+strings.Repeat("i", 100)+"\r\n" {
			t.Errorf("small LRANGE: %.80q", got)
		}
		if got := ts.raw(t).do("LLEN", "big"); got != fmt.Sprintf(":%d\r\n", items) {
			t.Errorf("LLEN %q", got)
		}
	})

	t.Run("a pipeline of small replies is not a big reply", func(t *testing.T) {
		// Even with a 1 MB limit: the server runs no more of a client's
		// commands while its replies wait for the socket.
		r := ts.raw(t)
		var b strings.Builder
		for i := 0; i < 200; i++ {
			b.WriteString("*4\r\n$6\r\nLRANGE\r\n$3\r\nbig\r\n$1\r\n0\r\n$3\r\n999\r\n") // 110 KB each
		}
		r.send(b.String())
		for i := 0; i < 200; i++ {
			if got := r.reply(); !strings.HasPrefix(got, "*1000\r\n") {
				t.Fatalf("reply %d: %.40q", i, got)
			}
		}
	})

	t.Run("soft limit closes a client that stops reading", func(t *testing.T) {
		if err := ts.set.Set("client-output-buffer-limit", "normal 0 1mb 1"); err != nil {
			t.Fatal(err)
		}
		r := ts.raw(t)
		start := time.Now()
		r.cmd("LRANGE", "big", "0", "-1") // and never read
		testutil.WaitFor(t, 10*time.Second, "the stalled client to be closed", func() bool {
			return strings.Contains(logs.String(), "limit=soft")
		})
		// Not before the soft limit's 1 s; the wait above bounds the
		// other side (how long building the 33 MB reply takes depends on
		// the machine and the race detector, so no tighter bound).
		if d := time.Since(start); d < time.Second {
			t.Errorf("closed after %v, soft limit 1 s", d)
		}
		// The server closed the connection: after what the kernel
		// buffered, the client reads EOF.
		r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := io.Copy(io.Discard, r.c); err != nil || n >= 33<<20 {
			t.Errorf("read %d bytes then %v; want a cut reply and EOF", n, err)
		}
	})

	t.Run("shutdown does not wait for a client that does not read", func(t *testing.T) {
		if err := ts.set.Set("client-output-buffer-limit", "normal 0 0 0"); err != nil {
			t.Fatal(err)
		}
		r := ts.raw(t)
		r.cmd("LRANGE", "big", "0", "-1") // 33 MB, under the default soft limit
		testutil.WaitFor(t, 5*time.Second, "the reply to stall", func() bool { return ts.s.core.Stats.NetOut.Load() > 0 })
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		// Shutdown gives the client drainGrace, then closes it: it returns
		// well before its context's deadline, which would otherwise fail
		// it. (How long past drainGrace depends on the machine and the
		// race detector, so the deadline is generous.)
		ctx, cancel := context.WithTimeout(context.Background(), drainGrace+15*time.Second)
		defer cancel()
		if err := ts.s.Shutdown(ctx); err != nil {
			t.Fatalf("shutdown after %v: %v", time.Since(start), err)
		}
		t.Logf("shutdown took %v (drainGrace %v)", time.Since(start), drainGrace)
	})
}

// A handler that panics takes down its own connection only: the keyspace
// lock it held is released, the panic is logged with its stack, and other
// clients carry on. Plain clients are served by event loops, TLS clients
// by goroutines of their own: both are tried.
func TestPanicInHandler(t *testing.T) {
	// Test-only commands, registered for this test alone so the command
	// table other tests compare with Redis's is unchanged.
	for _, sp := range []command.Spec{
		{Name: "mullet-test-panic", Fn: func(c *command.Session, args [][]byte) {
			c.Tx().Push(c.DB(), []byte("before-panic"), [][]byte{[]byte("x")}, false, false)
			panic("test panic under the keyspace lock")
		}, Arity: 1, Write: true},
		{Name: "mullet-test-panic-notx", Fn: func(c *command.Session, args [][]byte) { panic("test panic") }, Arity: 1, NoTx: true},
	} {
		t.Cleanup(command.Register(sp))
	}
	ts := startTLSServer(t, "no")
	other := ts.raw(t)
	other.do("PING")
	for _, name := range []string{"mullet-test-panic", "mullet-test-panic-notx"} {
		for _, r := range []*raw{ts.raw(t), ts.rawTLS(t)} {
			r.do("RPUSH", "before-panic", "y")
			r.cmd(name)
			r.expectClosed()
		}
	}
	done := make(chan string, 1)
	go func() { done <- other.do("RPUSH", "q", "a") }()
	select {
	case got := <-done:
		if got != ":1\r\n" {
			t.Fatalf("RPUSH after the panics: %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the keyspace lock was not released after a panic")
	}
	if got := ts.raw(t).do("LLEN", "before-panic"); got != ":6\r\n" { // 4 RPUSHes, 2 pushes by the panicking handler
		t.Errorf("what the handlers did before panicking: %q", got)
	}
	l := ts.logs.String()
	if strings.Count(l, "panic serving client") != 4 || !strings.Contains(l, "hardening_test.go") {
		t.Errorf("want four panics logged with stacks:\n%s", l)
	}
	testutil.WaitFor(t, 5*time.Second, "the panicked clients to go", func() bool { return ts.s.ClientCount() == 2 })
}

// protectedRefusal on connections from another host, seen through a
// net.Conn whose RemoteAddr is not loopback (TestProtectedModeNetns uses
// real sockets from a network namespace).
func TestProtectedRefusal(t *testing.T) {
	ts := startServer(t)
	remote := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 40000}
	cases := []struct {
		name      string
		directive []string
		addr      *net.TCPAddr
		want      string // reply to PING
	}{
		{"from outside, no password", nil, remote, "-" + msgDenied + "\r\n"},
		{"IPv6 from outside", nil, &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1}, "-" + msgDenied + "\r\n"},
		{"loopback", nil, &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 1}, "+PONG\r\n"},
		{"other loopback address", nil, &net.TCPAddr{IP: net.ParseIP("127.0.0.2"), Port: 1}, "+PONG\r\n"},
		{"IPv6 loopback", nil, &net.TCPAddr{IP: net.IPv6loopback, Port: 1}, "+PONG\r\n"},
		{"password set", []string{"requirepass", "pw"}, remote, "-NOAUTH Authentication required.\r\n"},
		{"protected-mode no", []string{"protected-mode", "no"}, remote, "+PONG\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.directive != nil {
				if err := ts.set.Set(tc.directive...); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					d, _ := config.Describe(tc.directive[0])
					ts.set.Set(tc.directive[0], d.Default)
				})
			}
			srv, cli := net.Pipe()
			defer cli.Close()
			conn := &remoteConn{Conn: srv, remote: tc.addr}
			go ts.s.accept(conn)
			cli.SetDeadline(time.Now().Add(5 * time.Second))
			go cli.Write([]byte("*1\r\n$4\r\nPING\r\n"))
			buf := make([]byte, len(msgDenied)+3)
			n, _ := readReplyLine(cli, buf)
			if got := string(buf[:n]); got != tc.want {
				t.Errorf("got %.80q, want %.80q", got, tc.want)
			}
		})
	}
}

// remoteConn is a connection that claims to come from another host.
type remoteConn struct {
	net.Conn
	remote net.Addr
}

func (c *remoteConn) RemoteAddr() net.Addr { return c.remote }

// readReplyLine reads into buf up to the first newline.
func readReplyLine(c net.Conn, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil || bytes.IndexByte(buf[:n], '\n') >= 0 {
			return n, err
		}
	}
	return n, nil
}

// A client that announces a huge bulk and trickles bytes gets memory for
// what it sent, not for what it announced.
func TestAnnouncedBulkTrickle(t *testing.T) {
	ts := startServer(t)
	base := heapInUse()
	r := ts.raw(t)
	hdr := "*2\r\n$4\r\nECHO\r\n$536870912\r\n"
	r.send(hdr)
	in := int64(len(hdr))
	for i := 0; i < 30; i++ {
		testutil.WaitFor(t, 5*time.Second, "the server to read", func() bool { return ts.s.core.Stats.NetIn.Load() >= in })
		r.send("x")
		in++
	}
	testutil.WaitFor(t, 5*time.Second, "the server to read", func() bool { return ts.s.core.Stats.NetIn.Load() >= in })
	if grown := int64(heapInUse()) - int64(base); grown > 4<<20 {
		t.Errorf("31 reads of a 512 MB bulk grew the heap by %d MB", grown>>20)
	}
}

// A MONITOR client that stops reading is disconnected once it falls
// behind, on an event loop as on a goroutine of its own.
func TestStalledMonitor(t *testing.T) {
	ts := startTLSServer(t, "no")
	for _, mon := range []*raw{ts.raw(t), ts.rawTLS(t)} {
		if got := mon.do("MONITOR"); got != "+OK\r\n" {
			t.Fatal(got)
		}
		// and never reads again
	}
	w := ts.raw(t)
	big := strings.Repeat("m", 256<<10)
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(ts.logs.String(), "disconnecting MONITOR client that fell behind") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("stalled monitors still connected:\n%s", ts.logs.String())
		}
		for i := 0; i < 8; i++ {
			w.do("SET", "k", big) // a 256 KiB monitor line each
		}
		for i := 0; i < 200; i++ {
			w.do("PING") // many short lines for the goroutine monitor's backlog
		}
	}
}
