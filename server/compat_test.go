package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/redcon"

	"mullet/internal/e2e"
	"mullet/internal/resp"
)

// The differential harness: the same scripted command sequences run on a
// real redis-server 7.0 and on an in-process mullet, over raw connections,
// and every reply must be byte-for-byte the same. Redis is the reference;
// nothing here says what a reply should be.
//
// A script is a list of steps, one string each:
//
//	LPUSH q a b               send on connection 0, read one reply, compare
//	@1 LPUSH q a              the same on connection 1 (opened on first use)
//	@1 >BLPOP q 0             send without reading (a blocked client)
//	@1 <                      read one pending reply and compare; "<3": three
//	@1 ?CLIENT ID             send and read, but don't compare (ids, versions)
//	#HELLO 3                  compare with every integer reply masked
//	@1 !id                    remember connection 1's CLIENT ID
//	!unblock 1 ERROR          CLIENT UNBLOCK <id of 1> ERROR on connection 0
//	!wait 2                   wait until 2 clients are blocked on each server
//	@1 !raw "*1\r\n$4\r\nPING\r\n"   send bytes as they are (one write)
//	@1 !bytewise LPUSH q a    send the RESP request one byte per write
//	@1 !closed                read until the server closes; compare all bytes
//	@1 !close                 close the connection from our side
//	!sleep 50ms               let time pass (only for timeouts under test)
//	!expire k 100             give k a TTL in ms (PEXPIRE; mullet: directly)
//	!flushall                 empty every database
//	!maxmemory 1              set maxmemory (reset to 0 when the script ends)
//
// Command arguments are split the way redis-cli and inline commands split
// them (splitArgs): "double quotes" take \n \r \t \xHH escapes, so binary
// values fit in a step. Steps that cannot be written as text (a 10k-command
// pipeline in one write) are built in Go with rawStep.

// A compatScript is a named sequence of steps run on fresh connections.
type compatScript struct {
	name     string
	resp3    bool // every connection starts with HELLO 3
	unauthed bool // with requirepass: connections do not AUTH on open
	steps    []string
}

// diffScripts runs each script on a fresh redis-server and mullet pair
// (started once for all of them) and reports every reply that differs.
func diffScripts(t *testing.T, scripts []compatScript) {
	t.Helper()
	newPair(t).run(t, scripts)
}

// A target is one server under comparison.
type target struct {
	name    string
	addr    string
	pass    string
	blocked func() int                 // clients blocked on keys
	expire  func(key string, ms int64) // set a TTL, for !expire
	flush   func()                     // FLUSHALL, for a clean start
	maxmem  func(n int64)              // CONFIG SET maxmemory
	logs    *lockedBuffer              // mullet's error log
}

// lockedBuffer is a bytes.Buffer for a logger used by many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (lb *lockedBuffer) Write(p []byte) (int, error) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.b.Write(p)
}

// take returns and clears what was logged.
func (lb *lockedBuffer) take() string {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	s := lb.b.String()
	lb.b.Reset()
	return s
}

// A pair is redis-server and mullet started with the same directives.
type pair struct {
	redis, mullet *target
}

// newPair starts redis-server and mullet with the same directives
// ({"requirepass", "x"}, ...).
func newPair(t testing.TB, directives ...[]string) *pair {
	t.Helper()
	var rargs []string
	pass := ""
	for _, d := range directives {
		rargs = append(rargs, "--"+d[0])
		rargs = append(rargs, d[1:]...)
		if d[0] == "requirepass" {
			pass = d[1]
		}
	}
	raddr := startRedis(t, rargs...)
	ts := startServer(t, directives...)
	redis := &target{name: "redis", addr: raddr, pass: pass}
	redis.blocked = func() int { return redisBlocked(t, redis) }
	redis.expire = func(key string, ms int64) {
		ctl(t, redis, "PEXPIRE", key, strconv.FormatInt(ms, 10))
	}
	redis.flush = func() { ctl(t, redis, "FLUSHALL") }
	redis.maxmem = func(n int64) { ctl(t, redis, "CONFIG", "SET", "maxmemory", strconv.FormatInt(n, 10)) }
	// Errors mullet logs (a handler panic above all) fail the test.
	mullet := &target{name: "mullet", addr: ts.addr, pass: pass, blocked: ts.ks.Blocked, logs: ts.logs}
	mullet.expire = func(key string, ms int64) {
		tx := ts.ks.Begin()
		tx.Expire(0, []byte(key), tx.NowMs()+ms, 0)
		tx.End()
	}
	mullet.maxmem = ts.ks.SetMaxMemory // what CONFIG SET maxmemory's hook does
	mullet.flush = func() {
		tx := ts.ks.Begin()
		tx.FlushAll()
		tx.End()
	}
	return &pair{redis: redis, mullet: mullet}
}

