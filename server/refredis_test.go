package server

import (
	"bufio"
	"net"
	"testing"

	"mullet/internal/e2e"
)

// redisBin returns the path of redis-server, once checked to be 7.0: the
// differential tests compare with it.
func redisBin(t testing.TB) string { return e2e.RedisBin(t) }

// dialRaw opens a bare connection to addr for exact-bytes comparisons.
func dialRaw(t testing.TB, addr string) *raw {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &raw{t: t, c: c, br: bufio.NewReader(c)}
}
