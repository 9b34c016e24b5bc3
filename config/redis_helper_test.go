package config

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"mullet/internal/e2e"
	"mullet/internal/resp"
)

// The helpers here run the real redis-server 7.0 the tests compare
// against (through internal/e2e, which every package's comparisons use).
// They fail (never skip) when it is missing: the comparison is the point
// of those tests.

// redisBin returns the redis-server path, checked to be a 7.0.
func redisBin(t testing.TB) string { return e2e.RedisBin(t) }

func freePort(t testing.TB) int { return e2e.FreePort(t) }

// startRedis runs redis-server on a free port, persistence off, waits
// until it accepts connections and returns a client plus its arguments,
// which the tests give mullet too. The server is stopped by PID when the
// test ends.
func startRedis(t testing.TB) (*respConn, []string) {
	t.Helper()
	return startRedisWithFile(t, "")
}

// startRedisWithFile is startRedis with a config file holding content
// (none if content is empty) before the args.
func startRedisWithFile(t testing.TB, content string) (*respConn, []string) {
	t.Helper()
	s := e2e.StartRedisWith(t, e2e.RedisOptions{Config: content, Args: []string{"--appendonly", "no"}})
	conn, err := resp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &respConn{conn}, s.Args
}

// respConn is the shared RESP client with failures as test failures.
type respConn struct{ c *resp.Conn }

// do sends a command and returns its reply: string, int64, []any, nil,
// or, for an error reply, a resp.Error.
func (rc *respConn) do(t testing.TB, args ...string) any {
	t.Helper()
	rc.c.SetDeadline(time.Now().Add(10 * time.Second))
	v, err := rc.c.Do(resp.Args(args...)...)
	if re, ok := err.(resp.Error); ok {
		return re
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// configGet returns CONFIG GET's pairs as a map.
func (rc *respConn) configGet(t testing.TB, patterns ...string) map[string]string {
	t.Helper()
	r := rc.do(t, append([]string{"CONFIG", "GET"}, patterns...)...)
	arr, ok := r.([]any)
	if !ok {
		t.Fatalf("CONFIG GET %v: %v", patterns, r)
	}
	m := map[string]string{}
	for i := 0; i+1 < len(arr); i += 2 {
		m[arr[i].(string)] = arr[i+1].(string)
	}
	return m
}

// fatalRe picks Redis's FATAL CONFIG FILE ERROR report apart.
var fatalRe = regexp.MustCompile(`(?s)\*\*\* FATAL CONFIG FILE ERROR \(Redis [^)]*\) \*\*\*\n(?:Reading the configuration file, at line (\d+)\n>>> '(.*)'\n)?(.*)\n$`)

// redisFileError runs redis-server on a config file holding content
// (plus extra command-line args) and returns the line, text and reason of
// the fatal error it reports. It fails the test if redis-server starts.
func redisFileError(t testing.TB, content string, extra ...string) (line int, text, reason string) {
	t.Helper()
	bin := redisBin(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	args := append([]string{path}, extra...)
	args = append(args, "--port", strconv.Itoa(freePort(t)), "--bind", "127.0.0.1", "--save", "", "--dir", dir)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("redis-server accepted %q (or hung): %s", content, out)
	}
	m := fatalRe.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("redis-server on %q: no FATAL CONFIG FILE ERROR in:\n%s", content, out)
	}
	if m[1] != "" {
		line, _ = strconv.Atoi(m[1])
	}
	return line, m[2], m[3]
}

// writeTemp writes content to a new file and returns its path.
func writeTemp(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.conf")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
