package aof

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"mullet/queue"
)

// The AOF is the keyspace's log.
var _ queue.Log = (*AOF)(nil)

// tLogWriter sends slog output to t.Log, so it shows only on failure. As
// hashicorp/raft's newTestLogger warns, t.Log after the test ends panics:
// the writer goes quiet once the test's cleanup has run.
type tLogWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *tLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	w := &tLogWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testOptions(t testing.TB, dir string) Options {
	o := DefaultOptions(dir)
	o.Logger = testLogger(t)
	return o
}

// args builds an argv.
func args(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}

// recorder is an apply func that keeps copies of the commands.
type recorder struct{ cmds []string }

func (r *recorder) apply(argv [][]byte) error {
	r.cmds = append(r.cmds, string(bytes.Join(argv, []byte(" "))))
	return nil
}

// mustOpen opens and loads an AOF and closes it at cleanup.
func mustOpen(t testing.TB, opts Options) (*AOF, []string) {
	t.Helper()
	a, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var r recorder
	if err := a.Load(r.apply); err != nil {
		a.Close()
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a, r.cmds
}

// loadDir opens, loads and closes the AOF in dir and returns the commands.
func loadDir(t testing.TB, opts Options) ([]string, error) {
	t.Helper()
	a, err := Open(opts)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	var r recorder
	err = a.Load(r.apply)
	return r.cmds, err
}

// appendWait appends and waits, failing the test on error.
func appendWait(t testing.TB, a *AOF, db int, s ...string) uint64 {
	t.Helper()
	tk := a.Append(db, args(s...))
	if err := a.Wait(tk); err != nil {
		t.Fatalf("Wait(%d): %v", tk, err)
	}
	return tk
}

// writeDir lays out an AOF directory holding the given files (name →
// content) and manifest.
func writeDir(t testing.TB, dir string, manifest string, files map[string]string) string {
	t.Helper()
	ad := filepath.Join(dir, DefaultDirName)
	if err := os.MkdirAll(ad, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(ad, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ad, DefaultFileName+".manifest"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return ad
}

const simpleManifest = "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"

// resp encodes commands the way Redis writes them.
func resp(cmds ...[]string) string {
	var b []byte
	for _, c := range cmds {
		b = appendCommand(b, args(c...))
	}
	return string(b)
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// dataSize is the size of an incr file without the padding the writer
// keeps ahead of its offset under always (see AOF.reserve).
func dataSize(t testing.TB, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	end, err := padStart(f, fileSize(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return end
}

func readManifest(t testing.TB, aofDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(aofDir, DefaultFileName+".manifest"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func equalStrings(t testing.TB, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d items, want %d\n got: %q\nwant: %q", what, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: item %d: got %q, want %q", what, i, got[i], want[i])
		}
	}
}

var bg = context.Background()

func sprint(v ...any) string { return fmt.Sprint(v...) }
