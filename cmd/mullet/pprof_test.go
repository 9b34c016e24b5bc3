package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"mullet/internal/e2e"
)

// TestPprofListener: startPprof serves /debug/pprof, and its stop closes
// the listener and returns only once the serving goroutine has ended.
func TestPprofListener(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", e2e.FreePort(t))
	stop, err := startPprof(addr, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	if err != nil {
		stop()
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Errorf("GET /debug/pprof/cmdline: %s %q", resp.Status, body)
	}
	stop()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the profiler still accepts connections after stop")
	}
	if _, err := startPprof("127.0.0.1:notaport", slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "MULLET_PPROF") {
		t.Fatalf("a bad MULLET_PPROF address: %v, want an error naming it", err)
	}
	stop, err = startPprof("", nil)
	if err != nil {
		t.Fatal(err)
	}
	stop()
}
