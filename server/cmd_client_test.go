package server

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mullet/internal/testutil"

	"github.com/redis/go-redis/v9"
)

// clientListFields are Redis 7.0.15's CLIENT LIST fields in order, then
// Redis 7.2's lib-name and lib-ver (mullet has CLIENT SETINFO).
var clientListFields = []string{"id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub",
	"ssub", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem",
	"events", "cmd", "user", "redir", "resp", "lib-name", "lib-ver"}

// parseClientLine splits a CLIENT LIST line into its fields, in order.
func parseClientLine(t testing.TB, line string) (names []string, vals map[string]string) {
	t.Helper()
	vals = map[string]string{}
	for _, f := range strings.Split(line, " ") {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("field %q of %q has no '='", f, line)
		}
		names = append(names, k)
		vals[k] = v
	}
	return names, vals
}

// clientLines returns the lines of a CLIENT LIST or CLIENT INFO reply.
func clientLines(t testing.TB, reply string) []string {
	t.Helper()
	body := infoBody(t, reply)
	if !strings.HasSuffix(body, "\n") && body != "" {
		t.Fatalf("CLIENT LIST reply %q does not end in a newline", body)
	}
	if body == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(body, "\n"), "\n")
}

func TestClientListAndInfo(t *testing.T) {
	ts := startServer(t)
	a, b := ts.raw(t), ts.raw(t)
	aID := strings.Trim(a.do("CLIENT", "ID"), ":\r\n")
	bID := strings.Trim(b.do("CLIENT", "ID"), ":\r\n")
	a.do("CLIENT", "SETNAME", "worker-1")
	a.do("CLIENT", "SETINFO", "LIB-NAME", "go-redis(,go1.26)")
	a.do("CLIENT", "SETINFO", "lib-ver", "9.7.0")
	a.do("CLIENT", "NO-EVICT", "on")
	a.do("SELECT", "2")
	a.do("HELLO", "3")
	a.do("MULTI")
	a.do("LPUSH", "q", "x")

	lines := clientLines(t, b.do("CLIENT", "LIST"))
	if len(lines) != 2 {
		t.Fatalf("CLIENT LIST = %q", lines)
	}
	names, av := parseClientLine(t, lines[0])
	if !slices.Equal(names, clientListFields) {
		t.Errorf("fields = %v\nwant     %v", names, clientListFields)
	}
	want := map[string]string{"id": aID, "addr": a.c.LocalAddr().String(), "laddr": ts.addr, "name": "worker-1",
		"flags": "xe", "db": "2", "sub": "0", "multi": "1", "cmd": "multi", "user": "default", "redir": "-1",
		"resp": "3", "lib-name": "go-redis(,go1.26)", "lib-ver": "9.7.0", "events": "r", "age": "0", "obl": "0"}
	for k, v := range want {
		if av[k] != v {
			t.Errorf("A's %s=%s, want %s", k, av[k], v)
		}
	}
	_, bv := parseClientLine(t, lines[1])
	for k, v := range map[string]string{"id": bID, "flags": "N", "multi": "-1", "cmd": "client|list", "qbuf": "26",
		"argv-mem": "10", "idle": "0", "resp": "2", "name": "", "lib-name": ""} {
		if bv[k] != v {
			t.Errorf("B's %s=%s, want %s", k, bv[k], v)
		}
	}
	if fd, _ := strconv.Atoi(av["fd"]); fd <= 0 {
		t.Errorf("fd=%s", av["fd"])
	}

	// Filters.
	if got := clientLines(t, b.do("CLIENT", "LIST", "ID", bID, "999", aID, bID)); len(got) != 3 ||
		!strings.HasPrefix(got[0], "id="+bID+" ") || !strings.HasPrefix(got[1], "id="+aID+" ") {
		t.Errorf("CLIENT LIST ID = %q", got)
	}
	if got := clientLines(t, b.do("CLIENT", "LIST", "TYPE", "NORMAL")); len(got) != 2 {
		t.Errorf("CLIENT LIST TYPE normal = %q", got)
	}
	if got := b.do("CLIENT", "LIST", "TYPE", "replica"); got != "$0\r\n\r\n" {
		t.Errorf("CLIENT LIST TYPE replica = %q", got)
	}

	// CLIENT INFO is the caller's line; in RESP3 a verbatim string, and
	// inside EXEC the queued command's.
	a.do("DISCARD")
	info := a.do("CLIENT", "INFO")
	if !strings.HasPrefix(info, "=") {
		t.Errorf("CLIENT INFO in RESP3 = %q", info)
	}
	_, iv := parseClientLine(t, clientLines(t, info)[0])
	if iv["id"] != aID || iv["cmd"] != "client|info" || iv["flags"] != "e" || iv["multi"] != "-1" {
		t.Errorf("CLIENT INFO = %q", info)
	}
	a.do("MULTI")
	a.do("CLIENT", "INFO")
	if exec := a.do("EXEC"); !strings.Contains(exec, " cmd=client|info ") || !strings.Contains(exec, " multi=1 ") {
		t.Errorf("CLIENT INFO inside EXEC = %q", exec)
	}
	a.do("RESET")
	_, iv = parseClientLine(t, clientLines(t, a.do("CLIENT", "INFO"))[0])
	if iv["name"] != "" || iv["flags"] != "N" || iv["db"] != "0" || iv["resp"] != "2" {
		t.Errorf("after RESET: %v", iv)
	}
}

