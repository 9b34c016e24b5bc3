package aof

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mullet/queue"
)

// model is a tiny keyspace of lists and strings per db: the fake Source
// of these tests, and the replayer that checks what a log rebuilds.
type model struct {
	lists map[int]map[string][]string // head first
	strs  map[int]map[string]string
	db    int
}

func newModel() *model {
	return &model{lists: map[int]map[string][]string{}, strs: map[int]map[string]string{}}
}

func (m *model) list(db int) map[string][]string {
	if m.lists[db] == nil {
		m.lists[db] = map[string][]string{}
	}
	return m.lists[db]
}

// exec applies one command as the keyspace would.
func (m *model) exec(argv [][]byte) error {
	a := make([]string, len(argv))
	for i := range argv {
		a[i] = string(argv[i])
	}
	switch strings.ToUpper(a[0]) {
	case "SELECT":
		fmt.Sscan(a[1], &m.db)
	case "LPUSH":
		l := m.list(m.db)
		for _, v := range a[2:] {
			l[a[1]] = append([]string{v}, l[a[1]]...)
		}
	case "RPUSH":
		l := m.list(m.db)
		l[a[1]] = append(l[a[1]], a[2:]...)
	case "RPOP":
		l := m.list(m.db)
		if n := len(l[a[1]]); n > 0 {
			l[a[1]] = l[a[1]][:n-1]
			if n == 1 {
				delete(l, a[1])
			}
		}
	case "SET":
		if m.strs[m.db] == nil {
			m.strs[m.db] = map[string]string{}
		}
		m.strs[m.db][a[1]] = a[2]
	case "DEL":
		delete(m.list(m.db), a[1])
		delete(m.strs[m.db], a[1])
	case "MULTI", "EXEC", "PEXPIREAT", "PING":
	default:
		return fmt.Errorf("model: unknown command %q", a[0])
	}
	return nil
}

