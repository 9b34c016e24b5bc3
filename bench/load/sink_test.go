package load

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mullet/config"
	"mullet/consumer"
	"mullet/queue"
	"mullet/server"
)

// startWithConsumer runs an in-process server whose embedded consumer
// drains queue "orders_q" into table "orders" of a bbolt sink, and stops
// both when the test ends.
func startWithConsumer(t *testing.T) string {
	t.Helper()
	set := config.New()
	if err := set.Load("", [][]string{{"appendonly", "no"}}); err != nil {
		t.Fatal(err)
	}
	ks := queue.New(queue.Config{Databases: int(set.Int("databases"))})
	cfg := consumer.DefaultConfig()
	cfg.Routes = []consumer.Route{{Queue: "orders_q", Table: "orders"}}
	path := filepath.Join(t.TempDir(), consumer.BoltFile)
	cfg.OpenSink = func(context.Context) (consumer.Sink, error) { return consumer.NewBolt(path, nil) }
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := consumer.New(ks, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := server.New(server.Config{Keyspace: ks, Settings: set, Logger: cfg.Logger,
		Sections: []server.InfoSection{{Name: "Consumer", Info: c.Info}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	c.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := c.Stop(ctx); err != nil {
			t.Errorf("consumer stop: %v", err)
		}
	})
	return ln.Addr().String()
}

func sinkCfg(addr string) Config {
	return Config{
		Addr: addr, Producers: 2, Queue: "orders_q", Pipeline: 8, Count: 2000,
		Drain: 30 * time.Second, Every: 20 * time.Millisecond, Out: io.Discard, Progress: io.Discard,
		Sink: true, Item: DefaultItem, Start: 1,
	}
}

// TestBenchSink: every order pushed is counted once committed by the
// server's consumer, with the same progress line as a BRPOP run.
func TestBenchSink(t *testing.T) {
	addr := startWithConsumer(t)
	cfg := sinkCfg(addr)
	var progress bytes.Buffer
	cfg.Progress = &progress
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.pushed != 2000 || res.popped != 2000 || res.deadEvents != 0 || res.short || res.popTime <= 0 {
		t.Errorf("pushed %d, committed %d, dead %d, short %v, commit time %v; want 2000 committed", res.pushed, res.popped, res.deadEvents, res.short, res.popTime)
	}
	var out bytes.Buffer
	res.Write(&out)
	for _, want := range []string{"mullet bench --sink: ", "committed      2,000 rows", "backlog            0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(progress.String(), "committed ") {
		t.Errorf("progress lines lack the committed rate:\n%s", progress.String())
	}

	// A second run continues from the counters INFO shows now.
	cfg.Count, cfg.Start = 500, 2001
	res, err = Run(t.Context(), cfg)
	if err != nil || res.popped != 500 {
		t.Errorf("second run: committed %v (%v), want 500", res, err)
	}
}

// TestBenchSinkPoison: items the consumer dead-letters end the run too,
// and are reported.
func TestBenchSinkPoison(t *testing.T) {
	addr := startWithConsumer(t)
	cfg := sinkCfg(addr)
	cfg.Count, cfg.Item = 50, `{"id":{n},}` // not valid JSON
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.popped != 0 || res.deadEvents != 50 || res.short {
		t.Errorf("committed %d, dead %d, short %v; want 0 and 50", res.popped, res.deadEvents, res.short)
	}
	var out bytes.Buffer
	res.Write(&out)
	if !strings.Contains(out.String(), "50 items dead-lettered (see 'mullet dead list orders_q')") {
		t.Errorf("report lacks the dead letters:\n%s", out.String())
	}
}

// TestBenchSinkErrors: an unrouted queue and a bad configuration are
// refused before anything is pushed.
func TestBenchSinkErrors(t *testing.T) {
	addr := startWithConsumer(t)
	cfg := sinkCfg(addr)
	cfg.Queue = "elsewhere"
	if _, err := Run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), `no consumer route for queue "elsewhere"`) {
		t.Errorf("unrouted queue: %v", err)
	}
	cfg = sinkCfg(addr)
	cfg.Consumers = 1
	if _, err := Run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "--consumers must be 0") {
		t.Errorf("--sink with consumers: %v", err)
	}
	cfg = sinkCfg(addr)
	cfg.Item = "id={n}"
	if _, err := Run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "JSON object") {
		t.Errorf("--item not an object: %v", err)
	}
}

func TestAppendItem(t *testing.T) {
	if got := string(appendItem([]byte("x"), `{"id":{n},"ref":"r{n}"}`, 42)); got != `x{"id":42,"ref":"r42"}` {
		t.Errorf("appendItem = %s", got)
	}
}
