// Package metrics exports mullet's INFO figures to Prometheus.
//
// The exporter knows the server only through the text of its INFO reply (an
// InfoFunc), the contract every Redis exporter relies on, so this package
// imports nothing of server or queue: clients, blocked clients, commands
// processed, per-command stats, memory, the aof_* fields, keys per
// database, and the consumer's section become mullet_* metrics, next to Go
// runtime and process metrics of the mullet process. mullet serves them at
// /metrics on the metrics-addr directive's address (empty: off).
//
// # Caveats
//
//   - Metrics follow INFO: a field INFO lacks is simply absent (mullet_up
//     says whether INFO answered at all).
//   - Counters restart from zero when the server restarts (CONFIG
//     RESETSTAT resets commandstats too), as Prometheus expects of
//     counters.
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the metrics of info plus the Go runtime and process
// metrics of this process, in Prometheus's text (or protobuf) format. A
// collector error does not fail the scrape: what could be had is served.
func Handler(info InfoFunc) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		NewCollector(info),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4, // each scrape is an INFO round trip
	})
}

// Server serves /metrics over HTTP.
type Server struct {
	http *http.Server
	ln   net.Listener
	done chan error // Serve's result
}

// Listen binds addr ("127.0.0.1:9121", ":9121") and serves Handler(info) at
// /metrics in the background until Close.
func Listen(addr string, info InfoFunc) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(info))
	s := &Server{
		http: &http.Server{
			Handler: mux,
			// Slow or idle scrapers must not pin goroutines forever.
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
		ln:   ln,
		done: make(chan error, 1),
	}
	go func() { s.done <- s.http.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting scrapes, waits for those in flight until ctx ends,
// and returns once the serving goroutine has exited.
func (s *Server) Close(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
