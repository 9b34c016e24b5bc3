package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuickRun runs the whole harness with BENCH_QUICK sizes against real
// redis-server, redis-benchmark, MariaDB and a mullet built from this tree,
// and checks that it produces the table and the chart. It fails (never
// skips) when one of those programs is missing: CI installs them.
func TestQuickRun(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig(true)
	cfg.Root = root
	cfg.OutDir = t.TempDir()
	var progress bytes.Buffer
	cfg.Progress = &progress
	begin := time.Now()
	rep, err := run(cfg)
	if err != nil {
		t.Fatalf("run: %v\nprogress:\n%s", err, progress.String())
	}
	t.Logf("quick run took %v", time.Since(begin).Round(time.Millisecond))

	md, err := os.ReadFile(filepath.Join(cfg.OutDir, "latest.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| Figure | unit | redis-server | mullet | mullet/redis |",
		"| LPUSH -P 1 |", "| RPOP -P 16 |", "| LRANGE_100 -P 16 |",
		"| p50 |", "| p99 |", "| p99.9 |",
		"| RSS holding 20k items of 200 B |",
		"| AOF load, 20k LPUSHes (start to PONG) |",
		"| Items of 1000 B under maxmemory 8mb |",
		"| vs redis-server + article's worker (1 loop) |",
		"| vs redis-server + worker with 10 loops |",
		"## Machine and versions", "Redis server v=7.0", "MariaDB",
		"BENCH_QUICK smoke run",
	} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("latest.md lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("latest.md:\n%s", md)
	}

	// Every redis-server figure must have a value: the harness works end
	// to end. mullet may lack the AOF loader and the consumer (n/a), but
	// everything else it must answer.
	for _, f := range rep.figs {
		if len(f.vals[0]) == 0 {
			t.Errorf("redis-server has no value for %s / %s: %v", f.section, f.name, f.errs[0])
		}
		optional := strings.HasPrefix(f.name, "AOF load") || strings.HasPrefix(f.section, "End to end")
		if len(f.vals[1]) == 0 && !optional {
			t.Errorf("mullet has no value for %s / %s: %v", f.section, f.name, f.errs[1])
		}
	}
	if n := len(rep.figs); n != 2*10+3+3+2+2 {
		t.Errorf("%d figures, want 30 (the end-to-end pair for MariaDB and for PostgreSQL)", n)
	}

	svg, err := os.ReadFile(filepath.Join(cfg.OutDir, "latest.svg"))
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("latest.svg is not well-formed XML: %v", err)
		}
	}
	if !bytes.Contains(svg, []byte("LPUSH -P 1")) {
		t.Error("latest.svg lacks the LPUSH -P 1 row")
	}
}

func TestParseBenchmarkCSV(t *testing.T) {
	out := []byte(`"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"LPUSH","158227.84","0.179","0.056","0.167","0.255","0.431","1.719"
"RPUSH","143678.17","0.213","0.040","0.175","0.335","0.615","3.887"
"LPOP","145772.59","0.216","0.072","0.215","0.311","0.375","3.119"
"RPOP","153374.23","0.190","0.048","0.175","0.295","0.375","0.975"
"LPUSH (needed to benchmark LRANGE)","154559.50","0.185","0.048","0.167","0.287","0.479","4.103"
"LRANGE_100 (first 100 elements)","70028.02","0.371","0.112","0.359","0.535","0.743","2.991"
`)
	got, err := parseBenchmarkCSV(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"LPUSH": 158227.84, "RPUSH": 143678.17, "LPOP": 145772.59, "RPOP": 153374.23, "LRANGE_100": 70028.02}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
	if _, err := parseBenchmarkCSV(out[:200]); err == nil {
		t.Error("truncated output: no error")
	}
}

func TestFigureMedianAndRatio(t *testing.T) {
	tests := []struct {
		name        string
		redis, mull []float64
		median      [2]float64
		ratio       float64
		ok          bool
	}{
		{"odd", []float64{3, 1, 2}, []float64{4, 8, 6}, [2]float64{2, 6}, 3, true},
		{"even", []float64{1, 4, 2, 3}, []float64{5, 5}, [2]float64{2.5, 5}, 2, true},
		{"mullet missing", []float64{1}, nil, [2]float64{1, 0}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &figure{vals: [2][]float64{tc.redis, tc.mull}}
			for i := range 2 {
				if m, _ := f.median(i); m != tc.median[i] {
					t.Errorf("median(%d) = %v, want %v", i, m, tc.median[i])
				}
			}
			r, ok := f.ratio()
			if r != tc.ratio || ok != tc.ok {
				t.Errorf("ratio = %v, %v; want %v, %v", r, ok, tc.ratio, tc.ok)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{thousands(0), "0"},
		{thousands(999.5), "1,000"},
		{thousands(1234567.4), "1,234,567"},
		{count(1000000), "1M"},
		{count(200000), "200k"},
		{count(2500), "2500"},
		{shortSection("redis-benchmark, 50 clients, 200 B values, appendfsync always"), "redis-benchmark appendfsync always"},
		{shortSection("BRPOP wake-up latency (50 consumers on 5 lists, 4000 items/s)"), "BRPOP wake-up latency"},
		{shortSection("End to end: 200k JSON orders"), "End to end"},
		{shortSection("End to end: 200k JSON orders LPUSHed and committed to PostgreSQL"), "End to end PostgreSQL"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	s := make([]int64, 1000)
	for i := range s {
		s[i] = int64(i + 1)
	}
	for _, tc := range []struct {
		q    float64
		want int64
	}{{0.5, 500}, {0.99, 990}, {0.999, 999}, {1, 1000}, {0, 1}} {
		if got := percentile(s, tc.q); got != tc.want {
			t.Errorf("percentile(%v) = %d, want %d", tc.q, got, tc.want)
		}
	}
}