// startRedis runs redis-server (internal/e2e's, as every package's
// comparisons) on a free loopback port with persistence off and returns
// its address. It stops it by PID when the test ends. The test fails,
// never skips, if redis-server is missing: CI installs it.
func startRedis(t testing.TB, args ...string) string {
	t.Helper()
	return e2e.StartRedisWith(t, e2e.RedisOptions{
		Args: append([]string{"--appendonly", "no"}, args...),
		Env:  []string{"LC_ALL=C"}, // bytewise strcoll, as mullet's SORT ALPHA
	}).Addr
}

// ctl runs one command on a short-lived control connection and returns
// the reply bytes.
func ctl(t testing.TB, tg *target, args ...string) string {
	t.Helper()
	c := dialTarget(t, tg)
	defer c.c.Close()
	if tg.pass != "" {
		c.write(encodeCmd([]string{"AUTH", tg.pass}))
		c.read()
	}
	c.write(encodeCmd(args))
	return c.read()
}

// redisBlocked reads blocked_clients from INFO clients.
func redisBlocked(t testing.TB, tg *target) int {
	info := ctl(t, tg, "INFO", "clients")
	const field = "blocked_clients:"
	i := strings.Index(info, field)
	if i < 0 {
		t.Fatalf("INFO clients without %s: %q", field, info)
	}
	rest := info[i+len(field):]
	n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, '\r')])
	return n
}

// encodeCmd is the RESP request for args.
func encodeCmd(args []string) []byte {
	b := redcon.AppendArray(nil, len(args))
	for _, a := range args {
		b = redcon.AppendBulkString(b, a)
	}
	return b
}

// A tconn is one scripted client connection.
type tconn struct {
	t    testing.TB
	c    net.Conn
	br   *bufio.Reader
	dead string // why the connection can no longer be used
}

func dialTarget(t testing.TB, tg *target) *tconn {
	t.Helper()
	c, err := net.Dial("tcp", tg.addr)
	if err != nil {
		t.Fatalf("%s: %v", tg.name, err)
	}
	return &tconn{t: t, c: c, br: bufio.NewReaderSize(c, 64*1024)}
}

func (c *tconn) write(b []byte) {
	if c.dead != "" {
		return
	}
	c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.c.Write(b); err != nil {
		c.dead = "write failed" // the server closed; which error it is varies
	}
}

// read returns one reply, or a <...> note when none came.
func (c *tconn) read() string {
	if c.dead != "" {
		return "<dead: " + c.dead + ">"
	}
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var buf bytes.Buffer
	if err := resp.ReadRaw(c.br, &buf); err != nil {
		if buf.Len() == 0 && (err == io.EOF || isReset(err)) {
			// A reset is a close too: which one the client sees depends
			// on whether it wrote after the server closed.
			c.dead = "closed"
			return "<closed>"
		}
		c.dead = classify(err)
		return fmt.Sprintf("<error after %q: %v>", buf.String(), c.dead)
	}
	return buf.String()
}

// readToClose returns every byte until the server closes the connection
// or stays silent for half a second with the connection open.
func (c *tconn) readToClose() string {
	if c.dead != "" {
		return "<dead: " + c.dead + ">"
	}
	var b []byte
	buf := make([]byte, 64*1024)
	for {
		c.c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, err := c.br.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			if isTimeout(err) {
				return fmt.Sprintf("%q<open>", b)
			}
			c.dead = "closed"
			return fmt.Sprintf("%q<closed>", b) // EOF or reset alike
		}
	}
}

