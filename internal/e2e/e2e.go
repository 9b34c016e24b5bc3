// Package e2e runs the real mullet binary as a subprocess: crash tests
// (kill -9 under load), start-up with damaged files, a full disk, interop
// with redis-server on the same directory. Its helpers are meant for any
// end-to-end test that needs a running server; it is also the one
// place the reference redis-server is started (StartRedisWith), for the
// comparisons in aof, config and server.
//
// The binary is built once per test binary (go build ./cmd/mullet into a
// temporary directory, removed by Main). Servers listen on 127.0.0.1 on a
// free port and are stopped by PID in t.Cleanup.
//
//	func TestMain(m *testing.M) { e2e.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		s := e2e.Start(t, t.TempDir(), "--appendonly", "yes")
//		c := s.Client(t)
//		...
//		s.Kill(t)                 // SIGKILL, wait for the exit
//		s = e2e.Start(t, s.Dir)   // same directory, new port
//	}
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

// Main runs the tests and removes the binary built for them. Call it from
// TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// Binary returns the path of the mullet binary, building it on first use.
// With MULLET_E2E_RACE=1 it is built with the race detector.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "mullet-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "mullet")
		args := []string{"build", "-o", binPath}
		if os.Getenv("MULLET_E2E_RACE") == "1" {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "mullet/cmd/mullet")...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/mullet: %v\n%s", err, out.String())
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Server is a running mullet (or redis-server) process.
type Server struct {
	Dir  string // the server's dir
	Port int
	Addr string   // 127.0.0.1:Port
	Args []string // redis-server's arguments after its config file (StartRedisWith)

	cmd    *exec.Cmd
	out    *syncBuffer   // stdout and stderr
	exited chan struct{} // closed when the process has exited
	err    error         // its exit status, once exited
}

// syncBuffer collects a process's output.
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

// Start runs "mullet serve" on dir with the given directives (as
// --name value pairs) on a free port, and waits until it answers PING
// with +PONG, its data loaded (Spawn and WaitUp see -LOADING). The server is
// killed at cleanup if still running; its output is logged if the test
// failed.
func Start(t testing.TB, dir string, directives ...string) *Server {
	t.Helper()
	s := Spawn(t, dir, directives...)
	if err := s.WaitReady(60 * time.Second); err != nil {
		t.Fatalf("mullet did not start: %v\n%s", err, s.Output())
	}
	return s
}

// Spawn starts "mullet serve" like Start but does not wait for it.
func Spawn(t testing.TB, dir string, directives ...string) *Server {
	t.Helper()
	port := FreePort(t)
	args := append([]string{"serve", "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--dir", dir},
		directives...)
	return spawn(t, Binary(t), dir, port, args...)
}

// StartRedis runs redis-server on dir on a free port with saving off
// (--save "") and the given extra arguments, and waits until it has loaded
// its data. The test fails (never skips) if redis-server is missing.
func StartRedis(t testing.TB, dir string, extra ...string) *Server {
	t.Helper()
	return StartRedisWith(t, RedisOptions{Dir: dir, Args: append([]string{"--logfile", ""}, extra...)})
}

// SpawnRedis starts redis-server like StartRedis but does not wait for it.
func SpawnRedis(t testing.TB, dir string, extra ...string) *Server {
	t.Helper()
	s, _ := spawnRedis(t, RedisOptions{Dir: dir, Args: append([]string{"--logfile", ""}, extra...)})
	return s
}

// RedisOptions say how StartRedisWith runs redis-server. Every package
// whose tests compare with the real server starts it here.
type RedisOptions struct {
	// Dir is its working directory (--dir); empty means t.TempDir().
	Dir string
	// Config, if not empty, is written to Dir/redis.conf, which is passed
	// first, as redis-server wants its config file.
	Config string
	// Args come after the ones StartRedisWith sets: --port (free),
	// --bind 127.0.0.1, --dir, --save "", --daemonize no.
	Args []string
	// Env is added to the environment (LC_ALL=C for bytewise SORT ALPHA).
	Env []string
	// Prefix runs redis-server under another command, such as ip netns
	// exec NS. Its port is then not reachable from here, so readiness is
	// read from its log instead of answered PINGs.
	Prefix []string
}

var (
	redisOnce sync.Once
	redisPath string
	redisErr  error
)

// RedisBin returns the path of redis-server, checked once to be 7.0: the
// tests that compare with it pin 7.0's behaviour. It fails the test (never
// skips) if redis-server is missing: CI installs it.
func RedisBin(t testing.TB) string {
	t.Helper()
	redisOnce.Do(func() {
		redisPath, redisErr = exec.LookPath("redis-server")
		if redisErr != nil {
			redisErr = fmt.Errorf("redis-server 7.0 is required (apt-get install redis-server; CI does): %w", redisErr)
			return
		}
		if out, err := exec.Command(redisPath, "--version").Output(); err != nil || !bytes.Contains(out, []byte("v=7.0.")) {
			redisErr = fmt.Errorf("these tests compare with redis-server 7.0; %s --version: %s %v", redisPath, out, err)
		}
	})
	if redisErr != nil {
		t.Fatal(redisErr)
	}
	return redisPath
}

// StartRedisWith runs redis-server as o says and waits until it has
// loaded its data and accepts connections. A port taken between FreePort
// and the server's bind is retried with another.
func StartRedisWith(t testing.TB, o RedisOptions) *Server {
	t.Helper()
	for attempt := 0; ; attempt++ {
		s, err := spawnRedis(t, o)
		if err == nil {
			if len(o.Prefix) > 0 {
				err = s.waitLog("Ready to accept connections", 60*time.Second)
			} else {
				// Loaded: PONG, or NOAUTH under requirepass (not LOADING).
				err = s.poll(60*time.Second, func(reply string) bool {
					return reply == "+PONG" || strings.HasPrefix(reply, "-NOAUTH")
				})
			}
		}
		if err == nil {
			return s
		}
		s.signal(syscall.SIGKILL)
		<-s.exited
		if attempt < 3 && strings.Contains(s.Output(), "Address already in use") {
			continue
		}
		t.Fatalf("redis-server did not start: %v\n%s", err, s.Output())
	}
}

