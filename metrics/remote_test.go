package metrics

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"mullet/config"
	"mullet/queue"
	"mullet/server"
)

// startRedis starts a real redis-server 7.0 on a free loopback port with
// extra directives and stops it by PID when the test ends. It fails the
// test when redis-server is not installed: CI installs it.
func startRedis(t *testing.T, extra ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed (apt-get install redis-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", t.TempDir()}, extra...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond) // polling a port: nothing to wait on
	}
}

// send runs commands on a fresh connection and returns the first line of
// each reply.
func send(t *testing.T, addr string, cmds ...[]string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	var out []string
	for _, args := range cmds {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(c, b.String()); err != nil {
			t.Fatal(err)
		}
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSpace(line))
	}
	return out
}

// TestRemoteRedisServer scrapes a real redis-server through Remote: the
// INFO of the reference implementation must parse into the metrics, with
// AUTH, and the exporter must hold one steady connection.
func TestRemoteRedisServer(t *testing.T) {
	addr := startRedis(t, "--requirepass", "s3cret", "--maxmemory", "64mb")
	send(t, addr, []string{"AUTH", "s3cret"}, []string{"LPUSH", "q", "a", "b"}, []string{"SELECT", "3"}, []string{"LPUSH", "r", "x"})
	h := Handler(Remote(addr, func() string { return "s3cret" }))
	srv := newHTTPTest(t, h)
	scrape(t, srv)
	body := scrape(t, srv) // the second scrape sees the first's INFO in commandstats
	for _, want := range []string{
		"mullet_up 1\n",
		"mullet_connected_clients 1\n", // the exporter's own connection, kept open
		"mullet_blocked_clients 0\n",
		`mullet_commands_total{cmd="info"} 1` + "\n",
		`mullet_commands_total{cmd="lpush"} 2` + "\n",
		`mullet_db_keys{db="db0"} 1` + "\n",
		`mullet_db_keys{db="db3"} 1` + "\n",
		"mullet_memory_max_bytes 6.7108864e+07\n",
		"mullet_aof_enabled 0\n",
		"mullet_aof_last_write_status 1\n",
		`mullet_server_info{mullet_version="",redis_version="7.0.15"} 1` + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", grepPrefix(body, "mullet_"))
	}
}

// TestRemoteDown: a server that is not there (or refuses AUTH) is mullet_up 0,
// and the scrape itself still succeeds.
func TestRemoteDown(t *testing.T) {
	addr := startRedis(t, "--requirepass", "s3cret")
	for name, info := range map[string]InfoFunc{
		"no server":      Remote("127.0.0.1:1", nil),
		"wrong password": Remote(addr, func() string { return "nope" }),
		"no password":    Remote(addr, nil),
	} {
		t.Run(name, func(t *testing.T) {
			body := scrape(t, newHTTPTest(t, Handler(info)))
			if !strings.Contains(body, "mullet_up 0\n") {
				t.Errorf("scrape lacks mullet_up 0:\n%s", grepPrefix(body, "mullet_"))
			}
		})
	}
}

// TestRemoteMulletInProcess scrapes a real in-process mullet server the way
// cmd/mullet wires it: Remote on the server's own listener.
func TestRemoteMulletInProcess(t *testing.T) {
	set := config.New()
	if err := set.Load("", [][]string{{"appendonly", "no"}}); err != nil {
		t.Fatal(err)
	}
	ks := queue.New(queue.Config{Databases: int(set.Int("databases"))})
	s := server.New(server.Config{Keyspace: ks, Settings: set, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	addr := ln.Addr().String()
	send(t, addr, []string{"LPUSH", "q", "a", "b", "c"})
	// The LPUSH connection is closed, but the server may not have seen the
	// close yet (nor that of a previous scrape): scrape until the only
	// client is the exporter's own, for up to 5 s.
	h := newHTTPTest(t, Handler(Remote(addr, nil)))
	var body string
	for deadline := time.Now().Add(5 * time.Second); ; {
		body = scrape(t, h)
		if strings.Contains(body, "mullet_connected_clients 1\n") || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		"mullet_up 1\n",
		"mullet_connected_clients 1\n",
		`mullet_db_keys{db="db0"} 1` + "\n",
		`mullet_commands_total{cmd="lpush"} 1` + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", grepPrefix(body, "mullet_"))
	}
}

// newHTTPTest serves h at /metrics on a loopback port and returns the URL.
func newHTTPTest(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String() + "/metrics"
}

func grepPrefix(body, prefix string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
