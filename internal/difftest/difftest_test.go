package difftest

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mullet/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }

// startRef starts the reference redis-server 7.0 as the tester wants it:
// the C locale (SORT ALPHA compares bytes, as mullet's does) and
// rdbcompression off (mullet's DUMP of a string is then Redis's), and
// hz 100, so the 1-10 ms timeouts of blocking commands end within 10 ms
// (Redis checks them at its hz).
func startRef(t *testing.T, config string) string {
	return e2e.StartRedisWith(t, e2e.RedisOptions{
		Config: config,
		Env:    []string{"LC_ALL=C"},
		Args:   []string{"--rdbcompression", "no", "--logfile", "", "--hz", "100"},
	}).Addr
}

// startMullet starts the mullet binary for the tester, with appendonly
// no like the reference: the run compares commands, and a write(2) to
// the AOF stalled by a busy disk would read as a hang.
func startMullet(t *testing.T) string {
	return e2e.Start(t, t.TempDir(), "--appendonly", "no").Addr
}

// envUint reads a number from the environment, or def.
func envUint(t *testing.T, name string, def uint64) uint64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// TestDifferential runs seeded random sequences against redis-server and
// mullet. By default (make test) it runs DIFFTEST_SEQS sequences (100) of
// seed DIFFTEST_SEED (1), a bounded count; with DIFFTEST_DURATION (make
// difftest) it runs for that long, from a seed taken from the clock
// unless DIFFTEST_SEED is given, with DIFFTEST_WORKERS pairs of servers
// (2) running sequences in parallel. Every undocumented difference fails
// the test with its shrunk redis-cli script.
func TestDifferential(t *testing.T) {
	var dur time.Duration
	if s := os.Getenv("DIFFTEST_DURATION"); s != "" {
		var err error
		if dur, err = time.ParseDuration(s); err != nil {
			t.Fatalf("DIFFTEST_DURATION=%q: %v", s, err)
		}
	}
	seed := envUint(t, "DIFFTEST_SEED", 1)
	if dur > 0 && os.Getenv("DIFFTEST_SEED") == "" {
		seed = uint64(time.Now().UnixNano())
	}
	seqs := envUint(t, "DIFFTEST_SEQS", 100)
	workers := 1
	if dur > 0 {
		workers = int(envUint(t, "DIFFTEST_WORKERS", 2))
	}
	// DIFFTEST_MULLET_ADDR points the run at a mullet already running
	// (another build, say); it is flushed before every sequence.
	mulAddr := os.Getenv("DIFFTEST_MULLET_ADDR")
	if mulAddr != "" {
		workers = 1
	}
	if s := os.Getenv("DIFFTEST_FAMILIES"); s != "" {
		// Only these families (comma-separated names), to focus a run.
		all := Families
		t.Cleanup(func() { Families = all })
		Families = nil
		for _, f := range all {
			if slices.Contains(strings.Split(s, ","), f.Name) {
				Families = append(Families, f)
			}
		}
		if len(Families) == 0 {
			t.Fatalf("DIFFTEST_FAMILIES=%q names no family", s)
		}
	}
	t.Logf("DIFFTEST_SEED=%d", seed)

	camps := make([]*Campaign, workers)
	for w := range camps {
		mul := mulAddr
		if mul == "" {
			mul = startMullet(t)
		}
		camps[w] = &Campaign{Targets: Targets{Ref: startRef(t, ""), Mul: mul}, Seed: seed, Log: logWriter{t}}
	}
	start := time.Now()
	var found atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w, c := range camps {
		wg.Go(func() {
			// Worker w runs sequences w, w+workers, w+2*workers, ...
			for n := uint64(w); ; n += uint64(workers) {
				if dur > 0 && time.Since(start) >= dur || dur == 0 && n >= seqs || found.Load() >= 20 {
					return
				}
				before := len(c.Found)
				if err := c.RunSeq(n); err != nil {
					errs[w] = err
					return
				}
				found.Add(int64(len(c.Found) - before))
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var total Campaign
	total.Known = map[string]int{}
	diffs := 0
	for _, c := range camps {
		total.Seqs += c.Seqs
		total.Commands += c.Commands
		total.Probes += c.Probes
		total.Found = append(total.Found, c.Found...)
		diffs += c.Differences()
		for k, n := range c.Known {
			total.Known[k] += n
		}
	}
	t.Logf("DIFFTEST_SEED=%d: %d sequences, %d commands and %d end-state reads compared (per server), %d differences (%d kinds reported), documented differences met: %v; %d worker(s), %v",
		seed, total.Seqs, total.Commands, total.Probes, diffs, len(total.Found), total.Known, workers, time.Since(start).Round(time.Second))
	if total.Commands < total.Seqs*5 {
		t.Errorf("only %d commands compared in %d sequences: the runs end too early", total.Commands, total.Seqs)
	}
	if len(total.Found) > 0 {
		t.Errorf("%d kinds of undocumented differences (scripts above)", len(total.Found))
	}
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// TestShrink checks the tester itself on two redis-servers that differ
// in one thing: the second has no SORT (rename-command SORT ""). A
// sequence that reaches a SORT differs there; the shrinker must cut it
// down to that one command.
func TestShrink(t *testing.T) {
	tg := Targets{Ref: startRef(t, ""), Mul: startRef(t, "rename-command SORT \"\"\n")}
	for n := uint64(0); ; n++ {
		if n > 2000 {
			t.Fatal("no sequence with a SORT in 2000")
		}
		seq := NewSeq(7, n)
		out, err := Run(tg, seq)
		if err != nil {
			t.Fatal(err)
		}
		if out.Diff == nil {
			continue
		}
		if !strings.EqualFold(out.Diff.Args[0], "sort") {
			t.Fatalf("two redis-servers differ at %s", out.Diff)
		}
		small, d := Shrink(tg, seq, out.Diff)
		t.Logf("sequence %d (%d steps) shrunk to:\n%s%s", n, len(seq.Steps), Script(small), d)
		if len(small.Steps) != 1 || !strings.EqualFold(small.Steps[0].Args[0], "sort") || len(small.Steps[0].Args) > 2 {
			t.Errorf("shrunk to %d steps, want one SORT with at most a key:\n%s", len(small.Steps), Script(small))
		}
		if got := Script(small); !strings.HasPrefix(strings.ToLower(strings.TrimPrefix(got, "HELLO 3\n")), "sort") {
			t.Errorf("script %q", got)
		}
		return
	}
}

// TestSameServer: redis-server against itself shows no difference, so
// the relaxations cover what is not deterministic between two servers.
func TestSameServer(t *testing.T) {
	tg := Targets{Ref: startRef(t, ""), Mul: startRef(t, "")}
	c := &Campaign{Targets: tg, Seed: 3, Log: logWriter{t}}
	for range 50 {
		if err := c.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.Found) > 0 || len(c.Known) > 0 {
		t.Errorf("redis-server differs from itself: %d differences, known %v", len(c.Found), c.Known)
	}
	if c.Commands < 500 {
		t.Errorf("only %d commands compared", c.Commands)
	}
}

// TestQuoteArg: the scripts' quoting reads back through redis-cli's
// rules (sdssplitargs).
func TestQuoteArg(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", "abc"}, {"", `""`}, {"a b", `"a b"`}, {"BAD\r\n", `"BAD\r\n"`}, {"\x00\xff", `"\x00\xff"`},
		{`a"b`, `"a\"b"`}, {`\`, `"\\"`},
	} {
		if got := quoteArg(tc.in); got != tc.want {
			t.Errorf("quoteArg(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestKnownDifferencesDocumented: every documented difference the tester
// accepts points at a section of docs/compatibility.md that exists, and
// docs/difftest.md's table names each one.
func TestKnownDifferencesDocumented(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../../docs/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	compat, table := read("compatibility.md"), read("difftest.md")
	anchors := map[string]bool{}
	for _, line := range strings.Split(compat, "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			h = strings.ToLower(strings.TrimLeft(h, "# "))
			var b strings.Builder
			for _, r := range h {
				switch {
				case r == ' ':
					b.WriteByte('-')
				case r == '-' || r == '_' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
					b.WriteRune(r)
				}
			}
			anchors[b.String()] = true
		}
	}
	for _, k := range KnownDifferences {
		file, anchor, ok := strings.Cut(k.Doc, "#")
		if !ok || file != "docs/compatibility.md" || !anchors[anchor] {
			t.Errorf("%q: %q is no section of docs/compatibility.md", k.Name, k.Doc)
		}
		if !strings.Contains(table, "| "+k.Name+" |") {
			t.Errorf("%q is not in docs/difftest.md's table", k.Name)
		}
	}
}

// TestReplay replays a script the tester printed (DIFFTEST_REPLAY=file)
// against both servers and logs every reply; without the variable it
// replays a small built-in script, so the parser stays tested.
func TestReplay(t *testing.T) {
	script := "SET k v\n# --- on connection 2:\nGET k\n# --- on connection 1:\nLPUSH \"a b\" \"x\\r\\n\"\nLRANGE \"a b\" 0 -1\n"
	if path := os.Getenv("DIFFTEST_REPLAY"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		script = string(b)
	}
	seq, err := ParseScript(script)
	if err != nil {
		t.Fatal(err)
	}
	if got := Script(seq); got != script && os.Getenv("DIFFTEST_REPLAY") == "" {
		t.Errorf("script does not read back:\n%s\nprinted as\n%s", script, got)
	}
	mul := os.Getenv("DIFFTEST_MULLET_ADDR")
	if mul == "" {
		mul = startMullet(t)
	}
	out, err := Run(Targets{Ref: startRef(t, ""), Mul: mul}, seq)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d steps compared", out.Steps)
	if out.Diff != nil {
		t.Errorf("difference: %s", out.Diff)
	}
	if out.Known != nil {
		t.Logf("documented difference: %s (%s)", out.Known.Name, out.Known.Doc)
	}
}
