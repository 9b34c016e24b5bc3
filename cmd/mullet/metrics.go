package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"mullet/config"
	"mullet/metrics"
)

// startMetrics serves Prometheus metrics on metrics-addr (empty: off) and
// returns the function that stops it. The exporter reads the INFO text the
// server builds, in process (info is server.Info), so the figures are
// exactly INFO's.
func startMetrics(set *config.Config, info metrics.InfoFunc, logger *slog.Logger) (stop func(), err error) {
	addr := set.String("metrics-addr")
	if addr == "" {
		return func() {}, nil
	}
	ms, err := metrics.Listen(addr, info)
	if err != nil {
		return nil, fmt.Errorf("metrics-addr %s: %w", addr, err)
	}
	logger.Info("serving Prometheus metrics", "addr", "http://"+ms.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ms.Close(ctx)
	}, nil
}
