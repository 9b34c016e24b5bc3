// Command sidebyside benchmarks mullet against redis-server 7.0 on this
// machine, with identical settings, and writes the comparison to
// bench/results/latest.md and latest.svg. It is what `make bench` runs.
//
// Every figure is measured in rounds that interleave the two servers
// (redis-server, mullet, redis-server, mullet, ...), each run on a freshly
// started server with a fresh data dir, so slow drifts of a shared machine
// (other builds, page cache, thermal) hit both alike. The table shows each
// figure's median over the rounds and the mullet/redis ratio; the raw
// values per round follow it.
//
// Figures:
//   - redis-benchmark -t lpush,rpush,lpop,rpop,lrange_100 -c 50 -d 200, at
//     -P 1 and -P 16, under appendfsync everysec and always;
//   - BRPOP wake-up latency p50/p99/p99.9 (brpop.go);
//   - RSS holding 1M items of 200 bytes; the time to load a 1M-LPUSH AOF
//     written by redis-server; items of 1000 bytes that fit under
//     maxmemory 64mb (memory.go);
//   - end to end into MariaDB: mullet's embedded consumer against
//     redis-server plus the article's worker (e2e.go, ../refworker).
//
// A figure a server cannot produce (mullet before its AOF loader or its
// consumer is merged) prints "n/a" with the reason.
//
// BENCH_QUICK=1 (or -quick) runs one round with tiny sizes: a smoke test
// of the harness, not a measurement.
package main

import (
	"mullet/bench/internal/harness"

	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// config is what one run measures and where it writes.
type config struct {
	Quick    bool
	Rounds   int
	OutDir   string // latest.md and latest.svg go here
	Root     string // the repository (go.mod)
	Mullet   string // binary; "" builds ./cmd/mullet
	Progress io.Writer

	Clients  int
	Size     int         // value bytes for redis-benchmark, RSS, AOF
	Requests map[int]int // -n by pipeline depth
	BRPOP    brpopConfig
	RSSItems int
	AOFItems int
	CapLimit string // maxmemory for the memory-cap figure
	CapItem  int    // bytes per item there
	E2E      e2eConfig
	// E2ERounds caps the rounds of the end-to-end figure, which is the
	// slowest (the article's one-loop worker commits one row per fsync).
	E2ERounds int
}

// defaultConfig returns the sizes of a full run or a quick one. A full run
// takes about 9 minutes on the 2-core dev machine: a round of everything
// but the end-to-end figure takes ~75 s (redis-benchmark under
// appendfsync always is the slowest part), and the end-to-end figure runs
// once, ~3 minutes, most of it the article's one-loop worker, which
// commits ~2,500 rows/s (one fsync per row): 200k orders take it ~80 s,
// hence the 100 s cap.
func defaultConfig(quick bool) config {
	if quick {
		return config{
			Quick: true, Rounds: 1, Clients: 50, Size: 200,
			Requests:  map[int]int{1: 2000, 16: 8000},
			BRPOP:     brpopConfig{Queues: 2, Consumers: 10, Items: 500, Rate: 2000, Size: 200},
			RSSItems:  20000,
			AOFItems:  20000,
			CapLimit:  "8mb",
			CapItem:   1000,
			E2E:       e2eConfig{Rows: 2000, Cap: 20 * time.Second, Stall: 3 * time.Second},
			E2ERounds: 1,
		}
	}
	return config{
		Rounds: 5, Clients: 50, Size: 200,
		Requests:  map[int]int{1: 100000, 16: 400000},
		BRPOP:     brpopConfig{Queues: 5, Consumers: 50, Items: 20000, Rate: 4000, Size: 200},
		RSSItems:  1000000,
		AOFItems:  1000000,
		CapLimit:  "64mb",
		CapItem:   1000,
		E2E:       e2eConfig{Rows: 200000, Cap: 100 * time.Second, Stall: 15 * time.Second},
		E2ERounds: 1,
	}
}

func main() {
	quick := flag.Bool("quick", os.Getenv("BENCH_QUICK") == "1", "smoke run: one round, small sizes (also BENCH_QUICK=1)")
	rounds := flag.Int("rounds", 0, "rounds per figure (default 5, quick 1)")
	out := flag.String("out", "", "directory for latest.md and latest.svg (default <repo>/bench/results)")
	mullet := flag.String("mullet", "", "mullet binary (default: build ./cmd/mullet)")
	flag.Parse()

	cfg := defaultConfig(*quick)
	if *rounds > 0 {
		cfg.Rounds = *rounds
	}
	if *mullet != "" {
		// Servers run with their data dir as working directory: a relative
		// binary path would resolve there.
		abs, err := filepath.Abs(*mullet)
		if err != nil {
			fatal(err)
		}
		cfg.Mullet = abs
	}
	cfg.Progress = os.Stderr
	root, err := repoRoot()
	if err != nil {
		fatal(err)
	}
	cfg.Root = root
	cfg.OutDir = *out
	if cfg.OutDir == "" {
		cfg.OutDir = filepath.Join(root, "bench", "results")
	}
	rep, err := run(cfg)
	if err != nil {
		fatal(err)
	}
	fmt.Print(rep.table())
	fmt.Fprintf(os.Stderr, "wrote %s and %s\n",
		filepath.Join(cfg.OutDir, "latest.md"), filepath.Join(cfg.OutDir, "latest.svg"))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "sidebyside:", err)
	os.Exit(1)
}

