package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A figure is one row of the table: a value per server per round.
type figure struct {
	section string
	name    string
	unit    string
	higher  bool         // higher is better
	vals    [2][]float64 // by flavour: 0 redis-server, 1 mullet
	errs    [2][]string  // why a flavour has no value (deduplicated)
	format  func(float64) string
}

func (f *figure) median(i int) (float64, bool) {
	v := slices.Clone(f.vals[i])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// ratio is mullet's median over redis-server's.
func (f *figure) ratio() (float64, bool) {
	r, ok1 := f.median(0)
	m, ok2 := f.median(1)
	if !ok1 || !ok2 || r == 0 {
		return 0, false
	}
	return m / r, true
}

// flavourNames are the table's columns, by flavour index.
var flavourNames = [2]string{"redis-server", "mullet"}

// report collects the figures in table order.
type report struct {
	cfg   config
	env   env
	figs  []*figure
	byKey map[string]*figure
	notes []string
	// caveats are notes that change how to read the whole table; they go
	// above it and into the chart.
	caveats []string
	elapsed time.Duration
}

func newReport(cfg config) *report {
	return &report{cfg: cfg, byKey: map[string]*figure{}}
}

// fig returns the figure (section, name), creating it in table order.
func (r *report) fig(section, name string) *figure {
	k := section + "\x00" + name
	if f, ok := r.byKey[k]; ok {
		return f
	}
	f := &figure{section: section, name: name}
	unit, higher, format := figureUnit(section, name)
	f.unit, f.higher, f.format = unit, higher, format
	r.byKey[k] = f
	r.figs = append(r.figs, f)
	return f
}

// figureUnit says how a figure is measured and shown.
func figureUnit(section, name string) (string, bool, func(float64) string) {
	switch {
	case strings.HasPrefix(section, "redis-benchmark"):
		return "requests/s", true, func(v float64) string { return thousands(v) }
	case strings.HasPrefix(section, "BRPOP"):
		return "µs", false, func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	case strings.HasPrefix(name, "RSS"):
		return "MiB", false, func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	case strings.HasPrefix(name, "AOF load"):
		return "s", false, func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	case strings.HasPrefix(name, "Items"):
		return "items", true, func(v float64) string { return thousands(v) }
	default:
		return "rows/s", true, func(v float64) string { return thousands(v) }
	}
}

// add records one value (or why there is none) of flavour i.
func (r *report) add(section, name string, i int, v float64, err error) {
	section, name = r.label(section, name)
	f := r.fig(section, name)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, errNotLoaded) {
			msg = "did not load the AOF (" + msg + ")"
		}
		if !slices.Contains(f.errs[i], msg) {
			f.errs[i] = append(f.errs[i], msg)
		}
		return
	}
	f.vals[i] = append(f.vals[i], v)
}

// label puts the run's sizes into the Memory figures' names.
func (r *report) label(section, name string) (string, string) {
	c := r.cfg
	switch name {
	case "RSS holding items":
		name = fmt.Sprintf("RSS holding %s items of %d B", count(c.RSSItems), c.Size)
	case "AOF load":
		name = fmt.Sprintf("AOF load, %s LPUSHes (start to PONG)", count(c.AOFItems))
	case "Items under maxmemory":
		name = fmt.Sprintf("Items of %d B under maxmemory %s", c.CapItem, c.CapLimit)
	}
	return section, name
}

func (r *report) listBench(i int, fsync string, res listResult) {
	section := fmt.Sprintf("redis-benchmark, %d clients, %d B values, appendfsync %s", r.cfg.Clients, r.cfg.Size, fsync)
	r.notes = append(r.notes, res.notes...)
	if res.noAOF {
		c := fmt.Sprintf("%s wrote no AOF under `appendonly yes` (no AOF writer in this build): "+
			"its redis-benchmark figures include no disk writes, redis-server's do.", flavourNames[i])
		if !slices.Contains(r.caveats, c) {
			r.caveats = append(r.caveats, c)
		}
	}
	for _, pipe := range pipelines {
		for _, t := range listTests {
			name := fmt.Sprintf("%s -P %d", t.short, pipe)
			if res.err != nil {
				r.add(section, name, i, 0, res.err)
				continue
			}
			r.add(section, name, i, res.rps[pipe][t.short], nil)
		}
	}
}

func (r *report) brpop(i int, lat latencies, err error) {
	b := r.cfg.BRPOP
	section := fmt.Sprintf("BRPOP wake-up latency (%d consumers on %d lists, %g items/s)", b.Consumers, b.Queues, b.Rate)
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	r.add(section, "p50", i, us(lat.P50), err)
	r.add(section, "p99", i, us(lat.P99), err)
	r.add(section, "p99.9", i, us(lat.P999), err)
}

