package consumer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mullet/internal/testutil"
	"mullet/queue"
)

// checkReplay sends every logged record to a fresh redis-server 7.0 and
// checks it ends with the same keys and lists as ks: what the consumer
// logs (claims, splits, dead letters, acknowledgements) is an AOF Redis
// can load.
func checkReplay(t *testing.T, ks *queue.Keyspace, log *testutil.Log) {
	t.Helper()
	r := startRedis(t)
	recs := log.Records(0)
	cmds := map[string]int{}
	for _, rec := range recs {
		cmds[string(rec.Argv[0])]++
		if _, err := r.do(rec.Argv...); err != nil {
			t.Fatalf("redis-server refused %q: %v", rec, err)
		}
	}
	t.Logf("replayed %d records: %v", len(recs), cmds)
	keys := keysOf(t, ks, "*")
	rkeys, _ := r.do([]byte("KEYS"), []byte("*"))
	var got []string
	for _, k := range rkeys.([]any) {
		got = append(got, k.(string))
	}
	slices.Sort(got)
	if !slices.Equal(got, keys) {
		t.Fatalf("redis-server has keys %q, mullet %q", got, keys)
	}
	for _, k := range keys {
		v, _ := r.do([]byte("LRANGE"), []byte(k), []byte("0"), []byte("-1"))
		var items []string
		for _, it := range v.([]any) {
			items = append(items, it.(string))
		}
		if want := listOf(t, ks, k); !slices.Equal(items, want) {
			t.Errorf("%s: redis-server %q, mullet %q", k, items, want)
		}
	}
}

// redisConn is a bare RESP connection to a redis-server.
type redisConn struct {
	c  net.Conn
	br *bufio.Reader
}

// startRedis runs redis-server 7.0 on a free loopback port without
// persistence, killed (by PID) when the test ends. It fails, never skips,
// when redis-server is missing: CI installs it.
func startRedis(t *testing.T) *redisConn {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is required (apt-get install redis-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return &redisConn{c: c, br: bufio.NewReader(c)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server not accepting connections after 10s: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling a child process's port
	}
}

func (r *redisConn) do(args ...[]byte) (any, error) {
	var b []byte
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n", len(a))
		b = append(append(b, a...), "\r\n"...)
	}
	if _, err := r.c.Write(b); err != nil {
		return nil, err
	}
	return readReply(r.br)
}

func readReply(br *bufio.Reader) (any, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return nil, errors.New(line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		out := make([]any, 0, max(n, 0))
		for range n {
			v, err := readReply(br)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply %q", line)
}