func (m *model) String() string {
	var lines []string
	for db, l := range m.lists {
		for k, v := range l {
			if len(v) > 0 {
				lines = append(lines, fmt.Sprintf("%d list %s %q", db, k, v))
			}
		}
	}
	for db, s := range m.strs {
		for k, v := range s {
			lines = append(lines, fmt.Sprintf("%d string %s %q", db, k, v))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// fakeKeyspace applies writes under one lock and logs them, as the queue
// package will; it is the rewrite's Source.
type fakeKeyspace struct {
	mu        sync.Mutex
	log       *AOF
	m         *model
	snapped   chan struct{} // receives after each Snapshot, if set
	hold      chan struct{} // Each waits for it, if set
	endless   bool          // Each emits until emit fails
	beforeCut func()        // called under the lock, before cut
}

func (k *fakeKeyspace) do(db int, s ...string) uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m.db = db
	if err := k.m.exec(args(s...)); err != nil {
		panic(err)
	}
	return k.log.Append(db, args(s...))
}

func (k *fakeKeyspace) Snapshot(cut func()) Dataset {
	k.mu.Lock()
	if k.beforeCut != nil {
		k.beforeCut()
	}
	cut()
	cp := newModel()
	for db, l := range k.m.lists {
		for key, v := range l {
			cp.list(db)[key] = slices.Clone(v)
		}
	}
	for db, s := range k.m.strs {
		cp.strs[db] = map[string]string{}
		for key, v := range s {
			cp.strs[db][key] = v
		}
	}
	k.mu.Unlock()
	if k.snapped != nil {
		k.snapped <- struct{}{}
	}
	return &fakeDataset{m: cp, hold: k.hold, endless: k.endless}
}

type fakeDataset struct {
	m        *model
	hold     chan struct{}
	endless  bool
	released bool
}

// Each emits RPUSH in chunks of 64 items (AOF_REWRITE_ITEMS_PER_CMD) and
// SET, db by db.
func (d *fakeDataset) Each(emit func(db int, argv [][]byte) error) error {
	if d.hold != nil {
		<-d.hold
	}
	for d.endless {
		if err := emit(0, args("SET", "k", "v")); err != nil {
			return err
		}
	}
	dbs := slices.Sorted(func(yield func(int) bool) {
		for db := range d.m.lists {
			if !yield(db) {
				return
			}
		}
	})
	for _, db := range dbs {
		for _, key := range slices.Sorted(mapKeys(d.m.lists[db])) {
			items := d.m.lists[db][key]
			for i := 0; i < len(items); i += 64 {
				argv := append(args("RPUSH", key), args(items[i:min(i+64, len(items))]...)...)
				if err := emit(db, argv); err != nil {
					return err
				}
			}
		}
	}
	for db, s := range d.m.strs {
		for _, key := range slices.Sorted(mapKeys(s)) {
			if err := emit(db, args("SET", key, s[key])); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *fakeDataset) Release() { d.released = true }

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// replayModel loads the AOF in opts.Dir into a fresh model.
func replayModel(t *testing.T, opts Options) *model {
	t.Helper()
	a, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	m := newModel()
	if err := a.Load(m.exec); err != nil {
		t.Fatal(err)
	}
	return m
}

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestRewriteWhileAppending: writers keep pushing and popping while two
// rewrites run; the manifest ends up with the new base and incr file
// only, old files are gone, and a reload rebuilds exactly the state.
func TestRewriteWhileAppending(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	a, _ := mustOpen(t, opts)
	ks := &fakeKeyspace{log: a, m: newModel()}
	for i := range 200 {
		ks.do(i%3, "LPUSH", fmt.Sprint("q", i%5), fmt.Sprint("v", i))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var tk uint64
				if i%3 == 2 {
					tk = ks.do(g%3, "RPOP", fmt.Sprint("q", i%5))
				} else {
					tk = ks.do(g%3, "LPUSH", fmt.Sprint("q", i%5), fmt.Sprint(g, "-", i))
				}
				if err := a.Wait(tk); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 2 {
		if err := a.Rewrite(ks); err != nil {
			t.Fatal(err)
		}
		if err := a.Rewrite(ks); !errors.Is(err, ErrRewriteInProgress) && err != nil {
			t.Fatalf("second Rewrite = %v", err)
		}
		a.wg.Wait()
		if got := infoField(a, "aof_last_bgrewrite_status"); got != "ok" {
			t.Fatalf("aof_last_bgrewrite_status = %s", got)
		}
	}
	close(stop)
	wg.Wait()
	if a.LastRewritePause() <= 0 {
		t.Error("the cut's pause was not measured")
	}
	t.Logf("pause inside cut: %v", a.LastRewritePause())
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	ad := a.Dir()
	wantManifest := "file appendonly.aof.3.base.aof seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n"
	if got := readManifest(t, ad); got != wantManifest {
		t.Fatalf("manifest %q, want %q", got, wantManifest)
	}
	equalStrings(t, "files", dirFiles(t, ad), []string{"appendonly.aof.3.base.aof", "appendonly.aof.3.incr.aof", "appendonly.aof.manifest"})
	if got, want := replayModel(t, opts).String(), ks.m.String(); got != want {
		t.Fatalf("reloaded state differs\n got: %s\nwant: %s", got, want)
	}
	// The base starts with SELECT and holds RPUSH chunks of at most 64.
	base, _ := os.ReadFile(filepath.Join(ad, "appendonly.aof.3.base.aof"))
	if !strings.HasPrefix(string(base), "*2\r\n$6\r\nSELECT\r\n") {
		t.Fatalf("base starts with %q", base[:min(len(base), 40)])
	}
}

func TestRewriteInProgress(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	a, _ := mustOpen(t, opts)
	hold := make(chan struct{})
	ks := &fakeKeyspace{log: a, m: newModel(), hold: hold, snapped: make(chan struct{}, 1)}
	ks.do(0, "LPUSH", "q", "a")
	if err := a.Rewrite(ks); err != nil {
		t.Fatal(err)
	}
	<-ks.snapped
	if err := a.Rewrite(ks); !errors.Is(err, ErrRewriteInProgress) {
		t.Fatalf("Rewrite during a rewrite = %v", err)
	}
	if !errors.Is(ErrRewriteInProgress, queue.ErrRewriteInProgress) {
		t.Error("ErrRewriteInProgress is not queue.ErrRewriteInProgress")
	}
	if ErrRewriteInProgress.Error() != "Background append only file rewriting already in progress" {
		t.Fatal("message differs from Redis's")
	}
	if got := infoField(a, "aof_rewrite_in_progress"); got != "1" {
		t.Fatalf("aof_rewrite_in_progress = %s", got)
	}
	if got := infoField(a, "aof_current_rewrite_time_sec"); got == "-1" {
		t.Fatalf("aof_current_rewrite_time_sec = %s", got)
	}
	// Writes go on, into the new incr file.
	appendWait(t, a, 0, "LPUSH", "q", "b")
	close(hold)
	a.wg.Wait()
	if got := infoField(a, "aof_rewrite_in_progress"); got != "0" {
		t.Fatalf("aof_rewrite_in_progress = %s", got)
	}
}

// TestRewriteFailure: a rewrite that cannot write its base leaves the
// log usable, with one more incr file (as Redis after an aborted rewrite).
func TestRewriteFailure(t *testing.T) {
	fs := &faults{match: "temp-rewriteaof"}
	opts := testOptions(t, t.TempDir())
	opts.OpenFile = fs.open
	a, _ := mustOpen(t, opts)
	ks := &fakeKeyspace{log: a, m: newModel()}
	ks.do(0, "LPUSH", "q", "a")
	fs.set(func(f *faults) { f.writeErr = syscall.ENOSPC })
	if err := a.Rewrite(ks); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait()
	if got := infoField(a, "aof_last_bgrewrite_status"); got != "err" {
		t.Fatalf("aof_last_bgrewrite_status = %s", got)
	}
	if got := infoField(a, "aof_rewrites_consecutive_failures"); got != "1" {
		t.Fatalf("aof_rewrites_consecutive_failures = %s", got)
	}
	a.Wait(ks.do(0, "LPUSH", "q", "b"))
	want := simpleManifest + "file appendonly.aof.2.incr.aof seq 2 type i\n"
	if got := readManifest(t, a.Dir()); got != want {
		t.Fatalf("manifest %q, want %q", got, want)
	}
	fs.set(func(f *faults) { f.writeErr = nil })
	if err := a.Rewrite(ks); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait()
	if got := infoField(a, "aof_last_bgrewrite_status"); got != "ok" {
		t.Fatalf("aof_last_bgrewrite_status = %s", got)
	}
	a.Wait(ks.do(0, "LPUSH", "q", "c"))
	a.Close()
	want = "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n"
	if got := readManifest(t, a.Dir()); got != want {
		t.Fatalf("manifest %q, want %q", got, want)
	}
	if got, want := replayModel(t, testOptions(t, opts.Dir)).String(), ks.m.String(); got != want {
		t.Fatalf("reloaded state differs\n got: %s\nwant: %s", got, want)
	}
}

func TestAutoRewrite(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	ks := &fakeKeyspace{m: newModel(), snapped: make(chan struct{}, 1)}
	opts.Source = ks
	opts.RewriteMinSize = 4 << 10
	a, _ := mustOpen(t, opts)
	ks.log = a
	for i := 0; a.currentSize() <= 4<<10; i++ {
		a.Wait(ks.do(0, "SET", fmt.Sprint("k", i%10), strings.Repeat("x", 100)))
	}
	select {
	case <-ks.snapped:
	case <-time.After(10 * time.Second):
		t.Fatal("no automatic rewrite within 10s")
	}
	a.wg.Wait()
	if got := infoField(a, "aof_rewrites"); got != "1" {
		t.Fatalf("aof_rewrites = %s", got)
	}
	if cur := a.currentSize(); cur > 4<<10 {
		t.Fatalf("aof_current_size = %d after the rewrite", cur)
	}
	if base := infoField(a, "aof_base_size"); base == "0" {
		t.Fatal("aof_base_size not updated")
	}
}

// TestCloseDuringRewrite: Close aborts a rewrite that is still writing
// the base, and leaves a loadable directory.
func TestCloseDuringRewrite(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	a, _ := mustOpen(t, opts)
	ks := &fakeKeyspace{log: a, m: newModel(), endless: true, snapped: make(chan struct{}, 1)}
	a.Wait(ks.do(0, "LPUSH", "q", "a"))
	if err := a.Rewrite(ks); err != nil {
		t.Fatal(err)
	}
	<-ks.snapped
	ks.do(0, "LPUSH", "q", "b")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range dirFiles(t, a.Dir()) {
		if strings.HasPrefix(f, "temp-") {
			t.Errorf("temp file %s left behind", f)
		}
	}
	if got := replayModel(t, testOptions(t, opts.Dir)).String(); got != "0 list q [\"b\" \"a\"]" {
		t.Fatalf("reloaded %s", got)
	}
}

// TestRewriteWhileDiskFull: the disk fills right at the cut, so the old
// incr file cannot be completed. The rewrite does not end (nor can
// another start) before the switch is done, and nothing is lost.
func TestRewriteWhileDiskFull(t *testing.T) {
	fs := &faults{match: "aof"}
	opts := testOptions(t, t.TempDir())
	opts.OpenFile = fs.open
	a, _ := mustOpen(t, opts)
	ks := &fakeKeyspace{log: a, m: newModel(), snapped: make(chan struct{}, 1)}
	a.Wait(ks.do(0, "LPUSH", "q", "a"))
	var stuck uint64
	ks.beforeCut = func() {
		fs.set(func(f *faults) { f.writeErr = syscall.ENOSPC })
		stuck = a.Append(0, args("LPUSH", "q", "b")) // for the old file, which cannot be completed
	}
	if err := a.Rewrite(ks); err != nil {
		t.Fatal(err)
	}
	<-ks.snapped
	if err := a.Wait(stuck); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Wait = %v, want ENOSPC", err)
	}
	if err := a.Rewrite(ks); !errors.Is(err, ErrRewriteInProgress) {
		t.Fatalf("Rewrite while the switch is pending = %v", err)
	}
	// Whether the base write met the full disk depends on timing; either
	// way the rewrite ends only after the switch.
	fs.set(func(f *faults) { f.writeErr = nil })
	a.wg.Wait()
	ks.beforeCut = nil
	ks.m.exec(args("LPUSH", "q", "b"))
	if err := a.Rewrite(ks); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait()
	if got := infoField(a, "aof_last_bgrewrite_status"); got != "ok" {
		t.Fatalf("aof_last_bgrewrite_status = %s", got)
	}
	a.Close()
	if got, want := replayModel(t, testOptions(t, opts.Dir)).String(), ks.m.String(); got != want {
		t.Fatalf("reloaded state differs\n got: %s\nwant: %s", got, want)
	}
}
