package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"mullet/config"
	"mullet/queue"
	"mullet/server"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "run the server and the embedded consumer",
		ArgsUsage: "[CONFIG_FILE] [--directive value ...]",
		Description: "Like redis-server: an optional config file in redis.conf syntax, then any\n" +
			"directive as --name value (the flag wins). 'mullet serve --help' lists them.",
		// Directives are parsed the redis-server way (all words up to the
		// next --name belong to it), which flag packages cannot express.
		SkipFlagParsing: true,
		Action: func(cctx *cli.Context) error {
			args := cctx.Args().Slice()
			if slices.Contains(args, "--help") || slices.Contains(args, "-h") {
				fmt.Fprint(cctx.App.Writer, "Usage: mullet serve [CONFIG_FILE] [--directive value ...]\n\n"+config.Usage())
				return nil
			}
			return serve(args)
		},
	}
}

// serve runs mullet until a signal or SHUTDOWN.
func serve(args []string) error {
	file, overrides, err := config.ParseArgs(args)
	if err != nil {
		return err
	}
	set := config.New()
	if err := set.Load(file, overrides); err != nil {
		return err
	}
	logger, closeLog, err := openLogger(set)
	if err != nil {
		return err
	}
	defer closeLog()

	dir, err := filepath.Abs(set.String("dir"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dir %s: %w", dir, err)
	}

	ks := queue.New(queue.Config{
		Databases: int(set.Int("databases")),
		MaxMemory: set.Size("maxmemory"),
	})
	applyMemoryLimit(set.Size("maxmemory"))
	set.OnChange("maxmemory", func(string) error {
		applyMemoryLimit(set.Size("maxmemory"))
		return nil
	})

	var once sync.Once
	stop := make(chan bool, 1) // value: SHUTDOWN asked to save
	requestStop := func(save bool) {
		once.Do(func() { stop <- save })
	}
	srv := server.New(server.Config{
		Keyspace: ks,
		Settings: set,
		Logger:   logger,
		Shutdown: requestStop,
		Version:  version,
	})

	lns, err := listen(set)
	if err != nil {
		return err
	}
	serveErr := make(chan error, len(lns))
	for _, ln := range lns {
		logger.Info("accepting connections", "addr", ln.Addr().String())
		go func() { serveErr <- srv.Serve(ln) }()
	}
	stopMetrics, err := startMetrics(set, lns, logger)
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	defer stopMetrics()
	logger.Info("mullet ready", "version", version, "pid", os.Getpid(), "dir", dir)

	expiryDone := make(chan struct{})
	go activeExpiry(ks, srv.Done(), expiryDone)

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	select {
	case sig := <-sigs:
		logger.Info("received signal, shutting down", "signal", sig.String())
		go func() {
			<-sigs
			logger.Warn("second signal: exiting now")
			os.Exit(1)
		}()
	case <-stop:
		logger.Info("SHUTDOWN received, shutting down")
	case err := <-serveErr:
		if !errors.Is(err, server.ErrServerClosed) {
			logger.Error("server failed", "err", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("clients did not finish in time", "err", err)
	}
	<-expiryDone
	logger.Info("mullet stopped")
	return nil
}

// activeExpiry deletes expired keys nobody reads, ten times a second, like
// Redis's active expire cycle.
func activeExpiry(ks *queue.Keyspace, done <-chan struct{}, exited chan<- struct{}) {
	defer close(exited)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			tx := ks.Begin()
			tx.ExpireCycle(20)
			ticket := tx.End()
			ks.Wait(ticket)
		}
	}
}

// applyMemoryLimit sets the Go runtime's soft memory limit from maxmemory,
// so the garbage collector works harder as the data nears the cap instead
// of letting garbage push the process past it. The headroom covers the
// runtime, connection buffers and the AOF buffer.
func applyMemoryLimit(maxmemory int64) {
	if maxmemory <= 0 {
		debug.SetMemoryLimit(-1 >> 1) // math.MaxInt64: no limit
		return
	}
	debug.SetMemoryLimit(maxmemory + maxmemory/4 + 64<<20)
}

// listen opens a listener for every bind address. An address prefixed
// with '-' is optional, as in Redis: failing to bind it (no IPv6, say) is
// not an error.
func listen(set *config.Config) ([]net.Listener, error) {
	port := strconv.FormatInt(set.Int("port"), 10)
	var lns []net.Listener
	for _, a := range strings.Fields(set.String("bind")) {
		optional := strings.HasPrefix(a, "-")
		a = strings.TrimPrefix(a, "-")
		if a == "*" {
			a = "0.0.0.0"
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(a, port))
		if err != nil {
			if optional {
				continue
			}
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("could not bind %s: %w", net.JoinHostPort(a, port), err)
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 {
		return nil, fmt.Errorf("no address to listen on (bind %q)", set.String("bind"))
	}
	return lns, nil
}

// openLogger builds the slog logger from loglevel and logfile ("" is
// standard output, as in Redis).
func openLogger(set *config.Config) (*slog.Logger, func(), error) {
	var w io.Writer = os.Stdout
	closer := func() {}
	if f := set.String("logfile"); f != "" {
		fh, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("logfile: %w", err)
		}
		w, closer = fh, func() { fh.Close() }
	}
	var level slog.Level
	switch set.String("loglevel") {
	case "debug":
		level = slog.LevelDebug
	case "verbose":
		level = slog.LevelDebug + 2
	case "warning":
		level = slog.LevelWarn
	default:
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closer, nil
}
