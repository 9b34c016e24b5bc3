package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on the default mux
	"os"
)

// With MULLET_PPROF=127.0.0.1:6060 in the environment, mullet serves Go's
// profiler there: profile before optimising.
func init() {
	if addr := os.Getenv("MULLET_PPROF"); addr != "" {
		go http.ListenAndServe(addr, nil)
	}
}