// Exact replies of what Redis 7.0 does not have (7.2's SETINFO and
// NO-TOUCH) or answers differently (HELP lists mullet's subcommands).
func TestClientExactReplies(t *testing.T) {
	ts := startServer(t)
	runSteps(t, ts, []step{
		{"CLIENT SETINFO lib-name redis-py", "+OK\r\n"},
		{"CLIENT SETINFO LIB-VER 5.0.1", "+OK\r\n"},
		{"CLIENT SETINFO lib-name", "-ERR wrong number of arguments for 'client|setinfo' command\r\n"},
		{"CLIENT SETINFO Lib-Foo x", "-ERR Unrecognized option 'Lib-Foo'\r\n"},
		{"CLIENT SETINFO lib-name \x01", "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"},
		{"CLIENT NO-TOUCH on", "+OK\r\n"},
		{"CLIENT NO-TOUCH off", "+OK\r\n"},
		{"CLIENT NO-TOUCH maybe", "-ERR syntax error\r\n"},
		{"CLIENT REPLY ON", "+OK\r\n"},
		{"CLIENT SETNAME \x7f", "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
	})
	help := ts.raw(t).do("CLIENT", "HELP")
	if !strings.HasPrefix(help, "*45\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GETNAME\r\n") ||
		!strings.HasSuffix(help, "+HELP\r\n+    Prints this help.\r\n") || !strings.Contains(help, "+SETINFO <option> <value>\r\n") {
		t.Errorf("CLIENT HELP = %q", help)
	}
}

// go-redis v9 sends CLIENT SETINFO on every new connection, pipelined
// with HELLO; the values show in CLIENT LIST.
func TestClientSetInfoFromGoRedis(t *testing.T) {
	ts := startServer(t)
	c := ts.client(t, func(o *redis.Options) { o.DisableIdentity = false; o.Protocol = 3 })
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	list, err := c.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, " lib-name=go-redis(") || !strings.Contains(list, " resp=3 ") {
		t.Errorf("CLIENT LIST = %q", list)
	}
}

func TestClientKill(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	idOf := func(c *raw) string { return strings.Trim(c.do("CLIENT", "ID"), ":\r\n") }

	// The old form names an address, may kill the caller, and answers OK.
	victim := ts.raw(t)
	victim.do("PING")
	if got := r.do("CLIENT", "KILL", victim.c.LocalAddr().String()); got != "+OK\r\n" {
		t.Fatalf("CLIENT KILL addr = %q", got)
	}
	victim.expectClosed()

	// The new form counts, and skips the caller unless SKIPME no.
	victim = ts.raw(t)
	if got := r.do("CLIENT", "KILL", "ID", idOf(victim)); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL ID = %q", got)
	}
	victim.expectClosed()
	v1, v2 := ts.raw(t), ts.raw(t)
	v1.do("PING")
	v2.do("PING")
	if got := r.do("CLIENT", "KILL", "LADDR", ts.addr, "TYPE", "normal", "USER", "default"); got != ":2\r\n" {
		t.Fatalf("CLIENT KILL LADDR = %q", got)
	}
	v1.expectClosed()
	v2.expectClosed()
	if got := r.do("CLIENT", "KILL", "ADDR", r.c.LocalAddr().String()); got != ":0\r\n" {
		t.Fatalf("CLIENT KILL ADDR self = %q", got)
	}

	// Blocked clients are killed too, and their wait withdrawn.
	blocked := ts.raw(t)
	bid := idOf(blocked)
	blocked.cmd("BLPOP", "q", "0")
	testutil.WaitFor(t, 5*time.Second, "BLPOP to block", func() bool { return strings.Contains(r.do("CLIENT", "LIST", "ID", bid), "flags=b ") })
	if got := r.do("CLIENT", "KILL", "ID", bid); got != ":1\r\n" {
		t.Fatal(got)
	}
	blocked.expectClosed()
	testutil.WaitFor(t, 5*time.Second, "the killed client to go", func() bool { return ts.s.ClientCount() == 1 })
	if got := infoValue(infoBody(t, r.do("INFO", "clients")), "blocked_clients"); got != "0" {
		t.Errorf("blocked_clients:%s after killing the blocked client", got)
	}

	// Killing oneself: the reply comes first.
	if got := r.do("CLIENT", "KILL", "ID", idOf(r), "SKIPME", "no"); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL self = %q", got)
	}
	r.expectClosed()
}

