package server

import (
	"bufio"
	"net"
	"testing"
)

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
