package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The side-by-side benchmarks of docs/durability.md ("Measured figures"): mullet and
// redis-server 7.0 in the same run, same settings, driven by
// redis-benchmark. Run them one at a time on a quiet machine:
//
//	go test -run '^$' -bench LPush -benchtime 1x ./internal/e2e/
//
// MULLET_BENCH_N overrides the number of requests (default 300000 for
// pipeline 1, 1000000 for pipeline 16).

var rpsRE = regexp.MustCompile(`LPUSH: ([0-9.]+) requests per second`)

// procStat returns a process's CPU time (user+system) and RSS.
func procStat(b testing.TB, pid int) (cpu time.Duration, rssKB int64) {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	cpu = time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rssKB, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	return cpu, rssKB
}

type benchResult struct {
	ops   float64 // requests per second, as redis-benchmark reports
	cpuUS float64 // server CPU per request, µs
	rssMB float64 // server RSS after the run
}

// redisBenchmark runs redis-benchmark LPUSH against s: 50 clients,
// 200-byte values.
func redisBenchmark(b *testing.B, s *Server, pipeline, n int) benchResult {
	b.Helper()
	cpu0, _ := procStat(b, s.PID())
	out, err := exec.Command("redis-benchmark", "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port),
		"-t", "lpush", "-c", "50", "-P", strconv.Itoa(pipeline), "-d", "200", "-n", strconv.Itoa(n), "-q").CombinedOutput()
	if err != nil {
		b.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	cpu1, rss := procStat(b, s.PID())
	m := rpsRE.FindAllSubmatch(out, -1)
	if m == nil {
		b.Fatalf("no LPUSH figure in redis-benchmark's output:\n%s", out)
	}
	ops, _ := strconv.ParseFloat(string(m[len(m)-1][1]), 64)
	return benchResult{ops: ops, cpuUS: float64((cpu1 - cpu0).Microseconds()) / float64(n), rssMB: float64(rss) / 1024}
}

func benchN(def int) int {
	if v, err := strconv.Atoi(os.Getenv("MULLET_BENCH_N")); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkLPush: LPUSH ops/s with appendonly yes, mullet against
// redis-server, per fsync policy and pipeline depth. It reports both
// servers' requests per second, CPU µs per request and RSS after the run.
func BenchmarkLPush(b *testing.B) {
	for _, policy := range []string{"everysec", "always"} {
		for _, p := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/P%d", policy, p), func(b *testing.B) {
				n := benchN(map[int]int{1: 300000, 16: 1000000}[p])
				for b.Loop() {
					args := []string{"--appendonly", "yes", "--appendfsync", policy}
					m := Start(b, b.TempDir(), append(args, "--auto-aof-rewrite-percentage", "0")...)
					mr := redisBenchmark(b, m, p, n)
					m.Stop(b)
					r := StartRedis(b, b.TempDir(), append(args, "--auto-aof-rewrite-percentage", "0")...)
					rr := redisBenchmark(b, r, p, n)
					r.Stop(b)
					b.ReportMetric(mr.ops, "mullet-ops/s")
					b.ReportMetric(rr.ops, "redis-ops/s")
					b.ReportMetric(mr.ops/rr.ops, "ratio")
					b.ReportMetric(mr.cpuUS, "mullet-cpu-µs/op")
					b.ReportMetric(rr.cpuUS, "redis-cpu-µs/op")
					b.ReportMetric(mr.rssMB, "mullet-RSS-MB")
					b.ReportMetric(rr.rssMB, "redis-RSS-MB")
				}
			})
		}
	}
}

// loadTime starts a server on dir and returns the wall time from process
// start until PING answers +PONG (the data loaded), and its RSS then.
func loadTime(b *testing.B, start func() *Server) (time.Duration, float64) {
	t0 := time.Now()
	s := start()
	if err := s.WaitReady(5 * time.Minute); err != nil {
		b.Fatal(err)
	}
	d := time.Since(t0)
	_, rss := procStat(b, s.PID())
	s.Stop(b)
	return d, float64(rss) / 1024
}

// BenchmarkLoad1M: the wall time from process start to PING answered with
// the data loaded, for an AOF redis-server wrote for 1M LPUSH of 200-byte
// values (redis-benchmark -t lpush -n 1000000 -d 200), loaded by mullet
// and by redis-server itself.
func BenchmarkLoad1M(b *testing.B) {
	dir := b.TempDir()
	r := StartRedis(b, dir, "--appendonly", "yes", "--auto-aof-rewrite-percentage", "0")
	redisBenchmark(b, r, 16, 1_000_000)
	r.Stop(b)
	// Write back the 235 MB now, not during the first load; then one
	// discarded load each, so both read the files from the page cache.
	syscall.Sync()
	args := []string{"--appendonly", "yes", "--auto-aof-rewrite-percentage", "0"}
	mullet := func() *Server { return Spawn(b, dir, args...) }
	redis := func() *Server { return SpawnRedis(b, dir, args...) }
	loadTime(b, mullet)
	loadTime(b, redis)
	// No automatic rewrite after loading (both would start one: the base
	// is empty), so both load the very same files. The order alternates;
	// the medians are reported (-benchtime 5x for five rounds).
	var md, rd []float64
	var mrss, rrss float64
	for i := 0; b.Loop(); i++ {
		for j := range 2 {
			if (i+j)%2 == 0 {
				d, rss := loadTime(b, mullet)
				md, mrss = append(md, d.Seconds()), rss
			} else {
				d, rss := loadTime(b, redis)
				rd, rrss = append(rd, d.Seconds()), rss
			}
		}
	}
	b.Logf("mullet %.3v\nredis  %.3v", md, rd)
	ms, rs := median(md), median(rd)
	b.ReportMetric(ms, "mullet-s")
	b.ReportMetric(rs, "redis-s")
	b.ReportMetric(ms/rs, "ratio")
	b.ReportMetric(mrss, "mullet-RSS-MB")
	b.ReportMetric(rrss, "redis-RSS-MB")
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}
