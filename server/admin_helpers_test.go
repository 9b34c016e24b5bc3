package server

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"mullet/config"
	"mullet/queue"
)

// serverOpts are what the admin tests vary beyond directives: a config
// file, a log (to have appendonly on), and the wiring cmd does.
type serverOpts struct {
	file       string // config file Load reads, if any
	directives [][]string
	log        queue.Log
	now        func() time.Time // the keyspace's clock, if not the real one
	configure  func(*Config)
}

// startServerWith is startServer with serverOpts.
func startServerWith(t testing.TB, o serverOpts) *testServer {
	t.Helper()
	set := config.New()
	if err := set.Load(o.file, append([][]string{{"appendonly", "no"}}, o.directives...)); err != nil {
		t.Fatal(err)
	}
	ks := queue.New(queue.Config{Databases: int(set.Int("databases")), MaxMemory: set.Size("maxmemory"), Log: o.log, Now: o.now})
	// Errors are kept (a test may fail on a logged panic); the rest is
	// dropped. The logger is set before Serve, so no goroutine races it.
	logs := &lockedBuffer{}
	cfg := Config{Keyspace: ks, Settings: set, Version: "test",
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))}
	if o.configure != nil {
		o.configure(&cfg)
	}
	s := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testServer{addr: ln.Addr().String(), s: s, ks: ks, set: set, logs: logs}
}

// infoValue returns a field of an INFO reply, or "" if absent.
func infoValue(info, name string) string {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v
		}
	}
	return ""
}

// fakePersistence is the Persistence cmd wires for the AOF: Rewrite
// answers err and counts calls; Info adds fixed fields.
type fakePersistence struct {
	mu       sync.Mutex
	rewrites int
	err      error
}

func (p *fakePersistence) Rewrite() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rewrites++
	return p.err
}

// calls returns how many rewrites were asked for.
func (p *fakePersistence) calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rewrites
}

// fail sets the error the next rewrites answer.
func (p *fakePersistence) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

func (p *fakePersistence) Info(add func(name, value string)) {
	add("aof_enabled", "1")
	add("aof_rewrite_in_progress", "0")
	add("aof_current_size", "42")
}