// run measures everything cfg asks for and writes the report files.
func run(cfg config) (*report, error) {
	work, err := os.MkdirTemp("", "mullet-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	logf := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
		}
	}

	if cfg.Mullet == "" {
		cfg.Mullet = filepath.Join(work, "mullet")
		if err := goBuild(cfg.Root, cfg.Mullet, "./cmd/mullet"); err != nil {
			return nil, err
		}
	}
	refworker := filepath.Join(work, "refworker")
	if err := goBuild(cfg.Root, refworker, "./bench/refworker"); err != nil {
		return nil, err
	}
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server is not installed (apt-get install redis-server): %w", err)
	}
	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		return nil, fmt.Errorf("redis-benchmark is not installed (apt-get install redis-tools): %w", err)
	}
	flavours := []*flavour{
		{name: "redis-server", bin: redisBin},
		{name: "mullet", bin: cfg.Mullet, argv0: []string{"serve"}},
	}

	rep := newReport(cfg)
	rep.env = collectEnv(cfg.Root, cfg.Mullet)
	began := time.Now()

	// The AOF for the load-time figure is written once, by redis-server.
	logf("writing a %d-LPUSH AOF with redis-server", cfg.AOFItems)
	aofTemplate, aofErr := writeAOF(flavours[0], work, cfg.AOFItems, cfg.Size)
	if aofErr != nil {
		logf("AOF template: %v", aofErr)
	}
	// The end-to-end figure drains into each database in turn.
	var dbs []e2eDB
	var dbErrs []error
	maria, err := startMariaDB(work)
	if err != nil {
		logf("MariaDB: %v", err)
	} else {
		defer maria.stop()
	}
	dbs, dbErrs = append(dbs, maria), append(dbErrs, err)
	pg, err := startPostgres()
	if err != nil {
		logf("PostgreSQL: %v", err)
	} else {
		defer pg.stop()
	}
	dbs, dbErrs = append(dbs, pg), append(dbErrs, err)

	base := []string{"--appendonly", "yes", "--appendfsync", "everysec"}
	for r := 1; r <= cfg.Rounds; r++ {
		for _, fsync := range []string{"everysec", "always"} {
			for i, f := range flavours {
				logf("round %d/%d: %s redis-benchmark appendfsync %s", r, cfg.Rounds, f.name, fsync)
				rep.listBench(i, fsync, runListBench(f, work, cfg, fsync))
			}
		}
		for i, f := range flavours {
			logf("round %d/%d: %s BRPOP latency", r, cfg.Rounds, f.name)
			lat, err := runBRPOP(f, work, cfg.BRPOP, base)
			rep.brpop(i, lat, err)
		}
		for i, f := range flavours {
			logf("round %d/%d: %s RSS of %d items", r, cfg.Rounds, f.name, cfg.RSSItems)
			rss, err := runRSS(f, work, cfg)
			rep.add("Memory", "RSS holding items", i, float64(rss)/(1<<20), err)
		}
		for i, f := range flavours {
			logf("round %d/%d: %s AOF load", r, cfg.Rounds, f.name)
			var d time.Duration
			err := aofErr
			if err == nil {
				d, err = loadTime(f, work, aofTemplate, cfg.AOFItems)
			}
			rep.add("Memory", "AOF load", i, d.Seconds(), err)
		}
		for i, f := range flavours {
			logf("round %d/%d: %s memory cap", r, cfg.Rounds, f.name)
			n, err := runMemCap(f, work, cfg)
			rep.add("Memory", "Items under maxmemory", i, float64(n), err)
		}
		if r <= cfg.E2ERounds {
			for i, db := range dbs {
				runE2E(rep, flavours, refworker, work, db, dbErrs[i], cfg, base, logf)
			}
		}
	}
	rep.elapsed = time.Since(began)
	rep.env.loadEnd = readLoadAvg()
	if err := rep.write(cfg.OutDir); err != nil {
		return nil, err
	}
	return rep, nil
}

// runListBench is one server's redis-benchmark run at both pipeline
// depths, on a fresh server.
func runListBench(f *flavour, work string, cfg config, fsync string) (res listResult) {
	p, err := start(f, work, "list-"+fsync, "--appendonly", "yes", "--appendfsync", fsync)
	if err != nil {
		res.err = err
		return res
	}
	defer func() {
		p.stop()
		// A server that accepted appendonly yes but wrote nothing measured
		// no disk work at all: say so next to its figures.
		res.noAOF = res.err == nil && aofBytes(p.dir) == 0
	}()
	res.rps = map[int]map[string]float64{}
	for _, pipe := range pipelines {
		n := cfg.Requests[pipe]
		rps, err := redisBenchmark(p.addr, cfg.Clients, n, pipe, cfg.Size)
		if err != nil {
			res.err = err
			return res
		}
		res.rps[pipe] = rps
		note, err := checkList(p.addr, n)
		if err != nil {
			res.err = err
			return res
		}
		if note != "" {
			res.notes = append(res.notes, fmt.Sprintf("%s, -P %d: %s", f.name, pipe, note))
		}
	}
	return res
}

