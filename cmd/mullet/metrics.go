package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"mullet/config"
	"mullet/metrics"
)

// startMetrics serves Prometheus metrics on metrics-addr (empty: off) and
// returns the function that stops it. The exporter reads INFO through the
// server's first listener, as any Redis exporter would, so metrics needs no
// hook into the server; it authenticates with requirepass as it is when it
// (re)connects.
func startMetrics(set *config.Config, lns []net.Listener, logger *slog.Logger) (stop func(), err error) {
	addr := set.String("metrics-addr")
	if addr == "" {
		return func() {}, nil
	}
	info := metrics.Remote(dialable(lns[0].Addr()), func() string { return set.String("requirepass") })
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

// dialable turns a listener address into one a local client can dial: a
// wildcard bind (0.0.0.0, ::) becomes the loopback address of its family.
func dialable(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	switch {
	case ip == nil || ip.IsUnspecified() && ip.To4() != nil:
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}
