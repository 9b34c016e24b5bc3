package server

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mullet/internal/resp"
	"mullet/internal/testutil"
	"mullet/queue"
)

func TestServerExactReplies(t *testing.T) {
	ts := startServer(t)
	noRDB := func(cmd string) string {
		return "-ERR " + cmd + " is not supported: mullet writes no RDB snapshots; it persists through the append-only file (appendonly yes), which BGREWRITEAOF compacts\r\n"
	}
	runSteps(t, ts, []step{
		{"ROLE", "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"},
		{"READONLY", "-ERR This instance has cluster support disabled\r\n"},
		{"BGREWRITEAOF", "+Background append only file rewriting started\r\n"},
		{"SAVE", noRDB("SAVE")},
		{"BGSAVE", noRDB("BGSAVE")},
		{"BGSAVE SCHEDULE", noRDB("BGSAVE")},
		{"BGSAVE x", "-ERR syntax error\r\n"},
		{"WAITAOF 0 0 0", "*2\r\n:0\r\n:0\r\n"},
		{"WAITAOF 1 0 0", "-ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.\r\n"},
		{"WAITAOF 2 0 0", "-ERR value is out of range, value must between 0 and 1\r\n"},
		{"WAITAOF -1 0 0", "-ERR value is out of range, value must between 0 and 1\r\n"},
		{"WAITAOF x 0 0", "-ERR value is not an integer or out of range\r\n"},
		{"WAITAOF 0 -1 0", "-ERR value is out of range, must be positive\r\n"},
		{"WAITAOF 0 x 0", "-ERR value is not an integer or out of range\r\n"},
		{"WAITAOF 0 0 x", "-ERR timeout is not an integer or out of range\r\n"},
		{"WAITAOF 0 0 -5", "-ERR timeout is negative\r\n"},
		{"WAITAOF 1 0 -5", "-ERR timeout is negative\r\n"},
		{"WAITAOF 0 0", "-ERR wrong number of arguments for 'waitaof' command\r\n"},
		{"MEMORY MALLOC-STATS", "$45\r\nStats not supported for the current allocator\r\n"},
		{"DEBUG HELP", "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n"},
		{"FUNCTION HELP", "*9\r\n+FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+FLUSH [ASYNC|SYNC]\r\n+    Delete all the libraries.\r\n+    When called without the optional mode argument, the behavior is determined by the\r\n+    lazyfree-lazy-user-flush configuration directive. Valid modes are:\r\n+    * ASYNC: Asynchronously flush the libraries.\r\n+    * SYNC: Synchronously flush the libraries.\r\n+HELP\r\n+    Prints this help.\r\n"},
		{"FUNCTION LIST", "-ERR unknown subcommand 'LIST'. Try FUNCTION HELP.\r\n"},
		// Inside MULTI, SAVE and SHUTDOWN are refused at once and spoil it.
		{"MULTI", "+OK\r\n"},
		{"SAVE", "-ERR Command not allowed inside a transaction\r\n"},
		{"PING", "+QUEUED\r\n"},
		{"EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		// Inside EXEC WAITAOF does not block.
		{"MULTI", "+OK\r\n"},
		{"WAITAOF 0 1 0", "+QUEUED\r\n"},
		{"EXEC", "*1\r\n*2\r\n:0\r\n:0\r\n"},
	})
}

func TestTimeAndLastSave(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	before := time.Now()
	reply := r.do("TIME")
	m := regexp.MustCompile(`^\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n$`).FindStringSubmatch(reply)
	if m == nil {
		t.Fatalf("TIME = %q", reply)
	}
	sec, _ := strconv.ParseInt(m[1], 10, 64)
	usec, _ := strconv.ParseInt(m[2], 10, 64)
	got := time.Unix(sec, usec*1000)
	if got.Before(before.Truncate(time.Microsecond)) || got.After(time.Now()) || usec > 999999 {
		t.Errorf("TIME = %v, want between %v and now", got, before)
	}
	if got := r.do("LASTSAVE"); got != ":"+strconv.FormatInt(ts.s.core.Started().Unix(), 10)+"\r\n" {
		t.Errorf("LASTSAVE = %q, server started at %d", got, ts.s.core.Started().Unix())
	}
}

func TestShutdown(t *testing.T) {
	saves := make(chan bool, 3)
	ts := startServerWith(t, serverOpts{configure: func(c *Config) { c.Shutdown = func(save bool) { saves <- save } }})
	r := ts.raw(t)
	if got := r.do("SHUTDOWN", "ABORT"); got != "-ERR No shutdown in progress.\r\n" {
		t.Fatal(got)
	}
	r.cmd("SHUTDOWN", "NOSAVE", "NOW")
	r.expectClosed() // no reply: the connection just closes
	if save := <-saves; save {
		t.Error("SHUTDOWN NOSAVE asked to save")
	}
	// Only the first SHUTDOWN is passed on.
	r = ts.raw(t)
	r.cmd("SHUTDOWN", "SAVE")
	r.expectClosed()
	select {
	case <-saves:
		t.Error("a second SHUTDOWN was passed on")
	default:
	}

	// Without a Shutdown function, the server shuts itself down.
	ts2 := startServer(t)
	r2 := ts2.raw(t)
	r2.cmd("SHUTDOWN")
	r2.expectClosed()
	select {
	case <-ts2.s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server still running after SHUTDOWN")
	}
}

func TestBGRewriteAOF(t *testing.T) {
	p := &fakePersistence{}
	ts := startServerWith(t, serverOpts{configure: func(c *Config) { c.Persistence = p }})
	r := ts.raw(t)
	if got := r.do("BGREWRITEAOF"); got != "+Background append only file rewriting started\r\n" || p.calls() != 1 {
		t.Fatalf("BGREWRITEAOF = %q after %d rewrites", got, p.calls())
	}
	p.fail(fmt.Errorf("aof: %w", queue.ErrRewriteInProgress)) // what the AOF's error Is
	if got := r.do("BGREWRITEAOF"); got != "-ERR Background append only file rewriting already in progress\r\n" {
		t.Errorf("BGREWRITEAOF while one runs = %q", got)
	}
	p.fail(errors.New("aof: closed"))
	if got := r.do("BGREWRITEAOF"); got != "-ERR Can't execute an AOF background rewriting. Please check the server logs for more information.\r\n" {
		t.Errorf("BGREWRITEAOF failing = %q", got)
	}
}

// WAITAOF with appendonly on waits for the client's last write to be
// fsynced, up to the timeout.
func TestWaitAOF(t *testing.T) {
	log := testutil.NewManualLog()
	ts := startServerWith(t, serverOpts{log: log})
	r, admin := ts.raw(t), ts.raw(t)
	rid := strings.Trim(r.do("CLIENT", "ID"), ":\r\n")

	// No write yet: the local AOF is in sync.
	if got := r.do("WAITAOF", "1", "0", "0"); got != "*2\r\n:1\r\n:0\r\n" {
		t.Fatalf("WAITAOF before any write = %q", got)
	}
	r.do("LPUSH", "q", "a")
	start := time.Now()
	if got := r.do("WAITAOF", "1", "0", "50"); got != "*2\r\n:0\r\n:0\r\n" || time.Since(start) < 45*time.Millisecond {
		t.Fatalf("WAITAOF timing out = %q after %v", got, time.Since(start))
	}
	// A pipelined write's reply goes out before WAITAOF blocks.
	r.send("*3\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$1\r\nb\r\n*4\r\n$7\r\nWAITAOF\r\n$1\r\n1\r\n$1\r\n0\r\n$1\r\n0\r\n")
	if got := r.reply(); got != ":2\r\n" {
		t.Fatal(got)
	}
	testutil.WaitFor(t, 5*time.Second, "WAITAOF to block", func() bool { return strings.Contains(admin.do("CLIENT", "LIST", "ID", rid), "flags=b ") })
	if got := infoValue(infoBody(t, admin.do("INFO", "clients")), "blocked_clients"); got != "1" {
		t.Errorf("blocked_clients:%s during WAITAOF", got)
	}
	log.Fsync(nil)
	if got := r.reply(); got != "*2\r\n:1\r\n:0\r\n" {
		t.Fatalf("WAITAOF after the fsync = %q", got)
	}
	// Replicas never acknowledge: the timeout runs out, the local count is
	// still reported.
	start = time.Now()
	if got := r.do("WAITAOF", "0", "1", "50"); got != "*2\r\n:1\r\n:0\r\n" || time.Since(start) < 45*time.Millisecond {
		t.Fatalf("WAITAOF 0 1 50 = %q after %v", got, time.Since(start))
	}
	// A failed fsync will not succeed later: WAITAOF answers at once.
	r.do("LPUSH", "q", "c")
	r.cmd("WAITAOF", "1", "0", "0")
	testutil.WaitFor(t, 5*time.Second, "WAITAOF to block", func() bool { return strings.Contains(admin.do("CLIENT", "LIST", "ID", rid), "flags=b ") })
	log.Fsync(errors.New("no space left on device"))
	if got := r.reply(); got != "*2\r\n:0\r\n:0\r\n" {
		t.Fatalf("WAITAOF after a failed fsync = %q", got)
	}
}

func TestDebugWhenEnabled(t *testing.T) {
	ts := startServer(t, []string{"enable-debug-command", "yes"})
	runSteps(t, ts, []step{
		{"DEBUG SLEEP 0", "+OK\r\n"},
		{"DEBUG SLEEP x", "-ERR value is not a valid float\r\n"},
		{"DEBUG JMAP", "-ERR unknown subcommand or wrong number of arguments for 'JMAP'. Try DEBUG HELP.\r\n"},
		{"DEBUG HELP", "*5\r\n+DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+SLEEP <seconds>\r\n+    Stop the server for <seconds>. Decimals allowed.\r\n+HELP\r\n+    Prints this help.\r\n"},
		{"MULTI", "+OK\r\n"},
		{"DEBUG SLEEP 0", "+QUEUED\r\n"},
		{"EXEC", "*1\r\n+OK\r\n"},
	})
}

func TestMemoryUsageAndStats(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	before := ts.ks.UsedMemory()
	r.do("RPUSH", "q", "aaaaaaaa", "bbbbbbbbbbbbb")
	r.do("SET", "s", "hello")
	q, s := r.do("MEMORY", "USAGE", "q"), r.do("MEMORY", "USAGE", "s", "SAMPLES", "0")
	nq, _ := strconv.ParseInt(strings.Trim(q, ":\r\n"), 10, 64)
	ns, _ := strconv.ParseInt(strings.Trim(s, ":\r\n"), 10, 64)
	// The two keys account for what used memory grew by, but for the
	// keys map's own growth (a few hundred bytes).
	if grew := ts.ks.UsedMemory() - before; nq <= 21 || ns <= 5 || nq+ns > grew || grew-(nq+ns) > 1024 {
		t.Errorf("MEMORY USAGE q = %q, s = %q; used memory grew by %d", q, s, grew)
	}
	stats, _, err := resp.Parse([]byte(r.do("MEMORY", "STATS")))
	if err != nil || len(stats.Elems) != 2*28 {
		t.Fatalf("MEMORY STATS: %d elements, %v", len(stats.Elems), err)
	}
	if v, _ := stats.Field("keys.count"); v.Num != 2 {
		t.Errorf("keys.count = %d", v.Num)
	}
	if v, _ := stats.Field("db.0"); len(v.Elems) != 6 {
		t.Errorf("db.0 = %+v", v)
	}
	r.do("HELLO", "3")
	if got := r.do("MEMORY", "STATS"); !strings.HasPrefix(got, "%28\r\n$14\r\npeak.allocated\r\n:") || !strings.Contains(got, "$18\r\ndataset.percentage\r\n,100\r\n") {
		t.Errorf("MEMORY STATS in RESP3 = %q", got)
	}
}
