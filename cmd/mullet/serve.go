package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"mullet/aof"
	"mullet/config"
	"mullet/persist"
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
				fmt.Fprint(cctx.App.Writer, config.Usage()) // it starts with the Usage line
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
	ignoredEnv, err := applyEnv(set, overrides, os.Getenv)
	if err != nil {
		return err
	}
	logger, closeLog, err := openLogger(set)
	if err != nil {
		return err
	}
	defer closeLog()
	for _, v := range ignoredEnv {
		logger.Warn("environment variable ignored: this build has no such directive", "var", v)
	}

	setProcs(set)

	dir, err := filepath.Abs(set.String("dir"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dir %s: %w", dir, err)
	}

	ks := queue.New(queue.Config{
		Databases:  int(set.Int("databases")),
		BaseMemory: startupMemory(),

		CompressDepth: int(set.Int("list-compress-depth")),
	})
	set.OnChange("list-compress-depth", func(string) error {
		ks.SetCompressDepth(int(set.Int("list-compress-depth")))
		return nil
	})
	// The keyspace's limit is the server's (command.New); the Go
	// runtime's soft limit follows it here, being the process's.
	applyMemoryLimit(set.Size("maxmemory"))
	set.OnChange("maxmemory", func(string) error {
		applyMemoryLimit(set.Size("maxmemory"))
		return nil
	})

	cons, err := newConsumer(set, ks, dir, logger)
	if err != nil {
		return err
	}

	var once sync.Once
	stop := make(chan bool, 1) // value: SHUTDOWN asked to save
	requestStop := func(save bool) {
		once.Do(func() { stop <- save })
	}
	persistence := persist.New(ks, set, logger, dir)
	srv := server.New(server.Config{
		Keyspace:    ks,
		Settings:    set,
		Logger:      logger,
		Persistence: persistence,
		Shutdown:    requestStop,
		Version:     version,
		Sections:    []server.InfoSection{consumerSection(cons)},
		// MULLET_EVENTLOOP=0: a goroutine per connection (docs/configuration.md).
		GoroutinePerConn: os.Getenv("MULLET_EVENTLOOP") == "0",
	})

	lns, err := listen(set)
	if err != nil {
		return err
	}
	appendonly := set.Bool("appendonly")
	// Clients may connect while the AOF loads; they get -LOADING, as from
	// Redis. Set it before the first accept, so no write slips in. CONFIG
	// SET appendonly gets -LOADING too; the other AOF directives may
	// change meanwhile, so their hooks are in place before the load and
	// Open applies their values when it hands the AOF over.
	srv.SetLoading(appendonly)
	persistence.Watch()
	serveErr := make(chan error, len(lns))
	for _, ln := range lns {
		logger.Info("accepting connections", "addr", ln.Addr().String())
		go func() { serveErr <- srv.Serve(ln) }()
	}
	if appendonly {
		if err := persistence.Open(srv.Replay()); err != nil {
			shutdownNow(srv)
			return fmt.Errorf("loading the append only file: %w", err)
		}
		srv.SetLoading(false)
	}
	stopMetrics, err := startMetrics(set, srv.Info, logger)
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	defer stopMetrics()
	stopPprof, err := startPprof(os.Getenv("MULLET_PPROF"), logger)
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	defer stopPprof()
	logger.Info("mullet ready", "version", version, "pid", os.Getpid(), "dir", dir)

	cons.Start()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	select {
	case sig := <-sigs:
		logger.Info("received signal, shutting down", "signal", sig.String())
	case <-stop:
		logger.Info("SHUTDOWN received, shutting down")
	case err := <-serveErr:
		if !errors.Is(err, server.ErrServerClosed) {
			logger.Error("server failed", "err", err)
		}
	}
	// A second signal, whatever ended the first wait, means "now": the
	// operator gave up on the graceful path (Redis: "You insist...").
	// Acknowledged writes are already in the kernel's page cache.
	go func() {
		sig := <-sigs
		logger.Warn("second signal: exiting now", "signal", sig.String())
		os.Exit(1)
	}()
	// Shutdown order: stop accepting, wake blocked clients
	// and wait for every connection goroutine, so no command is still
	// running; then the consumer, which finishes or gives back its batch;
	// then the log, which flushes and fsyncs what they all wrote.
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("clients did not finish in time", "err", err)
	}
	// Clients are gone; now the consumer: it stops claiming, lets batches
	// being written commit, and abandons them at the deadline (their batch
	// keys are settled at the next start). Then the AOF may close.
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	if err := cons.Stop(cctx); err != nil {
		logger.Warn("consumer abandoned in-flight batches; they are settled at the next start", "err", err)
	}
	// The log goes last: everything acknowledged is in it, flushed and
	// synced.
	if err := persistence.Close(); err != nil {
		logger.Error("closing the append only file", "err", err)
		return err
	}
	logger.Info("mullet stopped")
	return nil
}

// shutdownTimeout bounds how long Shutdown waits for connection
// goroutines (a command still running, replies still being written)
// before closing their connections.
const shutdownTimeout = 10 * time.Second

