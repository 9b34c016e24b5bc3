package main

import (
	"mullet/bench/internal/harness"
	"mullet/internal/resp"

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

// A proc is redis-server or mullet running as a child process, stopped by
// its PID.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

// startServer runs bin (with argv0 before the directives: "serve" for
// mullet) on a free loopback port in a fresh dir under work, with RDB and
// AOF off, plus extra directives, and waits for PONG.
func startServer(name, bin string, argv0 []string, work string, extra ...string) (*proc, error) {
	dir, err := os.MkdirTemp(work, name+"-")
	if err != nil {
		return nil, err
	}
	return startInDir(name, bin, argv0, dir, extra...)
}

// startInDir is startServer in a given dir, which may hold data to load.
func startInDir(name, bin string, argv0 []string, dir string, extra ...string) (*proc, error) {
	port, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	args := append(append([]string(nil), argv0...),
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	args = append(args, extra...)
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, dir
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &proc{name: name, cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := resp.Dial(s.addr)
		if err == nil {
			v, err := c.Do("PING")
			c.Close()
			if err == nil && v == "PONG" {
				return s, nil
			}
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return nil, fmt.Errorf("%s exited: %s", name, log)
		default:
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s: no PONG in 30s", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop sends SIGTERM, then SIGKILL after 30 s.
func (s *proc) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// infoField returns a field of INFO memory, or "" if the server has none.
func infoField(addr, field string) string {
	c, err := resp.Dial(addr)
	if err != nil {
		return ""
	}
	defer c.Close()
	v, err := c.Do("INFO", "memory")
	s, ok := v.(string)
	if err != nil || !ok {
		return ""
	}
	for _, line := range strings.Split(s, "\r\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return rest
		}
	}
	return ""
}
