// Command typesmem measures what redis-server 7.0 uses to hold a 1M-field
// hash, a 1M-member set and a 1M-member sorted set (16-byte members,
// 8-byte values), the data of queue/internal/coll's BenchmarkMemory1M, so
// that the two can be set side by side (docs/types.md):
//
//	go run ./bench/typesmem                 # redis-server from PATH
//	go test -run '^$' -bench Memory1M -benchtime 1x ./queue/internal/coll
//
// For each type it starts a fresh redis-server on a free loopback port
// (appendonly no, no RDB), loads the key with pipelined commands of 100
// members each, and prints used_memory's growth per element, the
// encoding, and the growth of the process's VmRSS. With -addr it loads an
// already running server instead (mullet, once the commands exist).
package main

import (
	"mullet/internal/resp"

	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	redisBin := flag.String("redis", "redis-server", "redis-server binary")
	addr := flag.String("addr", "", "load this running server instead of starting redis-server")
	n := flag.Int("n", 1_000_000, "members per key")
	flag.Parse()
	fmt.Printf("%-6s %-10s %16s %16s\n", "type", "encoding", "used_memory B/el", "RSS B/el")
	for _, typ := range []string{"hash", "set", "zset"} {
		a, pid, stop := *addr, 0, func() {}
		if a == "" {
			var err error
			a, pid, stop, err = startRedis(*redisBin)
			must(err)
		}
		c, err := resp.Dial(a)
		must(err)
		used0, rss0 := usage(c, pid)
		must(load(c, typ, *n))
		enc, err := c.Do("OBJECT", "ENCODING", typ)
		must(err)
		used1, rss1 := usage(c, pid)
		fmt.Printf("%-6s %-10v %16.1f %16.1f\n", typ, enc, float64(used1-used0)/float64(*n), float64(rss1-rss0)/float64(*n))
		c.Do("DEL", typ)
		c.Close()
		stop()
	}
}

func member(i int) string { return fmt.Sprintf("member:%09d", i) }
func value(i int) string  { return fmt.Sprintf("v%07d", i%10_000_000) }
func score(i, n int) string {
	return strconv.FormatUint(uint64(i)*2654435761%uint64(n), 10)
}

// load adds n members to key typ (the key is named after its type).
func load(c *resp.Conn, typ string, n int) error {
	const batch = 100
	pending := 0
	for i := 0; i < n; i += batch {
		args := []any{map[string]string{"hash": "HSET", "set": "SADD", "zset": "ZADD"}[typ], typ}
		for j := i; j < min(i+batch, n); j++ {
			switch typ {
			case "hash":
				args = append(args, member(j), value(j))
			case "set":
				args = append(args, member(j))
			case "zset":
				args = append(args, score(j, n), member(j))
			}
		}
		c.Send(args...)
		if pending++; pending == 100 {
			if err := drain(c, pending); err != nil {
				return err
			}
			pending = 0
		}
	}
	return drain(c, pending)
}

func drain(c *resp.Conn, k int) error {
	if err := c.Flush(); err != nil {
		return err
	}
	for ; k > 0; k-- {
		v, err := c.Read()
		if err != nil {
			return err
		}
		if e, ok := v.(resp.Error); ok {
			return e
		}
	}
	return nil
}

// usage returns used_memory and, if pid is known, VmRSS in bytes.
func usage(c *resp.Conn, pid int) (used, rss int64) {
	time.Sleep(200 * time.Millisecond) // let the allocator settle; a measurement, not a test
	v, err := c.Do("INFO", "memory")
	must(err)
	for _, l := range strings.Split(fmt.Sprint(v), "\r\n") {
		if s, ok := strings.CutPrefix(l, "used_memory:"); ok {
			used, _ = strconv.ParseInt(s, 10, 64)
		}
	}
	if pid > 0 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		must(err)
		for _, l := range strings.Split(string(b), "\n") {
			if s, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "kB")), 10, 64)
				rss = kb * 1024
			}
		}
	}
	return used, rss
}

func startRedis(bin string) (addr string, pid int, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", 0, nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "typesmem-")
	if err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "log"))
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		if c, err := resp.Dial(addr); err == nil {
			if v, _ := c.Do("PING"); v == "PONG" {
				c.Close()
				return addr, cmd.Process.Pid, stop, nil
			}
			c.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return "", 0, nil, fmt.Errorf("redis-server on port %d did not answer", port)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "typesmem:", err)
		os.Exit(1)
	}
}
