//go:build linux

package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"mullet/command"
	"mullet/internal/testutil"
)

// The real redis-cli 7.0 against mullet. In the comparisons every
// invocation also runs against redis-server, and what the user sees
// (stdout, stderr, exit status) must be the same; the rest drive its
// one-shot mode, its stdin mode, and its interactive mode (in a pty),
// which starts by fetching COMMAND DOCS for its hints.

// cliResult is what one redis-cli run printed.
type cliResult struct {
	out, err string
	code     int
}

// runCLI runs redis-cli against addr with stdin and args.
func runCLI(t testing.TB, addr, stdin string, args ...string) cliResult {
	t.Helper()
	bin := redisCLI(t)
	var err error
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, append([]string{"-h", host, "-p", port}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("redis-cli %v did not finish", args)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{out.String(), errb.String(), code}
}

// cliPair runs the same redis-cli invocations on redis-server and mullet.
type cliPair struct {
	p *pair
}

// same runs redis-cli on both servers and fails if they differ; it returns
// mullet's result. Each server starts from an empty dataset.
func (cp cliPair) same(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	cp.p.redis.flush()
	want := runCLI(t, cp.p.redis.addr, stdin, args...)
	cp.p.mullet.flush()
	got := runCLI(t, cp.p.mullet.addr, stdin, args...)
	norm := func(s string) string { return portRE.ReplaceAllString(s, "PORT") }
	if norm(want.out) != norm(got.out) || norm(want.err) != norm(got.err) || want.code != got.code {
		t.Errorf("redis-cli %s\n  redis:  out %q err %q exit %d\n  mullet: out %q err %q exit %d", strings.Join(args, " "),
			clip(want.out, 500), want.err, want.code, clip(got.out, 500), got.err, got.code)
	}
	return got
}

var portRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)

func TestRedisCLICommands(t *testing.T) {
	cp := cliPair{newPair(t)}
	for _, args := range [][]string{
		{"PING"}, {"LPUSH", "q", "a", "b", "c"}, {"LRANGE", "nosuch", "0", "-1"}, {"LPOP", "nosuch"},
		{"LPUSH"}, {"NOSUCH", "x"}, {"ECHO", "multi\nline"}, {"ECHO", ""}, {"BLPOP", "nosuch", "0.05"},
		{"--no-raw", "ECHO", "x"}, {"--no-raw", "LPOP", "nosuch"}, {"--no-raw", "LRANGE", "nosuch", "0", "-1"},
		{"--no-raw", "LPUSH"}, {"--no-raw", "BLPOP", "nosuch", "0.05"}, {"--raw", "ECHO", "\x01bin\xff"},
		{"--no-raw", "ECHO", "\x01bin\xff \"q\""}, {"-n", "3", "LPUSH", "q", "a"}, {"-n", "99", "PING"},
		{"-r", "5", "RPUSH", "q", "x"}, {"-r", "3", "-i", "0.01", "LLEN", "q"}, {"--no-raw", "-r", "2", "LPOP", "q"},
		{"-x", "RPUSH", "q"}, {"-3", "LPOP", "nosuch"}, {"-3", "--no-raw", "LPOP", "nosuch"},
		{"-3", "--no-raw", "LMPOP", "1", "nosuch", "LEFT"}, {"--csv", "LRANGE", "nosuch", "0", "-1"},
		{"--no-raw", "MULTI"}, {"-e", "LPUSH"}, {"-e", "PING"},
	} {
		cp.same(t, "stdin-value", args...)
	}
	// A list's contents through several output modes.
	setup := "RPUSH q a \"b c\" \"\" \"\\x00\\xff\"\n"
	for _, mode := range [][]string{{}, {"--raw"}, {"--no-raw"}, {"--csv"}, {"-3", "--no-raw"}} {
		cp.same(t, setup+"LRANGE q 0 -1\nLPOP q 9\nLPOP q 2\n", mode...)
	}
}

func TestRedisCLIStdinCommands(t *testing.T) {
	// With no command on the command line, redis-cli reads commands from
	// stdin, one per line: interactive mode through a pipe.
	cp := cliPair{newPair(t)}
	script := strings.Join([]string{
		"LPUSH q a b", "LRANGE q 0 -1", "  rpush q   'c d'  \"e\\tf\"", "LRANGE q 0 -1", "MULTI", "LPOP q", "EXEC",
		"NOSUCH", "LPUSH", "BLPOP nosuch 0.01", "SELECT 2", "LPUSH q x", "LLEN q", "SELECT 0", "LLEN q",
		"WATCH q", "UNWATCH", "LPOS q c", "LMPOP 1 q RIGHT COUNT 2", "ECHO \"unbalanced", "PING", "",
	}, "\n") + "\n"
	cp.same(t, script)
	cp.same(t, script, "--no-raw")
	cp.same(t, script, "-3", "--no-raw")
}

