//go:build linux

package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"mullet/internal/testutil"
)

// The real redis-cli 7.0 against mullet: its one-shot mode, its stdin
// mode, and its interactive mode, which starts by fetching COMMAND DOCS
// for its hints.

func redisCLI(t *testing.T) string {
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
	if out := run("", "COMMAND", "COUNT"); strings.TrimSpace(out) != fmt.Sprint(len(commands)) {
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
