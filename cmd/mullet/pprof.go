package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on the default mux
	"os"
	"runtime"
)

// With MULLET_PPROF=127.0.0.1:6060 in the environment, mullet serves Go's
// profiler there: profile before optimising. Without it, heap profiling is
// off: its sampling tables cost about 1.5 MB of RSS, which a server that
// is measured against redis-server's RSS does not spend for nothing.
func init() {
	addr := os.Getenv("MULLET_PPROF")
	if addr == "" {
		runtime.MemProfileRate = 0
		return
	}
	go http.ListenAndServe(addr, nil)
}
