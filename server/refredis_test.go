package server

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

var (
	redisBinOnce sync.Once
	redisBinPath string
	redisBinErr  error
)

// redisBin returns the path of redis-server, once checked to be 7.0: the
// differential tests compare with it.
func redisBin(t testing.TB) string {
	t.Helper()
	redisBinOnce.Do(func() {
		redisBinPath, redisBinErr = exec.LookPath("redis-server")
		if redisBinErr != nil {
			redisBinErr = fmt.Errorf("redis-server 7.0 is required as the reference (apt-get install redis-server): %w", redisBinErr)
			return
		}
		if out, err := exec.Command(redisBinPath, "--version").Output(); err != nil || !strings.Contains(string(out), "v=7.0.") {
			redisBinErr = fmt.Errorf("these tests compare with redis-server 7.0; %s --version: %s %v", redisBinPath, out, err)
		}
	})
	if redisBinErr != nil {
		t.Fatal(redisBinErr)
	}
	return redisBinPath
}

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
