package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestServeHelpUsageOnce: 'mullet serve --help' prints one Usage line.
func TestServeHelpUsageOnce(t *testing.T) {
	out, err := exec.Command(mulletBin(t), "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if n := strings.Count(string(out), "Usage:"); n != 1 || !strings.HasPrefix(string(out), "Usage: mullet serve ") {
		t.Errorf("%d Usage lines:\n%.400s", n, out)
	}
}

// TestToolsClosedPort: 'mullet bench' and 'mullet dead' against a port
// nobody listens on print mullet's one error line, not go-redis's own log
// line before it.
func TestToolsClosedPort(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	for _, args := range [][]string{
		{"bench", "--addr", addr, "--count", "1"},
		{"dead", "list", "--addr", addr, "q"},
	} {
		out, err := exec.Command(mulletBin(t), args...).CombinedOutput()
		if err == nil {
			t.Errorf("%v succeeded", args)
		}
		want := "mullet: " + args[0] + ": " + addr + ": dial tcp " + addr + ": connect: connection refused\n"
		if string(out) != want {
			t.Errorf("%v printed:\n%s\nwant:\n%s", args, out, want)
		}
	}
}
