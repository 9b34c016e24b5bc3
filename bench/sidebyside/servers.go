package main

import (
	"mullet/bench/internal/harness"
	"mullet/internal/resp"

	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A flavour is one of the two servers under comparison.
type flavour struct {
	name string // "redis-server" or "mullet", as the table's columns
	bin  string
	// argv0 are the arguments before the directives: "serve" for mullet.
	argv0 []string
}

// proc is a running server process, started by this program and stopped by
// its PID.
type proc struct {
	flavour *flavour
	cmd     *exec.Cmd
	addr    string
	dir     string
	log     string
	exited  chan struct{}
	started time.Time // just before exec
	ready   time.Time // when it first answered PING with PONG
}

// startTimeout bounds the wait for PONG. Loading the 1M-item AOF takes a
// few seconds; a server that needs more is broken or the machine is
// swamped.
const startTimeout = 120 * time.Second

// start runs f with the common directives plus extra, in a fresh dir under
// workDir, and waits until it answers PING. Both servers get the same
// directive list: that the flags are the same is part of the comparison.
func start(f *flavour, workDir, label string, extra ...string) (*proc, error) {
	dir, err := os.MkdirTemp(workDir, f.shortName()+"-"+label+"-")
	if err != nil {
		return nil, err
	}
	return startIn(f, dir, extra...)
}

// startIn is start with a given data dir (the AOF load figure prepares it).
func startIn(f *flavour, dir string, extra ...string) (*proc, error) {
	var lastErr error
	// A free port can be taken by another program between our probe and the
	// server's bind: try a few.
	for attempt := 0; attempt < 3; attempt++ {
		port, err := harness.FreePort()
		if err != nil {
			return nil, err
		}
		p, err := startOnce(f, dir, port, extra)
		if err == nil {
			return p, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	return nil, lastErr
}

func startOnce(f *flavour, dir string, port int, extra []string) (*proc, error) {
	args := append([]string(nil), f.argv0...)
	args = append(args,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--dir", dir,
		"--save", "",
		"--daemonize", "no",
	)
	args = append(args, extra...)
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(f.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	p := &proc{flavour: f, cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dir: dir, log: logPath, exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	if err := p.waitPong(startTimeout); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s did not start: %w\n%s", f.name, err, tailFile(logPath, 1500))
	}
	return p, nil
}

// waitPong polls PING every 2 ms until PONG, the process exits or timeout
// passes, and records when PONG came. Redis answers -LOADING while it
// loads its AOF, so the first PONG marks a loaded dataset.
func (p *proc) waitPong(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var c *resp.Conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for {
		select {
		case <-p.exited:
			return errors.New("exited: " + p.cmd.ProcessState.String())
		default:
		}
		if c == nil {
			c, _ = resp.Dial(p.addr)
		}
		if c != nil {
			v, err := c.Do("PING")
			if err == nil && v == "PONG" {
				p.ready = time.Now()
				return nil
			}
			var re resp.Error
			if err != nil && !errors.As(err, &re) {
				c.Close()
				c = nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG within %v", timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits; SIGKILL after 60 s (a final fsync of a
// large AOF can take a while on a loaded disk).
func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

func (f *flavour) shortName() string { return strings.TrimSuffix(f.name, "-server") }

// tailFile returns the last n bytes of a file, for error messages.
func tailFile(path string, n int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
	}
	return string(b)
}
