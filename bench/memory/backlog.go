package main

import (
	"mullet/bench/internal/harness"
	"mullet/bench/internal/orders"
	"mullet/internal/resp"

	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The backlog figures of issue 14, on seeded JSON orders of ~165 bytes
// (bench/internal/orders):
//
//   - backlog: orders held under maxmemory (64mb) at list-compress-depth 0
//     and 1, LPUSHed in pipelines of 100 until the first OOM;
//   - rdbbase: 2M orders, BGREWRITEAOF with aof-use-rdb-preamble yes; the
//     base file's size, then a restart on the directory: exec to the first
//     PONG (polled every 2 ms; both answer -LOADING until loaded), then
//     LLEN must show every order.

func figureBacklog(f flavour, work, limit string, depth int) error {
	s, err := f.start(work, "--maxmemory", limit, "--list-compress-depth", strconv.Itoa(depth))
	if err != nil {
		return err
	}
	defer s.stop()
	c, err := resp.Dial(s.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	g := orders.New(1)
	var acked int64
	var oom string
	var buf []byte
	for oom == "" {
		for range 100 {
			buf = g.Next(buf[:0])
			c.Send("LPUSH", "orders", buf)
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for range 100 {
			_, err := c.Read()
			var re resp.Error
			switch {
			case errors.As(err, &re):
				oom = string(re)
			case err != nil:
				return err
			default:
				acked++
			}
		}
	}
	if oom != oomText {
		return fmt.Errorf("%s: refused with %q", f.name, oom)
	}
	n, err := c.Int("LLEN", "orders")
	if err != nil {
		return err
	}
	if n != acked {
		return fmt.Errorf("%s: %d pushes acknowledged, LLEN %d", f.name, acked, n)
	}
	rss, _ := harness.Status(s.cmd.Process.Pid, "VmRSS")
	fmt.Printf("%-14s %6d %12d %12d %14s\n", f.name, depth, n, rss, infoField(s.addr, "used_memory"))
	return nil
}

func figureRDBBase(f flavour, work string, n int, depth int) error {
	dir, err := os.MkdirTemp(work, f.name+"-rdbbase-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	args := []string{"--appendonly", "yes", "--aof-use-rdb-preamble", "yes", "--appendfsync", "everysec",
		"--auto-aof-rewrite-percentage", "0", "--list-compress-depth", strconv.Itoa(depth)}
	s, err := startInDir(f.name, f.bin, f.argv0, dir, args...)
	if err != nil {
		return err
	}
	c, err := resp.Dial(s.addr)
	if err != nil {
		s.stop()
		return err
	}
	g := orders.New(1)
	var buf []byte
	for sent := 0; sent < n; {
		batch := min(1000, n-sent)
		for range batch {
			buf = g.Next(buf[:0])
			c.Send("LPUSH", "orders", buf)
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for range batch {
			if _, err := c.Read(); err != nil {
				return err
			}
		}
		sent += batch
	}
	t0 := time.Now()
	if _, err := c.Do("BGREWRITEAOF"); err != nil {
		return err
	}
	for {
		v, err := c.Do("INFO", "persistence")
		if err != nil {
			return err
		}
		info, _ := v.(string)
		if strings.Contains(info, "aof_rewrite_in_progress:0\r") && strings.Contains(info, "aof_rewrite_scheduled:0\r") {
			break
		}
		time.Sleep(2 * time.Millisecond) // polling another process
	}
	rewrite := time.Since(t0)
	c.Close()
	s.stop()
	bases, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.base.*"))
	if len(bases) != 1 || !strings.HasSuffix(bases[0], ".rdb") {
		return fmt.Errorf("%s: base files %v, want one *.base.rdb", f.name, bases)
	}
	st, err := os.Stat(bases[0])
	if err != nil {
		return err
	}

	// Restart: exec to the first PONG.
	port, err := harness.FreePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	rargs := append(append([]string(nil), f.argv0...), "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--dir", dir, "--save", "", "--daemonize", "no")
	rargs = append(rargs, args...)
	cmd := exec.Command(f.bin, rargs...)
	t0 = time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &proc{name: f.name, cmd: cmd, addr: addr, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	defer p.stop()
	var restart, cpu time.Duration
	for restart == 0 {
		if c, err := resp.Dial(addr); err == nil {
			for {
				v, err := c.Do("PING")
				if err == nil && v == "PONG" {
					restart = time.Since(t0)
					cpu = procCPU(cmd.Process.Pid)
					break
				}
				var re resp.Error
				if !errors.As(err, &re) {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			c.Close()
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited while loading", f.name)
		default:
		}
		if restart == 0 {
			time.Sleep(2 * time.Millisecond)
		}
		if time.Since(t0) > time.Minute {
			return fmt.Errorf("%s: no PONG a minute after restart", f.name)
		}
	}
	c, err = resp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if got, err := c.Int("LLEN", "orders"); err != nil || got != int64(n) {
		return fmt.Errorf("%s: LLEN %d after restart, want %d (%v)", f.name, got, n, err)
	}
	fmt.Printf("%-14s %6d %14.1f %12.2f %12.3f %12.3f\n", f.name, depth, float64(st.Size())/1e6, rewrite.Seconds(), restart.Seconds(), cpu.Seconds())
	return nil
}

// procCPU is the CPU time (user and system) process pid has used so far,
// from /proc/pid/stat: on a shared machine a steadier figure than the
// wall time, which includes the time other processes ran.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}
