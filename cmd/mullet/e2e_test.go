package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mullet/internal/e2e"

	respc "mullet/internal/resp"
)

// These tests run the real binary, as an operator would: built from
// ./cmd/mullet once per test run, served from a temp dir on a free port,
// stopped by PID.

// The binary is built once per test run by internal/e2e, which also
// removes it at the end.
func TestMain(m *testing.M) { e2e.Main(m) }

func mulletBin(t testing.TB) string { return e2e.Binary(t) }

func freePort(t testing.TB) int { return e2e.FreePort(t) }

// A proc is a running mullet serve.
type proc struct {
	t    testing.TB
	cmd  *exec.Cmd
	addr string
	log  *bytes.Buffer
	done chan struct{}
}

// startMullet runs `mullet serve args...` in the repository root with --port set to a free port,
// waits until it accepts connections, and kills it (by PID) when the test
// ends if it is still running.
func startMullet(t testing.TB, port int, args ...string) *proc {
	t.Helper()
	if port == 0 {
		port = freePort(t)
	}
	args = append(append([]string{"serve"}, args...), "--port", strconv.Itoa(port), "--bind", "127.0.0.1")
	cmd := exec.Command(mulletBin(t), args...)
	cmd.Dir = "../.." // the repository root, where mullet.conf's dir ./data exists
	p := &proc{t: t, cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout = &syncWriter{w: p.log}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("mullet log (%v):\n%s", args, p.logText())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		// Ready means PING answers PONG: while the AOF loads it answers
		// -LOADING.
		if c, err := net.Dial("tcp", p.addr); err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			c.Write([]byte("PING\r\n"))
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			c.Close()
			if strings.HasPrefix(string(buf[:n]), "+PONG") {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("mullet exited during start-up:\n%s", p.logText())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mullet not accepting connections after 20s:\n%s", p.logText())
		}
		time.Sleep(10 * time.Millisecond) // polling a child process's port
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (p *proc) logText() string {
	w := p.cmd.Stdout.(*syncWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return p.log.String()
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("mullet ignored SIGTERM for 30s:\n%s", p.logText())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		p.t.Fatalf("mullet exited with %d:\n%s", code, p.logText())
	}
}

// kill9 kills the server as a crash would.
func (p *proc) kill9() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// resp is the shared RESP client (internal/resp) with replies as text.
type resp struct{ c *respc.Conn }

func dialResp(addr string) (*resp, error) {
	c, err := respc.Dial(addr)
	if err != nil {
		return nil, err
	}
	return &resp{c}, nil
}

// do sends a command and returns the reply as text: a status, an integer
// in decimal, a bulk's content, "" for a null; an error reply is the error.
func (r *resp) do(args ...string) (string, error) {
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	v, err := r.c.Do(respc.Args(args...)...)
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", nil
	}
	return fmt.Sprint(v), nil
}

func (r *resp) close() { r.c.Close() }

// TestServeDrainsIntoBolt is the README's first run: mullet.conf as
// shipped, LPUSH one order, and the row is in <dir>/sink.db.
func TestServeDrainsIntoBolt(t *testing.T) {
	dir := t.TempDir()
	p := startMullet(t, 0, "mullet.conf", "--dir", dir, "--appendonly", "no")
	r, err := dialResp(p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	if n, err := r.do("LPUSH", "order_queue", `{"id":1,"total":9.5}`); err != nil || n != "1" {
		t.Fatalf("LPUSH: %q, %v", n, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := r.do("LLEN", "order_queue")
		if err != nil {
			t.Fatal(err)
		}
		if n == "0" {
			break // claimed; a graceful stop lets it commit
		}
		if time.Now().After(deadline) {
			t.Fatalf("order_queue still holds %s items after 20s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}

	var out bytes.Buffer
	err = sinkDump(dir, "orders", &out)
	if err == nil || !strings.Contains(err.Error(), "held by a running mullet") {
		t.Errorf("dump while serving: %v; want the running-server message", err)
	}
	p.stop()
	cmd := exec.Command(mulletBin(t), "sink", "dump", "--dir", dir, "orders")
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mullet sink dump: %v\n%s", err, got)
	}
	if want := `{"id":1,"total":9.5}` + "\n"; string(got) != want {
		t.Errorf("dump = %q, want %q", got, want)
	}
}

func TestSinkDumpErrors(t *testing.T) {
	bin := mulletBin(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no table", []string{"sink", "dump", "--dir", t.TempDir()}, "usage: mullet sink dump [--dir DIR] TABLE"},
		{"no sink file", []string{"sink", "dump", "--dir", t.TempDir(), "orders"}, "no sink file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(bin, tc.args...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("%v: %v\n%s\nwant an error containing %q", tc.args, err, out, tc.want)
			}
		})
	}
}

// TestTwoSQLSinksRefused: consumer-mysql-dsn and consumer-postgres-dsn
// together stop the server at start-up with a message naming both, and
// a bad PostgreSQL DSN fails at start-up rather than in a retry loop.
func TestTwoSQLSinksRefused(t *testing.T) {
	bin := mulletBin(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"both DSNs", []string{"serve", "--port", "0", "--dir", t.TempDir(), "--appendonly", "no",
			"--consumer-route", "q", "t",
			"--consumer-mysql-dsn", "u:p@tcp(127.0.0.1:1)/db",
			"--consumer-postgres-dsn", "postgres://u:p@127.0.0.1:1/db"},
			"consumer-mysql-dsn and consumer-postgres-dsn are both set"},
		{"bad PostgreSQL DSN", []string{"serve", "--port", "0", "--dir", t.TempDir(), "--appendonly", "no",
			"--consumer-route", "q", "t",
			"--consumer-postgres-dsn", "postgres://u:p@127.0.0.1:notaport/db"},
			"PostgreSQL DSN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(bin, tc.args...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("%v: %v\n%s\nwant an error containing %q", tc.args, err, out, tc.want)
			}
		})
	}
}
