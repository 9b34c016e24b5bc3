package server

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"mullet/internal/resp"
)

// TestMonitorSlowlogMatchRedis runs the same commands on redis-server 7.0
// and mullet, each with a MONITOR client and a zero slowlog threshold, and
// compares the replies, the MONITOR lines (time and address masked) and
// the arguments SLOWLOG recorded: secrets are "(redacted)" exactly where
// Redis redacts them, and admin commands stay out of MONITOR.
func TestMonitorSlowlogMatchRedis(t *testing.T) {
	p := newPair(t, []string{"requirepass", "pw"}, []string{"slowlog-log-slower-than", "0"},
		[]string{"slowlog-max-len", "1000"})
	// A step is "[@n ][?|#]command": on connection n (0 by default); "?"
	// does not compare the reply, "#" masks its integers; "!block n"
	// waits until n clients are blocked; "<n" reads connection n's
	// pending reply.
	steps := []string{
		"AUTH pw", "AUTH default pw", "AUTH wrong", "AUTH a b c", "AUTH default",
		"#HELLO 2 AUTH default pw", "#HELLO 3 AUTH default pw SETNAME x", "#HELLO 2",
		"HELLO 4 AUTH u p", "HELLO 3 AUTH u", "#HELLO 2 SETNAME y AUTH default pw",
		"HELLO 2 FOO AUTH u p", "HELLO 2 AUTH u p FOO", "HELLO 2 AUTH u p AUTH v q",
		`HELLO 2 SETNAME "a b" AUTH u p`, "HELLO x AUTH u p", "#HELLO 2 auth default pw",
		"HELLO 2 SETNAME z FOO", "CLIENT GETNAME",
		"@1 HELLO 2 SETNAME early", "@1 #HELLO 2 AUTH default pw", "@1 CLIENT GETNAME",
		"CONFIG SET requirepass pw", "CONFIG SET masterauth zz", "CONFIG SET masteruser uu",
		"CONFIG SET maxmemory 0 requirepass pw", "CONFIG SET nosuch 1 requirepass pw",
		"CONFIG SET REQUIREPASS pw", "CONFIG SET requirepass", "CONFIG GET requirepass",
		"CONFIG SET masterauth", "CONFIG SET masterauth x maxmemory", "CONFIG SET masterauth ''",
		"CLIENT SETNAME a", "#CLIENT ID", "?CLIENT LIST", "CLIENT KILL 1.2.3.4:5", "CLIENT UNPAUSE",
		"?SLOWLOG LEN", "?INFO server", "?LASTSAVE", "CONFIG RESETSTAT",
		"MULTI", "LPUSH q a", "AUTH pw", "CONFIG SET requirepass pw", "CLIENT NO-EVICT on", "EXEC",
		"SELECT 1", "ECHO x", "SELECT 0", "DBSIZE",
		"@2 AUTH pw", "@2 >BRPOP bq 0", "!block 1", "LPUSH bq x", "@2 <", "@2 QUIT",
	}
	want := monitorRun(t, p.redis, steps)
	got := monitorRun(t, p.mullet, steps)
	for i := range max(len(want.replies), len(got.replies)) {
		w, g := at(want.replies, i), at(got.replies, i)
		if w != g {
			t.Errorf("reply to %q: redis %q, mullet %q", steps[i], w, g)
		}
	}
	if !slices.Equal(want.monitor, got.monitor) {
		t.Errorf("MONITOR lines differ:\nredis:\n%s\nmullet:\n%s", strings.Join(want.monitor, "\n"), strings.Join(got.monitor, "\n"))
	}
	// Redis logs a command that blocked when it is served (with the time
	// it ran, not the time it waited); mullet leaves it out (see
	// compatibility.md).
	want.slowlog = slices.DeleteFunc(want.slowlog, func(s string) bool { return strings.HasPrefix(s, "BRPOP ") })
	if !slices.Equal(want.slowlog, got.slowlog) {
		t.Errorf("SLOWLOG arguments differ:\nredis:\n%s\nmullet:\n%s", strings.Join(want.slowlog, "\n"), strings.Join(got.slowlog, "\n"))
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<none>"
}

// monitorObs is what monitorRun saw on one server.
type monitorObs struct {
	replies []string // one per step
	monitor []string // MONITOR lines of the step connections, masked
	slowlog []string // SLOWLOG GET's argument lists of the step connections, oldest first
}

var (
	monitorPrefix = regexp.MustCompile(`^\+\d+\.\d{6} \[(\d+) ([^\]]+)\] `)
	helloIDField  = regexp.MustCompile(`\$2\r\nid\r\n:\d+`)
	anyInt        = regexp.MustCompile(`:\d+\r\n`)
)

func monitorRun(t *testing.T, tg *target, steps []string) monitorObs {
	t.Helper()
	mon := dialTarget(t, tg)
	defer mon.c.Close()
	mon.write(encodeCmd([]string{"AUTH", tg.pass}))
	mon.write(encodeCmd([]string{"MONITOR"}))
	if r := mon.read() + mon.read(); r != "+OK\r\n+OK\r\n" {
		t.Fatalf("%s: AUTH and MONITOR: %q", tg.name, r)
	}
	conns := map[int]*tconn{}
	names := map[string]string{} // address -> "cN"
	get := func(n int) *tconn {
		if c := conns[n]; c != nil {
			return c
		}
		c := dialTarget(t, tg)
		conns[n] = c
		names[c.c.LocalAddr().String()] = fmt.Sprintf("c%d", n)
		return c
	}
	defer func() {
		for _, c := range conns {
			c.c.Close()
		}
	}()
	var obs monitorObs
	for _, s := range steps {
		n := 0
		if rest, ok := strings.CutPrefix(s, "@"); ok {
			fmt.Sscanf(rest, "%d", &n)
			s = rest[strings.IndexByte(rest, ' ')+1:]
		}
		c := get(n)
		switch {
		case strings.HasPrefix(s, "!block "):
			var want int
			fmt.Sscanf(s, "!block %d", &want)
			waitBlockedN(t, tg, want)
			obs.replies = append(obs.replies, "")
			continue
		case s == "<":
			obs.replies = append(obs.replies, c.read())
			continue
		}
		mode := s[0]
		if mode == '?' || mode == '#' || mode == '>' {
			s = s[1:]
		}
		args, ok := splitArgs([]byte(s), nil)
		if !ok {
			t.Fatalf("bad step %q", s)
		}
		var sargs []string
		for _, a := range args {
			sargs = append(sargs, string(a))
		}
		c.write(encodeCmd(sargs))
		if mode == '>' {
			obs.replies = append(obs.replies, "")
			continue
		}
		r := c.read()
		switch mode {
		case '?':
			r = "?"
		case '#':
			r = anyInt.ReplaceAllString(helloIDField.ReplaceAllString(r, "id:N"), ":N\r\n")
		}
		obs.replies = append(obs.replies, r)
	}

	// The last line: everything before it has been fed.
	end := get(0)
	end.write(encodeCmd([]string{"ECHO", "end"}))
	end.read()
	for {
		line := mon.read()
		m := monitorPrefix.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s: monitor line %q", tg.name, line)
		}
		who, ok := names[m[2]]
		if !ok {
			continue // the harness's own connections (INFO for !block)
		}
		line = "[" + m[1] + " " + who + "] " + strings.TrimSuffix(line[len(m[0]):], "\r\n")
		obs.monitor = append(obs.monitor, line)
		if line == `[0 c0] "ECHO" "end"` {
			break
		}
	}

	end.write(encodeCmd([]string{"SLOWLOG", "GET", "-1"}))
	v, _, err := resp.Parse([]byte(end.read()))
	if err != nil {
		t.Fatalf("%s: SLOWLOG GET: %v", tg.name, err)
	}
	for _, e := range slices.Backward(v.Elems) {
		if _, ok := names[e.Elems[4].Str]; !ok {
			continue
		}
		var args []string
		for _, a := range e.Elems[3].Elems {
			args = append(args, a.Str)
		}
		obs.slowlog = append(obs.slowlog, strings.Join(args, " "))
	}
	return obs
}

// TestSlowlogRedactsMulletSecrets: every directive mullet documents as a
// secret is redacted from SLOWLOG, including those Redis 7.0 shows
// (tls-key-file-pass) or lacks (consumer-mysql-dsn), set or refused.
func TestSlowlogRedactsMulletSecrets(t *testing.T) {
	ts := startServer(t, []string{"slowlog-log-slower-than", "0"})
	r := ts.raw(t)
	for _, name := range []string{"tls-key-file-pass", "tls-client-key-file-pass", "consumer-mysql-dsn", "masterauth", "masteruser", "requirepass"} {
		r.do("CONFIG", "SET", name, "s3cret")
	}
	r.do("CONFIG", "SET", "requirepass", "")
	got := r.do("SLOWLOG", "GET", "-1")
	if strings.Contains(got, "s3cret") {
		t.Errorf("SLOWLOG shows a secret: %q", got)
	}
	if n := strings.Count(got, "(redacted)"); n != 7 {
		t.Errorf("SLOWLOG has %d redacted values, want 7: %q", n, got)
	}
}
