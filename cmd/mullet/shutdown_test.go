package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// These tests run the real binary as a subprocess (built once per test
// into its temp dir) and stop it with signals, the way an operator or a
// process supervisor does.

// buildMulletForShutdown builds cmd/mullet into dir.
func buildMulletForShutdown(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "mullet")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// mulletProc is a running mullet serve.
type mulletProc struct {
	cmd  *exec.Cmd
	addr string
	out  *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startMullet runs bin serve on a free loopback port with data in dir and
// waits until it answers PING.
func startMullet(t *testing.T, bin, dir string, args ...string) *mulletProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	argv := append([]string{"serve", "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
		"--appendonly", "yes", "--consumer-enabled", "no"}, args...)
	p := &mulletProc{cmd: exec.Command(bin, argv...), addr: fmt.Sprintf("127.0.0.1:%d", port),
		out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("mullet output:\n%s", p.out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", p.addr)
		if err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if line == "+PONG\r\n" {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("mullet exited: %v\n%s", p.err, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mullet did not start:\n%s", p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends sig and returns the exit code, failing if the process takes
// longer than limit.
func (p *mulletProc) stop(t *testing.T, sig os.Signal, limit time.Duration) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return p.wait(t, limit)
}

func (p *mulletProc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("mullet still running %v after the signal:\n%s", limit, p.out.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

func TestGracefulShutdown(t *testing.T) {
	tmp := t.TempDir()
	bin := buildMulletForShutdown(t, tmp)
	ctx := context.Background()

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			p := startMullet(t, bin, dir)
			rc := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1})
			defer rc.Close()

			// Acknowledged writes, the state to find after the restart.
			var snap []string
			for i := 0; i < 1000; i++ {
				snap = append(snap, fmt.Sprintf("item-%d", i))
			}
			if err := rc.RPush(ctx, "snap", toAny(snap)...).Err(); err != nil {
				t.Fatal(err)
			}

			// Clients blocked in BLPOP.
			var blocked []net.Conn
			for i := 0; i < 5; i++ {
				c, err := net.Dial("tcp", p.addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.Write([]byte("*3\r\n$5\r\nBLPOP\r\n$7\r\nwaiting\r\n$1\r\n0\r\n"))
				blocked = append(blocked, c)
			}

			// A client pipelining RPUSHes as fast as it can.
			pipe, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer pipe.Close()
			var sent, acked atomic.Int64
			writerDone := make(chan struct{})
			go func() {
				defer close(writerDone)
				var b []byte
				for i := 0; ; i += 100 {
					b = b[:0]
					for j := i; j < i+100; j++ {
						v := strconv.Itoa(j)
						b = fmt.Appendf(b, "*3\r\n$5\r\nRPUSH\r\n$4\r\npipe\r\n$%d\r\n%s\r\n", len(v), v)
					}
					if _, err := pipe.Write(b); err != nil {
						return
					}
					sent.Store(int64(i + 100))
				}
			}()
			readerDone := make(chan struct{})
			go func() {
				defer close(readerDone)
				br := bufio.NewReader(pipe)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if !strings.HasPrefix(line, ":") {
						t.Errorf("pipeline reply %q", line)
						return
					}
					acked.Add(1)
				}
			}()
			deadline := time.Now().Add(10 * time.Second)
			for acked.Load() < 20000 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if acked.Load() == 0 {
				t.Fatal("the pipeline got no replies")
			}

			start := time.Now()
			if code := p.stop(t, sig, 15*time.Second); code != 0 {
				t.Fatalf("exit code %d after %v:\n%s", code, sig, p.out.String())
			}
			t.Logf("%v: exited in %v; pipeline acked %d of %d sent", sig, time.Since(start), acked.Load(), sent.Load())
			<-readerDone
			<-writerDone

			// Blocked clients were disconnected, not answered.
			for i, c := range blocked {
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if b, err := io.ReadAll(c); len(b) != 0 || err != nil {
					t.Errorf("blocked client %d: got %q, %v; want the connection closed", i, b, err)
				}
			}

			// The AOF has everything acknowledged, and the pipeline's
			// items in order.
			p2 := startMullet(t, bin, dir)
			rc2 := redis.NewClient(&redis.Options{Addr: p2.addr, MaxRetries: -1})
			defer rc2.Close()
			if got := rc2.LRange(ctx, "snap", 0, -1).Val(); !slices.Equal(got, snap) {
				t.Errorf("snap after restart: %d items, want %d", len(got), len(snap))
			}
			items := rc2.LRange(ctx, "pipe", 0, -1).Val()
			if int64(len(items)) < acked.Load() || int64(len(items)) > sent.Load() {
				t.Errorf("pipe has %d items; %d were acknowledged, %d sent", len(items), acked.Load(), sent.Load())
			}
			for i, it := range items {
				if it != strconv.Itoa(i) {
					t.Fatalf("pipe[%d] = %q", i, it)
				}
			}
			if n := rc2.Exists(ctx, "waiting").Val(); n != 0 {
				t.Errorf("the blocked clients left a key behind")
			}
			if code := p2.stop(t, syscall.SIGTERM, 15*time.Second); code != 0 {
				t.Errorf("second instance: exit code %d", code)
			}
		})
	}

	t.Run("second signal forces the exit", func(t *testing.T) {
		dir := t.TempDir()
		p := startMullet(t, bin, dir)
		rc := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1})
		defer rc.Close()
		big := strings.Repeat("x", 1000)
		for i := 0; i < 50; i++ {
			args := make([]any, 1000)
			for j := range args {
				args[j] = big
			}
			if err := rc.RPush(ctx, "big", args...).Err(); err != nil {
				t.Fatal(err)
			}
		}
		// A client that asks for 50 MB and does not read keeps shutdown
		// waiting (for a while: the drain deadline would end it).
		stalled, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer stalled.Close()
		stalled.Write([]byte("*4\r\n$6\r\nLRANGE\r\n$3\r\nbig\r\n$1\r\n0\r\n$2\r\n-1\r\n"))
		time.Sleep(300 * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGTERM)
		waitForOutput(t, p, "received signal, shutting down")
		start := time.Now()
		if code := p.stop(t, syscall.SIGTERM, 5*time.Second); code != 1 {
			t.Fatalf("exit code %d after a second signal, want 1", code)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("second signal took %v to end the process", d)
		}
		// What was acknowledged is still loadable.
		p2 := startMullet(t, bin, dir)
		rc2 := redis.NewClient(&redis.Options{Addr: p2.addr, MaxRetries: -1})
		defer rc2.Close()
		if n := rc2.LLen(ctx, "big").Val(); n != 50000 {
			t.Errorf("big has %d items after a forced exit, want 50000", n)
		}
	})
}

func waitForOutput(t *testing.T, p *mulletProc, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output:\n%s", s, p.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