// shutdownNow stops a server that failed to start.
func shutdownNow(srv *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// setProcs chooses how many threads run mullet's goroutines. mullet is
// built to share its machine with the database it feeds and with the
// producers (the article's one-VPS deployment), and its work is mostly
// system calls on sockets, where a second busy thread buys little and
// costs wake-ups (docs/configuration.md has the measurement). So by
// default it takes half
// the CPUs (at least one); io-threads N (N > 1) or the GOMAXPROCS
// environment variable say otherwise.
func setProcs(set *config.Config) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	n := int(set.Int("io-threads"))
	if n <= 1 {
		n = max(1, runtime.NumCPU()/2)
	}
	runtime.GOMAXPROCS(n)
}

// applyMemoryLimit sets the Go runtime's soft memory limit from maxmemory,
// so the garbage collector runs as the process nears the cap instead of
// letting garbage double it: with GOGC=100 alone, a heap of 4 GB of queued
// items would be collected only at 8 GB. The data itself stays under
// maxmemory (the keyspace refuses writes past it), so the limit is
// maxmemory plus headroom for what used_memory does not count:
//
//   - 64 MiB fixed: the runtime and its metadata (~5 MiB), the keyspace's
//     spare chunk buffers (4 MiB, queue/memory.go), connection buffers
//     and goroutine stacks (a thousand idle clients add 18 MB of RSS;
//     redis-server counts ~22 KB each in used_memory) and the AOF's
//     group-commit buffers;
//   - maxmemory/8: chunks an AOF rewrite's snapshot still reads after
//     consumers popped them, and the allocator's fragmentation among the
//     16-64 KiB size classes the chunks use.
//
// The headroom is not what RSS is expected to reach: spare buffers make a
// queue's push/pop churn allocate nothing, so a flooded server stays
// about 15 MiB above maxmemory, as redis-server does (bench/memory). It is
// where the collector starts working continuously, and so must sit above
// the live heap with room to spare, or the GC would take half the CPU (the
// runtime's cap under a memory limit) and still overshoot. A GC cycle here
// is cheap even for a big heap: chunks hold no pointers, so marking 4 GB
// of items is marking ~100k objects.
//
// A GOMEMLIMIT in the environment wins: the operator knows the machine.
func applyMemoryLimit(maxmemory int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(memoryLimit(maxmemory))
}

// memoryLimit is the soft limit applyMemoryLimit sets for maxmemory (0:
// none, math.MaxInt64).
func memoryLimit(maxmemory int64) int64 {
	if maxmemory <= 0 {
		return math.MaxInt64
	}
	if maxmemory > (math.MaxInt64-64<<20)/9*8 {
		return math.MaxInt64
	}
	return maxmemory + maxmemory/8 + 64<<20
}

// startupMemory is the Go heap in use before any data is loaded, for
// used_memory_startup: what Redis reports as the memory it takes empty
// (~0.9 MB for redis-server 7.0).
func startupMemory() int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// listen opens the listeners: port and tls-port on every bind address
// (either port 0: not served, as in Redis, so "port 0" with a tls-port
// serves TLS only).
func listen(set *config.Config) ([]net.Listener, error) {
	var lns []net.Listener
	if port := set.Int("port"); port != 0 {
		l, err := listenPort(set, port)
		if err != nil {
			return nil, err
		}
		lns = append(lns, l...)
	}
	if port := set.Int("tls-port"); port != 0 {
		cfg, err := server.TLSConfig(set)
		if err != nil {
			closeAll(lns)
			return nil, err
		}
		l, err := listenPort(set, port)
		if err != nil {
			closeAll(lns)
			return nil, err
		}
		for _, ln := range l {
			lns = append(lns, tls.NewListener(ln, cfg))
		}
	}
	if len(lns) == 0 {
		return nil, errors.New("configured to not listen anywhere (port 0, tls-port 0)")
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, l := range lns {
		l.Close()
	}
}

// listenPort opens a listener on port for every bind address. An address
// prefixed with '-' is optional, as in Redis: failing to bind it (no IPv6,
// say) is not an error.
func listenPort(set *config.Config, portN int64) ([]net.Listener, error) {
	port := strconv.FormatInt(portN, 10)
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
			closeAll(lns)
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
// standard output, as in Redis). CONFIG SET loglevel takes effect at once,
// through the handler's LevelVar.
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
	level := new(slog.LevelVar)
	level.Set(logLevel(set.String("loglevel")))
	set.OnChange("loglevel", func(v string) error {
		level.Set(logLevel(v))
		return nil
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closer, nil
}

// logLevel maps Redis's loglevel names to slog levels.
func logLevel(name string) slog.Level {
	switch name {
	case "debug":
		return slog.LevelDebug
	case "verbose":
		return slog.LevelDebug + 2
	case "warning":
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// The append-only file is the keyspace's log, and persist runs it for the
// server; this is where they are wired, so none imports the other.
var (
	_ queue.Log          = (*aof.AOF)(nil)
	_ server.Persistence = (*persist.Persistence)(nil)
)