// aofBytes is the size of the files in dir/appendonlydir.
func aofBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(filepath.Join(dir, "appendonlydir"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// pipelines are the redis-benchmark -P depths.
var pipelines = []int{1, 16}

type listResult struct {
	rps   map[int]map[string]float64 // pipeline → test → requests/s
	notes []string
	noAOF bool // appendonly yes, yet no AOF file grew
	err   error
}

func runBRPOP(f *flavour, work string, cfg brpopConfig, settings []string) (latencies, error) {
	p, err := start(f, work, "brpop", settings...)
	if err != nil {
		return latencies{}, err
	}
	defer p.stop()
	return brpopLatency(p.addr, cfg)
}

// runRSS fills a server without persistence (the AOF's buffers would
// blur the figure) and reads its settled RSS.
func runRSS(f *flavour, work string, cfg config) (int64, error) {
	p, err := start(f, work, "rss", "--appendonly", "no")
	if err != nil {
		return 0, err
	}
	defer p.stop()
	if err := fill(p.addr, "rss", cfg.RSSItems, cfg.Size); err != nil {
		return 0, err
	}
	kb, err := harness.SettledRSS(p.cmd.Process.Pid)
	return kb << 10, err
}

func runMemCap(f *flavour, work string, cfg config) (int64, error) {
	p, err := start(f, work, "memcap", "--appendonly", "no",
		"--maxmemory", cfg.CapLimit, "--maxmemory-policy", "noeviction")
	if err != nil {
		return 0, err
	}
	defer p.stop()
	return fillUntilOOM(p.addr, cfg.CapItem)
}

// runE2E runs the three end-to-end variants against db: redis-server with
// the article's one-loop worker, with a ten-loop worker, and mullet's
// consumer.
func runE2E(rep *report, flavours []*flavour, refworker, work string, db e2eDB, dbErr error, cfg config, settings []string, logf func(string, ...any)) {
	for _, loops := range []int{1, 10} {
		logf("end to end (%s): redis-server + refworker -loops %d, %d orders", db.name(), loops, cfg.E2E.Rows)
		var r e2eResult
		err := dbErr
		if err == nil {
			r, err = e2eRefWorker(flavours[0], refworker, work, db, loops, cfg.E2E, settings)
		}
		rep.e2e(db.name(), 0, loops, r, err)
	}
	logf("end to end (%s): mullet consumer, %d orders", db.name(), cfg.E2E.Rows)
	var r e2eResult
	err := dbErr
	if err == nil {
		r, err = e2eMullet(flavours[1], work, db, cfg.E2E, settings)
	}
	rep.e2e(db.name(), 1, 0, r, err)
}

func goBuild(root, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, stderr.String())
	}
	return nil
}

// repoRoot finds the directory holding go.mod, from the working directory
// up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// env describes the machine and the software measured.
type env struct {
	date, cpu, kernel, memory     string
	nproc                         int
	goVersion, redis, mariadb     string
	mullet                        string
	loadStart, loadEnd            string
	redisBenchmark, harnessGoArch string
}

func collectEnv(root, mullet string) env {
	e := env{
		date:           time.Now().UTC().Format("2006-01-02 15:04 MST"),
		nproc:          runtime.NumCPU(),
		cpu:            procField("/proc/cpuinfo", "model name"),
		kernel:         strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		memory:         memTotal(),
		goVersion:      firstLine(output(root, "go", "version")),
		redis:          firstLine(output(root, "redis-server", "--version")),
		redisBenchmark: firstLine(output(root, "redis-benchmark", "--version")),
		loadStart:      readLoadAvg(),
		harnessGoArch:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	for _, bin := range []string{"mariadbd", "/usr/sbin/mariadbd"} {
		if v := firstLine(output(root, bin, "--version")); v != "" {
			e.mariadb = v
			break
		}
	}
	rev := strings.TrimSpace(output(root, "git", "rev-parse", "--short", "HEAD"))
	if strings.TrimSpace(output(root, "git", "status", "--porcelain")) != "" {
		rev += "-dirty"
	}
	e.mullet = rev + " (" + firstLine(output(root, mullet, "--version")) + ")"
	return e
}

func output(dir, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	b, _ := cmd.Output()
	return string(b)
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func readLoadAvg() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// procField returns the value of the first "name: value" line of a /proc
// file.
func procField(path, name string) string {
	for _, l := range strings.Split(readFile(path), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// memTotal is MemTotal from /proc/meminfo in GiB.
func memTotal() string {
	kb, err := strconv.ParseInt(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 10, 64)
	if err != nil {
		return "?"
	}
	return strconv.FormatFloat(float64(kb)/(1<<20), 'f', 1, 64) + " GiB"
}
