package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"mullet/config"
	"mullet/queue"
	"mullet/server"
)

// startInProcess runs an in-process mullet server on a loopback port with the
// given directives and shuts it down when the test ends.
func startInProcess(t *testing.T, directives ...[]string) string {
	t.Helper()
	set := config.New()
	if err := set.Load("", append([][]string{{"appendonly", "no"}}, directives...)); err != nil {
		t.Fatal(err)
	}
	ks := queue.New(queue.Config{Databases: int(set.Int("databases")), MaxMemory: set.Size("maxmemory")})
	s := server.New(server.Config{Keyspace: ks, Settings: set, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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
	return ln.Addr().String()
}

// TestBenchCommand runs the subcommand through the CLI, flags and all.
func TestBenchCommand(t *testing.T) {
	addr := startInProcess(t, []string{"requirepass", "pw"})
	var out, errs bytes.Buffer
	app := &cli.App{Name: "mullet", Writer: &out, ErrWriter: &errs, Commands: []*cli.Command{benchCommand()}}
	err := app.Run([]string{"mullet", "bench", "--addr", addr, "--password", "pw", "--producers", "2",
		"--consumers", "2", "--queue", "jobs", "--size", "100", "--count", "500", "--pipeline", "8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`queue "jobs", 2 producers (pipeline 8), 2 consumers, 100-byte items`, "pushed           500 items", "popped           500 items"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	err = app.Run([]string{"mullet", "bench", "--addr", addr, "--count", "1"})
	if err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("without the password: %v, want a NOAUTH error", err)
	}
}

// TestBenchSinkCommand: 'mullet bench --sink' against the real binary
// with its bbolt sink: the consumer's rows are counted, and --queue
// defaults to order_queue, mullet.conf's route.
func TestBenchSinkCommand(t *testing.T) {
	p := startMullet(t, 0, "--appendonly", "no", "--dir", t.TempDir(), "--consumer-route", "order_queue", "orders")
	var out, errs bytes.Buffer
	app := &cli.App{Name: "mullet", Writer: &out, ErrWriter: &errs, Commands: []*cli.Command{benchCommand()}}
	err := app.Run([]string{"mullet", "bench", "--sink", "--addr", p.addr, "--count", "300", "--producers", "2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`mullet bench --sink: ` + p.addr + `, queue "order_queue"`, "committed        300 rows"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