// classify hides details that differ between runs (ports, addresses).
func classify(err error) string {
	switch {
	case isTimeout(err):
		return "timeout"
	case err == io.EOF || err == io.ErrUnexpectedEOF || isReset(err):
		return "EOF"
	}
	return err.Error()
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

// An observation is what one step saw on one server.
type observation struct {
	step  int
	reply string
}

// run runs the scripts on both servers and reports differences.
func (p *pair) run(t *testing.T, scripts []compatScript) {
	t.Helper()
	for _, sc := range scripts {
		want := p.runScript(t, p.redis, sc)
		got := p.runScript(t, p.mullet, sc)
		if os.Getenv("COMPAT_SHOW") != "" {
			for _, o := range want {
				t.Logf("%s: step %d %s -> %s", sc.name, o.step, clip(sc.steps[o.step], 80), clip(strconv.Quote(o.reply), 200))
			}
		}
		compareObs(t, sc, want, got)
		if logs := p.mullet.logs.take(); logs != "" {
			t.Errorf("%s: mullet logged errors:\n%s", sc.name, clip(logs, 4000))
		}
	}
}

func compareObs(t *testing.T, sc compatScript, want, got []observation) {
	t.Helper()
	for _, w := range want {
		if strings.HasSuffix(w.reply, "timeout>") || strings.HasPrefix(w.reply, "<") && strings.Contains(w.reply, "clients blocked, want") {
			// The script itself is wrong: it waits for a reply Redis
			// never sends, and each such wait costs seconds.
			t.Errorf("%s: step %d %s: the script is wrong for redis: %s", sc.name, w.step, clip(sc.steps[w.step], 200), clip(w.reply, 300))
		}
	}
	for i := 0; i < len(want) || i < len(got); i++ {
		var w, g observation
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			st := w.step
			if i >= len(want) {
				st = g.step
			}
			t.Errorf("%s: step %d %s\n  redis:  %s\n  mullet: %s", sc.name, st, clip(sc.steps[st], 200),
				clip(strconv.Quote(w.reply), 400), clip(strconv.Quote(g.reply), 400))
			return // later steps follow from this one; report the first
		}
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

// runScript runs one script on one server and returns what each reading
// step saw.
func (p *pair) runScript(t *testing.T, tg *target, sc compatScript) []observation {
	t.Helper()
	tg.flush()
	conns := map[int]*tconn{}
	defer func() {
		for _, c := range conns {
			c.c.Close()
		}
		waitBlockedN(t, tg, 0)
	}()
	get := func(n int) *tconn {
		if c := conns[n]; c != nil {
			return c
		}
		c := dialTarget(t, tg)
		conns[n] = c
		if tg.pass != "" && !sc.unauthed {
			c.write(encodeCmd([]string{"AUTH", tg.pass}))
			c.read()
		}
		if sc.resp3 {
			c.write(encodeCmd([]string{"HELLO", "3"}))
			c.read()
		}
		return c
	}
	var obs []observation
	see := func(i int, s string) { obs = append(obs, observation{i, s}) }
	ids := map[int]string{}
	for i, s := range sc.steps {
		conn, mode, rest := parseStep(s)
		switch mode {
		case '=', '?', '>', '#':
			args, ok := splitArgs([]byte(rest), nil)
			if !ok || len(args) == 0 {
				t.Fatalf("%s: step %d: bad command %q", sc.name, i, clip(s, 100))
			}
			c := get(conn)
			c.write(encodeArgs(args))
			switch mode {
			case '=':
				see(i, c.read())
			case '#':
				see(i, intRE.ReplaceAllString(c.read(), ":N\r\n"))
			case '?':
				c.read()
			}
		case '<':
			n := 1
			if r := strings.TrimSpace(rest); r != "" {
				n, _ = strconv.Atoi(r)
			}
			c := get(conn)
			for range n {
				see(i, c.read())
			}
		case '!':
			verb, raw, _ := strings.Cut(rest, " ")
			arg := strings.TrimSpace(raw)
			switch verb {
			case "wait":
				// An observation, so a script whose client did not block
				// (or a server that did not block it) shows where.
				n, _ := strconv.Atoi(arg)
				if got, ok := pollBlocked(tg, n); !ok {
					see(i, fmt.Sprintf("<%d clients blocked, want %d>", got, n))
				}
			case "raw":
				args, ok := splitArgs([]byte(arg), nil)
				if !ok || len(args) != 1 {
					t.Fatalf("%s: step %d: !raw takes one quoted argument", sc.name, i)
				}
				get(conn).write(args[0])
			case "rawbytes": // built by rawStep: the rest is the payload as is
				get(conn).write([]byte(raw))
			case "bytewise":
				args, _ := splitArgs([]byte(arg), nil)
				c := get(conn)
				for _, b := range encodeArgs(args) {
					c.write([]byte{b})
				}
				see(i, c.read())
			case "closed":
				see(i, get(conn).readToClose())
			case "close":
				if c := conns[conn]; c != nil {
					c.c.Close()
					delete(conns, conn)
				}
			case "sleep":
				d, err := time.ParseDuration(arg)
				if err != nil {
					t.Fatalf("%s: step %d: %v", sc.name, i, err)
				}
				time.Sleep(d)
			case "expire":
				key, ms, _ := strings.Cut(arg, " ")
				n, _ := strconv.ParseInt(ms, 10, 64)
				tg.expire(key, n)
			case "flushall":
				tg.flush()
			case "maxmemory":
				n, _ := strconv.ParseInt(arg, 10, 64)
				tg.maxmem(n)
				defer tg.maxmem(0)
			case "id":
				c := get(conn)
				c.write(encodeCmd([]string{"CLIENT", "ID"}))
				ids[conn] = strings.TrimSuffix(strings.TrimPrefix(c.read(), ":"), "\r\n")
			case "unblock":
				n, why, _ := strings.Cut(arg, " ")
				who, _ := strconv.Atoi(n)
				args := []string{"CLIENT", "UNBLOCK", ids[who]}
				if why != "" {
					args = append(args, why)
				}
				c := get(conn)
				c.write(encodeCmd(args))
				see(i, c.read())
			default:
				t.Fatalf("%s: step %d: unknown directive %q", sc.name, i, verb)
			}
		}
	}
	return obs
}

// parseStep splits "@N <mode>rest".
func parseStep(s string) (conn int, mode byte, rest string) {
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, "@") {
		num, r, _ := strings.Cut(s[1:], " ")
		conn, _ = strconv.Atoi(num)
		s = strings.TrimLeft(r, " ")
	}
	mode = '='
	if s != "" && strings.IndexByte("<>?!#", s[0]) >= 0 {
		mode, s = s[0], s[1:]
	}
	return conn, mode, s // not trimmed: !rawbytes payloads end in CRLF
}

func encodeArgs(args [][]byte) []byte {
	b := redcon.AppendArray(nil, len(args))
	for _, a := range args {
		b = redcon.AppendBulk(b, a)
	}
	return b
}

// intRE matches a RESP integer reply, for steps that mask them.
var intRE = regexp.MustCompile(`(?m)^:-?\d+\r\n`)

// rawStep is a step that sends payload as is on connection conn.
func rawStep(conn int, payload []byte) string {
	return fmt.Sprintf("@%d !rawbytes %s", conn, payload)
}

// quoteArg writes b as one splitArgs argument: "..." with \xHH for
// anything not printable.
func quoteArg(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, "\\x%02x", c)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// waitBlockedN polls until n clients are blocked on tg.
func waitBlockedN(t testing.TB, tg *target, n int) {
	t.Helper()
	if got, ok := pollBlocked(tg, n); !ok {
		t.Fatalf("%s: %d clients blocked, want %d", tg.name, got, n)
	}
}

// pollBlocked polls until n clients are blocked on tg, for up to 2 s.
func pollBlocked(tg *target, n int) (int, bool) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		got := tg.blocked()
		if got == n {
			return got, true
		}
		if time.Now().After(deadline) {
			return got, false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestCompatHarness checks the harness itself: a difference must be seen.
func TestCompatHarness(t *testing.T) {
	p := newPair(t)
	sc := compatScript{name: "harness", steps: []string{"PING", "@1 ECHO x", "LPUSH q a", "LRANGE q 0 -1"}}
	want := p.runScript(t, p.redis, sc)
	got := p.runScript(t, p.mullet, sc)
	if len(want) != 4 || len(got) != 4 {
		t.Fatalf("observations: redis %d, mullet %d", len(want), len(got))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("step %d: %q vs %q", i, want[i].reply, got[i].reply)
		}
	}
	if want[3].reply != "*1\r\n$1\r\na\r\n" {
		t.Fatalf("LRANGE: %q", want[3].reply)
	}
}
