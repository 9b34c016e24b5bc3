package server

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tidwall/redcon"

	"mullet/config"
	"mullet/internal/resp"
	"mullet/queue"
)

// testServer is a mullet server on a loopback port chosen for the test.
type testServer struct {
	addr string
	s    *Server
	ks   *queue.Keyspace
	set  *config.Config
	logs *lockedBuffer // what the server logged at level Error
}

// startServer starts a server with the given directives (name, args...)
// and registers its shutdown with t.Cleanup.
func startServer(t testing.TB, directives ...[]string) *testServer {
	t.Helper()
	return startServerWith(t, serverOpts{directives: directives})
}

// client returns a go-redis client for the server.
func (ts *testServer) client(t testing.TB, opts ...func(*redis.Options)) *redis.Client {
	o := &redis.Options{Addr: ts.addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// raw is a bare connection for exact-bytes tests.
type raw struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func (ts *testServer) raw(t testing.TB) *raw {
	t.Helper()
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &raw{t: t, c: c, br: bufio.NewReader(c)}
}

// send writes bytes as they are.
func (r *raw) send(s string) {
	r.t.Helper()
	if _, err := r.c.Write([]byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

// cmd encodes args as a RESP array and sends it.
func (r *raw) cmd(args ...string) {
	r.t.Helper()
	var b []byte
	b = redcon.AppendArray(b, len(args))
	for _, a := range args {
		b = redcon.AppendBulkString(b, a)
	}
	r.send(string(b))
}

// reply reads one complete RESP2 or RESP3 value and returns its exact
// bytes.
func (r *raw) reply() string {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var buf bytes.Buffer
	if err := resp.ReadRaw(r.br, &buf); err != nil {
		r.t.Fatalf("reading reply (have %q): %v", buf.String(), err)
	}
	return buf.String()
}

// do sends a command and returns its reply bytes.
func (r *raw) do(args ...string) string {
	r.t.Helper()
	r.cmd(args...)
	return r.reply()
}

// expectClosed asserts the server closed the connection.
func (r *raw) expectClosed() {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := r.br.ReadByte()
	if err == nil {
		r.t.Fatalf("connection still open, read %q", b)
	}
}

// step is one command and its exact expected reply.
type step struct {
	cmd  string // space-separated arguments; use cmds for binary or spaces
	want string
}

// runSteps runs table steps on a fresh connection, pinning reply bytes.
func runSteps(t *testing.T, ts *testServer, steps []step) {
	t.Helper()
	r := ts.raw(t)
	for i, s := range steps {
		got := r.do(strings.Fields(s.cmd)...)
		if got != s.want {
			t.Fatalf("step %d %q: got %q, want %q", i, s.cmd, got, s.want)
		}
	}
}