func TestRedisCLIPipe(t *testing.T) {
	cp := cliPair{newPair(t)}
	var in strings.Builder
	for i := 0; i < 5000; i++ {
		in.Write(encodeCmd([]string{"RPUSH", "q", fmt.Sprint(i)}))
	}
	in.WriteString("LPUSH q inline\r\n")
	res := cp.same(t, in.String(), "--pipe")
	if !strings.Contains(res.out, "errors: 0, replies: 5001") {
		t.Fatalf("--pipe summary: %q", res.out)
	}
	after := runCLI(t, cp.p.mullet.addr, "", "LLEN", "q")
	if after.out != "5001\n" {
		t.Fatalf("LLEN after --pipe: %q", after.out)
	}
	// Errors are counted, and the first ones printed.
	bad := string(encodeCmd([]string{"LPUSH"})) + string(encodeCmd([]string{"SET", "s", "v"})) +
		string(encodeCmd([]string{"LPUSH", "s", "x"})) + string(encodeCmd([]string{"RPUSH", "q", "ok"}))
	res = cp.same(t, bad, "--pipe")
	if !strings.Contains(res.out, "errors: 2, replies: 4") {
		t.Fatalf("--pipe errors summary: %q", res.out)
	}
	// A big mass insertion, so the ECHO trailer arrives while replies are
	// still flowing.
	in.Reset()
	val := strings.Repeat("v", 1000)
	for i := 0; i < 20000; i++ {
		in.Write(encodeCmd([]string{"LPUSH", fmt.Sprint("k", i%10), val}))
	}
	res = cp.same(t, in.String(), "--pipe")
	if !strings.Contains(res.out, "errors: 0, replies: 20000") {
		t.Fatalf("big --pipe summary: %q", res.out)
	}
}

func TestRedisCLIBlocking(t *testing.T) {
	ts := startServer(t)
	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, ts.addr, "", "BLPOP", "jobs", "0") }()
	waitBlocked(t, ts, 1)
	push := runCLI(t, ts.addr, "", "RPUSH", "jobs", "payload")
	if push.out != "1\n" {
		t.Fatalf("RPUSH: %+v", push)
	}
	select {
	case r := <-done:
		if r.out != "jobs\npayload\n" || r.code != 0 {
			t.Fatalf("redis-cli BLPOP: %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("redis-cli BLPOP was not served")
	}
	// BLMOVE in no-raw mode, then a timeout.
	go func() { done <- runCLI(t, ts.addr, "", "--no-raw", "BLMOVE", "src", "dst", "LEFT", "RIGHT", "0") }()
	waitBlocked(t, ts, 1)
	runCLI(t, ts.addr, "", "RPUSH", "src", "x")
	if r := <-done; r.out != "\"x\"\n" {
		t.Fatalf("redis-cli BLMOVE: %+v", r)
	}
	if r := runCLI(t, ts.addr, "", "--no-raw", "BRPOP", "nosuch", "0.05"); r.out != "(nil)\n" {
		t.Fatalf("redis-cli BRPOP timeout: %+v", r)
	}
}

// TestRedisCLIInteractive drives redis-cli's interactive mode through a
// pseudo-terminal (script(1)), with TERM=dumb so linenoise reads plain
// lines: the prompts, the (TX) marker inside MULTI and the human-readable
// replies must be the same as with redis-server.
func TestRedisCLIInteractive(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatalf("script(1) (util-linux) is required: %v", err)
	}
	p := newPair(t)
	lines := []string{
		"LPUSH q a b", "LRANGE q 0 -1", "BLPOP q 0.05", "lpush", "NOSUCH x", "MULTI", "LPOP q", "NOSUCH", "EXEC",
		"MULTI", "RPUSH q x", "EXEC", "SELECT 3", "LLEN q", "RPUSH q \"sp ace\" '' 1", "LRANGE q 0 -1", "LPOS q 1",
		"BLPOP nosuch 0.01", "LMPOP 1 q LEFT COUNT 9", "HELLO 3 SETNAME", "LPOP nosuch", "ECHO \"unbalanced",
	}
	run := func(tg *target) string {
		tg.flush()
		host, port, _ := net.SplitHostPort(tg.addr)
		cmd := exec.Command("script", "-qfec", "redis-cli -h "+host+" -p "+port, "/dev/null")
		cmd.Env = append(cmd.Environ(), "TERM=dumb")
		stdin, _ := cmd.StdinPipe()
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		// One line at a time, each after the previous prompt: what a
		// person typing would do.
		prompts := func() int {
			out.mu.Lock()
			defer out.mu.Unlock()
			return strings.Count(out.b.String(), "> ")
		}
		for i, l := range lines {
			deadline := time.Now().Add(10 * time.Second)
			for prompts() < i+1 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			fmt.Fprintf(stdin, "%s\n", l)
		}
		deadline := time.Now().Add(10 * time.Second)
		for prompts() < len(lines)+1 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		stdin.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		return strings.ReplaceAll(out.take(), tg.addr, "ADDR")
	}
	want, got := run(p.redis), run(p.mullet)
	if want != got {
		t.Fatalf("interactive redis-cli differs\nredis:\n%s\nmullet:\n%s", want, got)
	}
	if !strings.Contains(want, "(TX)> EXEC") || !strings.Contains(want, "QUEUED") {
		t.Fatalf("the session did not run as expected:\n%s", want)
	}
}