func TestClientReply(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	// OFF: nothing, not even errors, until ON, which answers OK.
	r.send("CLIENT REPLY OFF\r\nPING\r\nLPUSH\r\nRPUSH q a\r\nCLIENT REPLY ON\r\nPING a\r\n")
	if got := r.reply() + r.reply(); got != "+OK\r\n$1\r\na\r\n" {
		t.Errorf("REPLY OFF then ON: %q", got)
	}
	if got := r.do("LLEN", "q"); got != ":1\r\n" {
		t.Errorf("commands run while replies are off must still run: LLEN = %q", got)
	}
	// SKIP: the next command's reply only; a blocking command's too.
	r.send("CLIENT REPLY SKIP\r\nPING x\r\nPING y\r\nCLIENT REPLY SKIP\r\nBLPOP nosuch 0.01\r\nPING z\r\n")
	if got := r.reply() + r.reply(); got != "$1\r\ny\r\n$1\r\nz\r\n" {
		t.Errorf("REPLY SKIP: %q", got)
	}
	// SKIP while OFF stays OFF.
	r.send("CLIENT REPLY OFF\r\nCLIENT REPLY SKIP\r\nPING 1\r\nPING 2\r\nCLIENT REPLY ON\r\n")
	if got := r.reply(); got != "+OK\r\n" {
		t.Errorf("SKIP while OFF: %q", got)
	}
}

func TestClientPause(t *testing.T) {
	ts := startServer(t)
	admin, c := ts.raw(t), ts.raw(t)
	cid := strings.Trim(c.do("CLIENT", "ID"), ":\r\n")

	// WRITE: reads go on; writes wait until UNPAUSE.
	if got := admin.do("CLIENT", "PAUSE", "60000", "WRITE"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	if got := c.do("LLEN", "q"); got != ":0\r\n" {
		t.Fatalf("a read during a write pause = %q", got)
	}
	c.cmd("LPUSH", "q", "a")
	testutil.WaitFor(t, 5*time.Second, "LPUSH to wait", func() bool { return strings.Contains(admin.do("CLIENT", "LIST", "ID", cid), "flags=b ") })
	if got := infoValue(infoBody(t, admin.do("INFO", "clients")), "blocked_clients"); got != "1" {
		t.Errorf("blocked_clients:%s during the pause", got)
	}
	if got := admin.do("CLIENT", "UNPAUSE"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	if got := c.reply(); got != ":1\r\n" {
		t.Fatalf("LPUSH after UNPAUSE = %q", got)
	}

	// ALL: every command waits, the pausing client's too, until the
	// timeout.
	start := time.Now()
	admin.do("CLIENT", "PAUSE", "150")
	if got := c.do("PING"); got != "+PONG\r\n" || time.Since(start) < 140*time.Millisecond {
		t.Errorf("PING during PAUSE 150 answered %q after %v", got, time.Since(start))
	}
	// A shorter pause does not shorten a longer one.
	start = time.Now()
	admin.do("CLIENT", "PAUSE", "150", "WRITE")
	admin.do("CLIENT", "PAUSE", "10", "WRITE")
	if got := c.do("RPUSH", "q", "b"); got != ":2\r\n" || time.Since(start) < 140*time.Millisecond {
		t.Errorf("RPUSH answered %q after %v", got, time.Since(start))
	}
}

func TestClientUnblockAndGetName(t *testing.T) {
	ts := startServer(t)
	r, blocked := ts.raw(t), ts.raw(t)
	bid := strings.Trim(blocked.do("CLIENT", "ID"), ":\r\n")
	blocked.cmd("BRPOP", "q", "0")
	testutil.WaitFor(t, 5*time.Second, "BRPOP to block", func() bool { return r.do("CLIENT", "UNBLOCK", bid, "ERROR") == ":1\r\n" })
	if got := blocked.reply(); got != "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n" {
		t.Errorf("unblocked BRPOP = %q", got)
	}
	r.do("HELLO", "3")
	if got := r.do("CLIENT", "GETNAME"); got != "_\r\n" {
		t.Errorf("CLIENT GETNAME in RESP3 = %q", got)
	}
	if got := regexp.MustCompile(`^:\d+\r\n$`).MatchString(r.do("CLIENT", "ID")); !got {
		t.Error("CLIENT ID is not an integer")
	}
}
