package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on the default mux
	"os"
	"runtime"
	"time"
)

// With MULLET_PPROF=127.0.0.1:6060 in the environment, mullet serves Go's
// profiler there: profile before optimising. Without it, heap profiling is
// off: its sampling tables cost about 1.5 MB of RSS, which a server that
// is measured against redis-server's RSS does not spend for nothing. The
// rate is set here, before anything is allocated.
func init() {
	if os.Getenv("MULLET_PPROF") == "" {
		runtime.MemProfileRate = 0
	}
}

// startPprof serves the profiler on addr, $MULLET_PPROF (empty: off), and
// returns the function that stops it and waits for its goroutine.
func startPprof(addr string, logger *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("MULLET_PPROF %s: %w", addr, err)
	}
	srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("pprof listener failed", "err", err)
		}
	}()
	logger.Info("serving Go's profiler", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close() // a profile still streaming at the deadline
		<-done
	}, nil
}