func redisCLI(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redis-cli is required for this test (apt-get install redis-tools): %v", err)
	}
	return bin
}

func cliPort(t *testing.T, ts *testServer) string {
	_, port, err := net.SplitHostPort(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func TestRedisCLI(t *testing.T) {
	ts := startServer(t)
	bin, port := redisCLI(t), cliPort(t, ts)
	run := func(stdin string, args ...string) string {
		cmd := exec.Command(bin, append([]string{"-h", "127.0.0.1", "-p", port}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run("", "INFO"); !strings.HasPrefix(out, "# Server\r\nredis_version:7.0.15\r\n") || !strings.Contains(out, "\r\nloading:0\r\n") {
		t.Errorf("redis-cli INFO:\n%s", out)
	}
	if out := run("", "CLIENT", "LIST"); !strings.HasPrefix(out, "id=") || !strings.Contains(out, " cmd=client|list ") {
		t.Errorf("redis-cli CLIENT LIST:\n%s", out)
	}
	if out := run("PING\n"); out != "PONG\n" {
		t.Errorf("echo PING | redis-cli = %q", out)
	}
	if out := run("", "CONFIG", "GET", "maxmemory"); out != "maxmemory\n0\n" {
		t.Errorf("redis-cli CONFIG GET maxmemory = %q", out)
	}
	if out := run("", "COMMAND", "COUNT"); strings.TrimSpace(out) != fmt.Sprint(len(command.Commands())) {
		t.Errorf("redis-cli COMMAND COUNT = %q", out)
	}
}

// TestRedisCLIInteractive runs redis-cli on a terminal (a pty, TERM=dumb
// so that it reads plain lines): at start it asks for COMMAND DOCS, which
// must succeed, and then the session works.
func TestRedisCLIInteractivePTY(t *testing.T) {
	ts := startServer(t)
	bin, port := redisCLI(t), cliPort(t, ts)
	r := ts.raw(t)
	r.do("CONFIG", "RESETSTAT") // command stats are shared by every server in the binary

	master, tty := openPTY(t)
	cmd := exec.Command(bin, "-h", "127.0.0.1", "-p", port)
	cmd.Env = append(os.Environ(), "TERM=dumb")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		io.Copy(&out, master) // ends with EIO once redis-cli exits
		close(copied)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		master.Close()
		<-copied
	})

	// Type once the docs have been fetched, so the session is past start-up.
	testutil.WaitFor(t, 5*time.Second, "redis-cli to fetch COMMAND DOCS", func() bool {
		return infoValue(infoBody(t, r.do("INFO", "commandstats")), "cmdstat_command|docs") != ""
	})
	if _, err := master.Write([]byte("lpush q a\nclient getname\nquit\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		exited <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("redis-cli did not exit after quit")
	}
	master.Close()
	<-copied
	session := out.String()
	if !strings.Contains(session, "(integer) 1") || !strings.Contains(session, "(nil)") || strings.Contains(session, "(error)") {
		t.Errorf("redis-cli session:\n%s", session)
	}
	if got := infoValue(infoBody(t, r.do("INFO", "commandstats")), "cmdstat_command|docs"); !strings.HasPrefix(got, "calls=1,") ||
		!strings.HasSuffix(got, ",rejected_calls=0,failed_calls=0") {
		t.Errorf("cmdstat_command|docs:%s", got)
	}
}

// openPTY opens a pseudo-terminal pair, as script(1) does.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("ptsname: %v", e)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pts: %v", err)
	}
	return master, tty
}
