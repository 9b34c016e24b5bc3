package main

import (
	"bufio"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
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
		c, err := dial(s.addr)
		if err == nil {
			v, err := c.do("PING")
			c.close()
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

// status returns a field of /proc/PID/status in kB (VmRSS, VmHWM).
func (s *proc) status(field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, errors.New(field + " not found")
}

// settledRSS samples VmRSS every 250 ms until it moved less than 0.5% in a
// second, or 10 s passed: Redis's is stable at once, Go's may still shrink
// while the scavenger returns freed pages.
func (s *proc) settledRSS() (int64, error) {
	var hist []int64
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := s.status("VmRSS")
		if err != nil {
			return 0, err
		}
		hist = append(hist, r)
		if n := len(hist); n >= 5 {
			lo, hi := slicesMinMax(hist[n-5:])
			if float64(hi-lo) < 0.005*float64(hi) {
				return r, nil
			}
		}
		if time.Now().After(deadline) {
			return r, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func slicesMinMax(v []int64) (lo, hi int64) {
	lo, hi = v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// infoField returns a field of INFO memory, or "" if the server has none.
func infoField(addr, field string) string {
	c, err := dial(addr)
	if err != nil {
		return ""
	}
	defer c.close()
	v, err := c.do("INFO", "memory")
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