func spawnRedis(t testing.TB, o RedisOptions) (*Server, error) {
	t.Helper()
	bin := RedisBin(t)
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	port := FreePort(t)
	args := append([]string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", o.Dir,
		"--save", "", "--daemonize", "no"}, o.Args...)
	argv := args
	if o.Config != "" {
		conf := filepath.Join(o.Dir, "redis.conf")
		if err := os.WriteFile(conf, []byte(o.Config), 0o644); err != nil {
			t.Fatal(err)
		}
		argv = append([]string{conf}, args...)
	}
	if len(o.Prefix) > 0 {
		argv = append(append(append([]string(nil), o.Prefix[1:]...), bin), argv...)
		bin = o.Prefix[0]
	}
	s := spawnEnv(t, bin, o.Dir, port, o.Env, argv...)
	s.Args = args
	return s, nil
}

// waitLog waits until the process has printed substr.
func (s *Server) waitLog(substr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !strings.Contains(s.Output(), substr) {
		select {
		case <-s.exited:
			return fmt.Errorf("process exited (%v) before it printed %q", s.err, substr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %q after %v", substr, timeout)
		}
		time.Sleep(10 * time.Millisecond) // polling a subprocess's output: there is nothing to wait on
	}
	return nil
}

func spawn(t testing.TB, bin, dir string, port int, args ...string) *Server {
	t.Helper()
	return spawnEnv(t, bin, dir, port, nil, args...)
}

func spawnEnv(t testing.TB, bin, dir string, port int, env []string, args ...string) *Server {
	t.Helper()
	s := &Server{
		Dir: dir, Port: port, Addr: fmt.Sprintf("127.0.0.1:%d", port),
		out: &syncBuffer{}, exited: make(chan struct{}),
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if len(env) > 0 {
		s.cmd.Env = append(os.Environ(), env...)
	}
	// Killed with the test binary, whatever happens to it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.signal(syscall.SIGKILL)
		<-s.exited
		if t.Failed() {
			t.Logf("output of %s (pid %d):\n%s", filepath.Base(bin), s.cmd.Process.Pid, s.Output())
		}
	})
	return s
}

// PID returns the process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Output returns what the process has printed so far (its log).
func (s *Server) Output() string { return s.out.String() }

// Exited returns a channel closed when the process has exited.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// ExitErr returns the process's exit status; call it after Exited.
func (s *Server) ExitErr() error { return s.err }

func (s *Server) signal(sig syscall.Signal) {
	select {
	case <-s.exited:
	default:
		syscall.Kill(s.cmd.Process.Pid, sig) // by PID: only the process we started
	}
}

// Kill sends SIGKILL and waits for the process to exit: a crash, nothing
// flushed or synced beyond what the server had done.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.signal(syscall.SIGKILL)
	<-s.exited
}

// Stop sends SIGTERM and waits up to 30 seconds for a clean exit.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.signal(syscall.SIGKILL)
		<-s.exited
		t.Fatalf("pid %d did not exit within 30s of SIGTERM", s.PID())
	}
}

// WaitUp polls PING until the server answers it, with PONG or -LOADING,
// or the deadline passes, or the process exits.
func (s *Server) WaitUp(timeout time.Duration) error {
	return s.poll(timeout, func(reply string) bool {
		return reply == "+PONG" || strings.HasPrefix(reply, "-LOADING")
	})
}

// WaitReady polls PING until it answers +PONG (the data is loaded).
func (s *Server) WaitReady(timeout time.Duration) error {
	return s.poll(timeout, func(reply string) bool { return reply == "+PONG" })
}

func (s *Server) poll(timeout time.Duration, ok func(reply string) bool) error {
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("process exited (%v) before it was ready", s.err)
		default:
		}
		reply, err := s.Ping()
		if err == nil && ok(reply) {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = reply
		}
		time.Sleep(10 * time.Millisecond) // polling a subprocess: there is nothing to wait on
	}
	return fmt.Errorf("not ready after %v (last: %s)", timeout, last)
}

// Ping sends one PING on a fresh connection and returns the reply line
// ("+PONG", "-LOADING ...").
func (s *Server) Ping() (string, error) {
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return "", err
	}
	buf := make([]byte, 256)
	n, err := c.Read(buf)
	if n == 0 {
		return "", err
	}
	return strings.TrimRight(string(buf[:n]), "\r\n"), nil
}

// Client returns a go-redis client for the server, closed at cleanup. It
// does not retry: a failed command is reported as failed, which is what
// acknowledgement bookkeeping needs.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	return NewClient(t, s.Addr, 0)
}

// NewClient returns a go-redis client for addr with poolSize
// connections (0: go-redis's default), no retries, closed at cleanup.
func NewClient(t testing.TB, addr string, poolSize int) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr:            addr,
		PoolSize:        poolSize,
		MaxRetries:      -1,
		DialTimeout:     2 * time.Second,
		ReadTimeout:     10 * time.Second,
		WriteTimeout:    10 * time.Second,
		DisableIdentity: true,
		Protocol:        2,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// IsConnErr reports whether err means the connection broke (the outcome
// of the command is unknown) rather than a server error reply.
func IsConnErr(err error) bool {
	if err == nil {
		return false
	}
	var re redis.Error
	return !errors.As(err, &re)
}

// Ctx is a context for test commands.
var Ctx = context.Background()
