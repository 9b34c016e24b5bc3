package load

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

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

func benchCfg(addr string) Config {
	return Config{
		Addr: addr, Producers: 3, Consumers: 2, Queue: "q", Size: 64,
		Pipeline: 4, Drain: 10 * time.Second, Every: 20 * time.Millisecond,
		Out: io.Discard, Progress: io.Discard,
	}
}

// TestBenchCount: every item pushed is popped, each with both latencies,
// and the report prints them.
func TestBenchCount(t *testing.T) {
	addr := startInProcess(t)
	cfg := benchCfg(addr)
	cfg.Count = 3001 // not a multiple of the pipeline: the last batch is short
	var progress bytes.Buffer
	cfg.Progress = &progress
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.pushed != 3001 || res.popped != 3001 || res.backlogEnd != 0 || res.foreign != 0 || res.pushErrs != 0 {
		t.Errorf("pushed %d popped %d backlog %d foreign %d errors %d; want 3001 3001 0 0 0",
			res.pushed, res.popped, res.backlogEnd, res.foreign, res.pushErrs)
	}
	if res.pushLat.n != 3001 || res.e2eLat.n != 3001 {
		t.Errorf("latency samples: push %d, end to end %d; want 3001 each", res.pushLat.n, res.e2eLat.n)
	}
	for _, h := range []*histogram{&res.pushLat, &res.e2eLat} {
		var prev time.Duration
		for _, p := range percentiles {
			q := h.quantile(p.q)
			if q <= 0 || q < prev || q > time.Duration(h.max) {
				t.Errorf("%s = %v (previous %v, max %v)", p.name, q, prev, time.Duration(h.max))
			}
			prev = q
		}
	}
	var out bytes.Buffer
	res.Write(&out)
	for _, want := range []string{
		"pushed         3,001 items", "popped         3,001 items",
		"p50", "p90", "p99", "p99.9", "max",
		"push (LPUSH reply)", "end to end (push→pop)", "end-to-end latency\n  ≤ ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBenchSplit runs producers and consumers as separate runs, as on two
// hosts: the consumers' run still measures end-to-end latency from the
// stamps, and a run with a duration stops on time and prints progress.
func TestBenchSplit(t *testing.T) {
	addr := startInProcess(t)
	cfg := benchCfg(addr)
	cfg.Consumers, cfg.Duration = 0, 150*time.Millisecond
	var progress bytes.Buffer
	cfg.Progress = &progress
	begin := time.Now()
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("a 150 ms run took %v", took)
	}
	if res.pushed == 0 || res.backlogEnd != res.pushed {
		t.Errorf("pushed %d, backlog %d: want equal and > 0", res.pushed, res.backlogEnd)
	}
	if !strings.Contains(progress.String(), "pushed") || !strings.Contains(progress.String(), "backlog") {
		t.Errorf("no progress line in %q", progress.String())
	}

	cfg = benchCfg(addr)
	cfg.Producers, cfg.Count = 0, res.pushed
	res2, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res2.popped != res.pushed || res2.e2eLat.n != uint64(res.pushed) || res2.backlogEnd != 0 {
		t.Errorf("popped %d with %d latencies, backlog %d; want %d, %d, 0", res2.popped, res2.e2eLat.n, res2.backlogEnd, res.pushed, res.pushed)
	}
}

// TestBenchServerErrors: LPUSHes the server refuses (OOM past maxmemory)
// are counted and reported with the server's message, and the run goes on.
func TestBenchServerErrors(t *testing.T) {
	addr := startInProcess(t, []string{"maxmemory", "1mb"})
	cfg := benchCfg(addr)
	cfg.Consumers, cfg.Count, cfg.Size = 0, 3000, 1000
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.pushErrs == 0 || res.pushed+res.pushErrs != 3000 || !strings.HasPrefix(res.firstErr, "OOM ") {
		t.Errorf("pushed %d, refused %d (first %q); want some refused with OOM, 3000 in all", res.pushed, res.pushErrs, res.firstErr)
	}
	var out bytes.Buffer
	res.Write(&out)
	if !strings.Contains(out.String(), "LPUSHes refused; first: OOM ") {
		t.Errorf("report lacks the refusals:\n%s", out.String())
	}
}

func TestBenchValidate(t *testing.T) {
	ok := Config{Producers: 1, Consumers: 1, Queue: "q", Size: 20, Pipeline: 1, Duration: time.Second}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"nobody", func(c *Config) { c.Producers, c.Consumers = 0, 0 }, "at least one producer or consumer"},
		{"small", func(c *Config) { c.Size = 19 }, "--size must be at least 20"},
		{"pipeline", func(c *Config) { c.Pipeline = 0 }, "--pipeline"},
		{"no end", func(c *Config) { c.Duration = 0 }, "--duration or --count"},
		{"count", func(c *Config) { c.Duration, c.Count = 0, 5 }, ""},
		{"queue", func(c *Config) { c.Queue = "" }, "--queue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.validate()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestItemStamp(t *testing.T) {
	buf := make([]byte, 40)
	now := time.Now()
	stampItem(buf, now)
	got, ok := itemStamp(string(buf))
	if !ok || !got.Equal(time.Unix(0, now.UnixNano())) {
		t.Errorf("itemStamp = %v, %v; want %v", got, ok, now)
	}
	for _, foreign := range []string{"", "hello", `{"order_id":1,"customer":"x"}`, "12345678901234567890123"} {
		if _, ok := itemStamp(foreign); ok {
			t.Errorf("itemStamp(%q) accepted a foreign item", foreign)
		}
	}
}

// TestHistogramBuckets: every value falls in a bucket whose bounds hold it
// and are within 1/64 of each other; buckets tile the line without gaps.
func TestHistogramBuckets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []int64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 40, 1<<63 - 1}
	for range 10000 {
		vals = append(vals, r.Int64N(1<<uint(r.IntN(62)+1)))
	}
	for _, v := range vals {
		i := bucketOf(v)
		lo, hi := bucketBounds(i)
		if v < lo || v > hi || i >= histBuckets {
			t.Fatalf("value %d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if lo >= 128 && float64(hi-lo+1)/float64(lo) > 1.0/64+1e-9 {
			t.Fatalf("bucket %d [%d, %d] is wider than 1/64", i, lo, hi)
		}
	}
	for i := 1; i < histBuckets; i++ {
		_, prevHi := bucketBounds(i - 1)
		lo, _ := bucketBounds(i)
		if lo != prevHi+1 {
			t.Fatalf("gap between bucket %d and %d: %d, %d", i-1, i, prevHi, lo)
		}
	}
}