// e2e records an end-to-end run into database dbName: flavour 0 with the reference worker of
// loops loops, or flavour 1 (mullet's consumer), which both rows compare
// against.
func (r *report) e2e(dbName string, i, loops int, res e2eResult, err error) {
	section := fmt.Sprintf("End to end: %s JSON orders LPUSHed and committed to %s", count(r.cfg.E2E.Rows), dbName)
	names := []string{"vs redis-server + article's worker (1 loop)", "vs redis-server + worker with 10 loops"}
	if errors.Is(err, errNoConsumer) && i == 1 {
		err = errors.New("no embedded consumer in this build: no row reached " + dbName)
	}
	if res.Note != "" {
		who := "mullet (" + dbName + ")"
		if i == 0 {
			who = fmt.Sprintf("refworker -loops %d (%s)", loops, dbName)
		}
		r.notes = append(r.notes, who+": "+res.Note)
	}
	switch i {
	case 0:
		name := names[0]
		if loops > 1 {
			name = names[1]
		}
		r.add(section, name, 0, res.RowsPerSec, err)
	case 1:
		for _, n := range names {
			r.add(section, n, 1, res.RowsPerSec, err)
		}
	}
}

// table is the Markdown table of medians.
func (r *report) table() string {
	var b strings.Builder
	b.WriteString("| Figure | unit | redis-server | mullet | mullet/redis |\n")
	b.WriteString("|---|---|--:|--:|--:|\n")
	section := ""
	for _, f := range r.figs {
		if f.section != section {
			section = f.section
			fmt.Fprintf(&b, "| **%s** | | | | |\n", section)
		}
		better := "↑"
		if !f.higher {
			better = "↓"
		}
		cell := func(i int) string {
			if v, ok := f.median(i); ok {
				return f.format(v)
			}
			return "n/a"
		}
		ratio := "n/a"
		if q, ok := f.ratio(); ok {
			ratio = strconv.FormatFloat(q, 'f', 2, 64) + "×"
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s |\n", f.name, f.unit, better, cell(0), cell(1), ratio)
	}
	return b.String()
}

// markdown is the whole of latest.md.
func (r *report) markdown() string {
	e := r.env
	var b strings.Builder
	b.WriteString("# mullet and redis-server, side by side\n\n")
	if r.cfg.Quick {
		b.WriteString("**BENCH_QUICK smoke run: tiny sizes, one round. These numbers mean nothing.**\n\n")
	}
	fmt.Fprintf(&b, "Generated by `make bench` (bench/sidebyside) on %s, in %s. ", e.date, r.elapsed.Round(time.Second))
	fmt.Fprintf(&b, "Medians of %d round(s); each round runs redis-server then mullet, each on a freshly started server with a fresh data dir, with the same directives. ", r.cfg.Rounds)
	b.WriteString("↑: higher is better, ↓: lower is better; the ratio is mullet's median over redis-server's.\n\n")
	for _, c := range r.caveats {
		fmt.Fprintf(&b, "**Caveat: %s**\n\n", c)
	}
	b.WriteString(r.table())
	b.WriteString("\n![mullet relative to redis-server](latest.svg)\n\n")

	b.WriteString("## Machine and versions\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d cores (nproc); memory %s; kernel %s\n", e.cpu, e.nproc, e.memory, e.kernel)
	fmt.Fprintf(&b, "- load average (1, 5, 15 min) at start: %s; at end: %s. The machine is shared: a load near or above the core count means other work (builds, tests) competed with the servers, and the figures are noisy.\n", e.loadStart, e.loadEnd)
	fmt.Fprintf(&b, "- %s\n- %s\n- %s\n- %s\n- mullet %s\n\n", e.goVersion, e.redis, e.redisBenchmark, e.mariadb, e.mullet)

	b.WriteString("## How each figure is measured\n\n")
	c := r.cfg
	fmt.Fprintf(&b, "- Every server starts with `--bind 127.0.0.1 --save '' --dir <fresh>` plus the directives below; both get the identical list.\n")
	fmt.Fprintf(&b, "- redis-benchmark: `-c %d -d %d -t lpush,rpush,lpop,rpop,lrange_100 --csv`, `-P 1 -n %d` then `-P 16 -n %d`, under `--appendonly yes --appendfsync everysec` and `always`. redis-benchmark runs LPUSH, RPUSH, LPOP, RPOP with the same -n on one list, so every pop pops a real item (checked after each run).\n", c.Clients, c.Size, c.Requests[1], c.Requests[16])
	fmt.Fprintf(&b, "- BRPOP: %d connections blocked in `BRPOP q 0` on %d lists; one producer LPUSHes %d items of %d B round robin at %g/s, each stamped with its send time; latency = receive time − stamp on one monotonic clock (one process). `--appendonly yes --appendfsync everysec`.\n", c.BRPOP.Consumers, c.BRPOP.Queues, c.BRPOP.Items, c.BRPOP.Size, c.BRPOP.Rate)
	fmt.Fprintf(&b, "- RSS: %s single-item LPUSHes of %d B (pipelined by 1000) with `--appendonly no`, then VmRSS from /proc/PID/status once stable (±0.5%% over 1 s, at most 10 s).\n", count(c.RSSItems), c.Size)
	fmt.Fprintf(&b, "- AOF load: redis-server writes %s single-item LPUSHes with `--appendonly yes --aof-use-rdb-preamble no --auto-aof-rewrite-percentage 0` (Redis 7 multi-part appendonlydir); each server starts on a copy of it with the same directives; time from exec to the first PONG (polled every 2 ms; Redis answers -LOADING until loaded), then LLEN must show every item.\n", count(c.AOFItems))
	fmt.Fprintf(&b, "- Memory cap: `--appendonly no --maxmemory %s --maxmemory-policy noeviction`; LPUSH %d B items, pipelined by 100, until the first OOM error; the figure is LLEN.\n", c.CapLimit, c.CapItem)
	fmt.Fprintf(&b, "- End to end (%d round(s)): a MariaDB 10.11 (internal/testutil, InnoDB, `innodb_flush_log_at_trx_commit=1`), a fresh database per run; %s JSON orders (~150 B) LPUSHed to `order_queue` pipelined by 1000; the clock runs from the first LPUSH until `orders` holds every row (polled every 100 ms). Stops after %v (rate = rows so far / time). redis-server side: bench/refworker, the article's Node.js worker in Go: BRPOP, then one autocommitted `INSERT INTO orders SET ...` per row, pool of 10 connections; \"1 loop\" is the article's worker exactly, \"10 loops\" runs ten such loops to use the whole pool. mullet side: its embedded consumer (`consumer-route order_queue orders`, `consumer-mysql-dsn`), which both rows compare against. Both with `--appendonly yes --appendfsync everysec`.\n\n", min(c.E2ERounds, c.Rounds), count(c.E2E.Rows), c.E2E.Cap)

	var notes []string
	for _, f := range r.figs {
		for i, who := range flavourNames {
			for _, e := range f.errs[i] {
				notes = append(notes, fmt.Sprintf("%s, %s / %s: %s", who, f.section, f.name, oneLine(e)))
			}
		}
	}
	notes = append(notes, r.notes...)
	if len(notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range dedupe(notes) {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}

	b.WriteString("## Values per round\n\n| Figure | redis-server | mullet |\n|---|---|---|\n")
	for _, f := range r.figs {
		row := func(i int) string {
			var s []string
			for _, v := range f.vals[i] {
				s = append(s, f.format(v))
			}
			return strings.Join(s, ", ")
		}
		fmt.Fprintf(&b, "| %s / %s | %s | %s |\n", shortSection(f.section), f.name, row(0), row(1))
	}
	return b.String()
}

// write stores latest.md and latest.svg in dir.
func (r *report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.md"), []byte(r.markdown()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "latest.svg"), []byte(r.svg()), 0o644)
}

// thousands formats v rounded, with thin separators: 158,228.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// count writes 1000000 as 1M and 200000 as 200k.
func count(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return strconv.Itoa(n/1e6) + "M"
	case n >= 1e3 && n%1e3 == 0:
		return strconv.Itoa(n/1e3) + "k"
	}
	return strconv.Itoa(n)
}

func shortSection(s string) string {
	s, _, _ = strings.Cut(s, " (")
	if rest, ok := strings.CutPrefix(s, "redis-benchmark, "); ok {
		_, fsync, _ := strings.Cut(rest, "values, ")
		return "redis-benchmark " + fsync
	}
	if rest, ok := strings.CutPrefix(s, "End to end: "); ok {
		if _, db, ok := strings.Cut(rest, "committed to "); ok {
			return "End to end " + db // MariaDB, PostgreSQL
		}
	}
	s, _, _ = strings.Cut(s, ":")
	return s
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func dedupe(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
