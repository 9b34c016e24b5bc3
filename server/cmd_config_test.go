package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mullet/internal/resp"
)

func TestConfigGetSet(t *testing.T) {
	ts := startServer(t)
	runSteps(t, ts, []step{
		{"CONFIG GET maxmemory", "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"},
		{"CONFIG SET maxmemory 1mb timeout 300 slowlog-max-len 5", "+OK\r\n"},
		{"CONFIG GET maxmemory", "*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n"},
		{"CONFIG GET slowlog-max-len", "*2\r\n$15\r\nslowlog-max-len\r\n$1\r\n5\r\n"},
		// Atomic: a bad value changes nothing.
		{"CONFIG SET timeout 5 maxmemory x", "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n"},
		{"CONFIG GET timeout", "*2\r\n$7\r\ntimeout\r\n$3\r\n300\r\n"},
		{"CONFIG SET maxmemory-policy allkeys-lru", "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - mullet never evicts: maxmemory-policy must be noeviction\r\n"},
		{"CONFIG SET port 1", "-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config\r\n"},
		{"CONFIG SET timeout 1 timeout 2", "-ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter\r\n"},
		{"HELLO 3", "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"},
		{"CONFIG GET maxmemory", "%1\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n"},
		{"CONFIG GET nosuch", "%0\r\n"},
	})
	// CONFIG SET reaches the server: the memory limit applies.
	if ts.ks.MaxMemory() != 1<<20 || ts.s.cur().IdleTimeout != 300*time.Second {
		t.Errorf("maxmemory %d, timeout %v after CONFIG SET", ts.ks.MaxMemory(), ts.s.cur().IdleTimeout)
	}
}

func TestConfigRewrite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mullet.conf")
	if err := os.WriteFile(file, []byte("# queue settings\nmaxmemory 2mb\ntimeout 10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := startServerWith(t, serverOpts{file: file})
	r := ts.raw(t)
	if got := infoValue(infoBody(t, r.do("INFO", "server")), "config_file"); got != file {
		t.Errorf("config_file:%s, want %s", got, file)
	}
	r.do("CONFIG", "SET", "maxmemory", "3mb", "slowlog-max-len", "7")
	if got := r.do("CONFIG", "REWRITE"); got != "+OK\r\n" {
		t.Fatalf("CONFIG REWRITE = %q", got)
	}
	b, _ := os.ReadFile(file)
	if s := string(b); !strings.Contains(s, "# queue settings\nmaxmemory 3mb\ntimeout 10\n") || !strings.Contains(s, "\nslowlog-max-len 7\n") {
		t.Errorf("rewritten file:\n%s", s)
	}
	// A file that cannot be replaced: Redis's message with the cause.
	os.Remove(file)
	if err := os.Mkdir(file, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := r.do("CONFIG", "REWRITE"); !strings.HasPrefix(got, "-ERR Rewriting config file: ") {
		t.Errorf("CONFIG REWRITE onto a directory = %q", got)
	}
}

// TestConfigGetMatchesRedis compares CONFIG GET * with redis-server's for
// every directive both have. The differences are mullet's defaults by
// design (a durable queue: appendonly yes) or the test's own servers
// (ports, directories, files).
func TestConfigGetMatchesRedis(t *testing.T) {
	ts := startServer(t)
	ours, theirs := ts.raw(t), dialRaw(t, startRedis(t))
	pairs := func(r *raw) map[string]string {
		v, _, err := resp.Parse([]byte(r.do("CONFIG", "GET", "*")))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i := 0; i+1 < len(v.Elems); i += 2 {
			m[v.Elems[i].Str] = v.Elems[i+1].Str
		}
		return m
	}
	ourConf, redisConf := pairs(ours), pairs(theirs)
	expected := map[string]bool{
		"port": true, "bind": true, "dir": true, "pidfile": true, "logfile": true, "save": true, "daemonize": true,
		"appendonly": true, // both started with appendonly no, but mullet's default is yes
	}
	shared := 0
	for name, want := range redisConf {
		got, ok := ourConf[name]
		if !ok || expected[name] {
			continue
		}
		shared++
		if got != want {
			t.Errorf("CONFIG GET %s: mullet %q, redis-server %q", name, got, want)
		}
	}
	if shared < 100 {
		t.Errorf("only %d directives shared with redis-server", shared)
	}
}

// CONFIG SET timeout 0 must lift the idle deadline a connection got while
// the timeout was on, or the connection is dropped anyway.
func TestConfigSetTimeoutOff(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	r.do("CONFIG", "SET", "timeout", "1")
	r.do("CONFIG", "SET", "timeout", "0") // read with a 1 s deadline pending
	time.Sleep(1200 * time.Millisecond)   // let that deadline pass: time, not a goroutine, is awaited
	if got := r.do("PING"); got != "+PONG\r\n" {
		t.Errorf("PING after the idle timeout was turned off = %q", got)
	}
}