// TestHistogramQuantiles compares with exact percentiles of the same data,
// recorded in two histograms and merged.
func TestHistogramQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var a, b histogram
	var all []int64
	for i := range 100000 {
		v := int64(r.ExpFloat64() * 200e3) // ~200 µs mean, long tail
		all = append(all, v)
		if i%2 == 0 {
			a.record(time.Duration(v))
		} else {
			b.record(time.Duration(v))
		}
	}
	a.merge(&b)
	slices.Sort(all)
	if a.n != uint64(len(all)) || a.min != all[0] || a.max != all[len(all)-1] {
		t.Fatalf("n %d min %d max %d; want %d %d %d", a.n, a.min, a.max, len(all), all[0], all[len(all)-1])
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := all[max(0, int(q*float64(len(all)))-1)]
		got := int64(a.quantile(q))
		if got < exact || float64(got-exact) > float64(exact)/64+1 {
			t.Errorf("quantile(%v) = %d, exact %d", q, got, exact)
		}
	}
	var empty histogram
	if empty.quantile(0.5) != 0 || empty.mean() != 0 {
		t.Error("empty histogram is not zero")
	}
}

func TestFmtDur(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{850, "850ns"}, {85300, "85.3µs"}, {1210000, "1.21ms"}, {123456789, "123ms"}, {2500 * time.Millisecond, "2.50s"},
	} {
		if got := fmtDur(tc.d); got != tc.want {
			t.Errorf("fmtDur(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := thousands(-1234567); got != "-1,234,567" {
		t.Errorf("thousands = %q", got)
	}
}
