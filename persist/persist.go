// Package persist runs the append-only file for a keyspace over the
// process's lifetime: it opens and replays the AOF at start, follows
// CONFIG SET appendonly (turning logging on with a rewrite, or off),
// appendfsync and auto-aof-rewrite-*, serves BGREWRITEAOF (also while
// appendonly is off) and INFO persistence, and closes the AOF last. It is
// where the keyspace (queue) and the AOF (aof) meet, so neither imports the
// other; a base file in RDB format is replayed through rdb.
package persist

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"mullet/aof"
	"mullet/config"
	"mullet/queue"
	"mullet/rdb"
)

// source lets the AOF rewrite read a consistent snapshot of the keyspace.
type source struct{ ks *queue.Keyspace }

func (s source) Snapshot(cut func()) aof.Dataset { return s.ks.Snapshot(cut) }

// enableSource is the source of the rewrite that turns appendonly on while
// running: the keyspace starts logging to a at the cut.
type enableSource struct {
	ks *queue.Keyspace
	a  *aof.AOF
}

func (s enableSource) Snapshot(cut func()) aof.Dataset { return s.ks.SnapshotLog(s.a, cut) }

// Persistence owns the append-only file: it opens and loads it at start,
// serves BGREWRITEAOF and INFO persistence for the server
// (server.Persistence), follows CONFIG SET of the AOF directives, and
// closes it last. Its methods are safe for concurrent use.
type Persistence struct {
	ks  *queue.Keyspace
	set *config.Config
	log *slog.Logger
	dir string

	mu sync.Mutex // guards a and bgDone
	a  *aof.AOF   // nil while appendonly is off
	// bgDone is non-nil while a BGREWRITEAOF run with appendonly off is
	// writing, in a goroutine of its own; it is closed when that ends.
	// Close waits for it.
	bgDone chan struct{}
}

// New returns the Persistence of ks in dir, reading the AOF directives
// from set and logging to log. Nothing is opened until Open or a CONFIG
// SET appendonly yes (after Watch).
func New(ks *queue.Keyspace, set *config.Config, log *slog.Logger, dir string) *Persistence {
	return &Persistence{ks: ks, set: set, log: log, dir: dir}
}

func (p *Persistence) options() (aof.Options, error) {
	opts := aof.DefaultOptions(p.dir)
	opts.DirName = p.set.String("appenddirname")
	opts.FileName = p.set.String("appendfilename")
	pol, err := aof.ParseFsyncPolicy(p.set.String("appendfsync"))
	if err != nil {
		return opts, err
	}
	opts.Fsync = pol
	opts.LoadTruncated = p.set.Bool("aof-load-truncated")
	opts.RewritePercentage = int(p.set.Int("auto-aof-rewrite-percentage"))
	opts.RewriteMinSize = p.set.Size("auto-aof-rewrite-min-size")
	opts.MaxBulkLen = p.set.Size("proto-max-bulk-len")
	opts.Source = source{p.ks}
	opts.Logger = p.log
	opts.LoadRDB = LoadRDB
	opts.RDBPreamble = p.set.Bool("aof-use-rdb-preamble")
	opts.WriteRDB = writeRDB
	opts.Progress = func(done, total int64) {
		p.log.Info("loading the append only file", "done_bytes", done, "total_bytes", total)
	}
	return opts, nil
}

// Open opens the AOF and replays it through replay at start-up (with
// appendonly yes), then makes it the keyspace's log. The server must be in
// loading state: clients get -LOADING meanwhile.
func (p *Persistence) Open(replay func(argv [][]byte) error) error {
	opts, err := p.options()
	if err != nil {
		return err
	}
	a, err := aof.Open(opts)
	if err != nil {
		return err
	}
	start := time.Now()
	p.ks.SetReplaying(true)
	err = a.Load(replay)
	p.ks.SetReplaying(false)
	if err != nil {
		a.Close()
		return err
	}
	p.log.Info("DB loaded from append only file", "seconds", time.Since(start).Seconds(),
		"keys", keyCount(p.ks))
	p.ks.SetLog(a)
	// A CONFIG SET of these during the load found no AOF to apply to
	// (their hooks see p.a nil); the values it stored apply now. A hook
	// that runs after this sees p.a.
	p.mu.Lock()
	if pol, err := aof.ParseFsyncPolicy(p.set.String("appendfsync")); err == nil {
		a.SetPolicy(pol)
	}
	a.SetRewritePercentage(int(p.set.Int("auto-aof-rewrite-percentage")))
	a.SetRewriteMinSize(p.set.Size("auto-aof-rewrite-min-size"))
	a.SetRDBPreamble(p.set.Bool("aof-use-rdb-preamble"))
	p.a = a
	p.mu.Unlock()
	return nil
}

func keyCount(ks *queue.Keyspace) int64 {
	tx := ks.Begin()
	defer tx.End()
	var n int64
	for i := 0; i < tx.Databases(); i++ {
		n += tx.DBSize(i)
	}
	return n
}

// Watch follows CONFIG SET of the AOF directives: appendonly turns
// logging on or off, appendfsync and auto-aof-rewrite-* apply to the open
// AOF. Call it once, before Open, so a change made while the AOF loads
// applies when Open hands it over.
func (p *Persistence) Watch() {
	p.set.OnChange("appendfsync", func(v string) error {
		pol, err := aof.ParseFsyncPolicy(v)
		if err != nil {
			return err
		}
		if a := p.current(); a != nil {
			a.SetPolicy(pol)
		}
		return nil
	})
	p.set.OnChange("auto-aof-rewrite-percentage", func(v string) error {
		if a := p.current(); a != nil {
			n, _ := strconv.Atoi(v)
			a.SetRewritePercentage(n)
		}
		return nil
	})
	p.set.OnChange("auto-aof-rewrite-min-size", func(string) error {
		if a := p.current(); a != nil {
			a.SetRewriteMinSize(p.set.Size("auto-aof-rewrite-min-size"))
		}
		return nil
	})
	p.set.OnChange("aof-use-rdb-preamble", func(v string) error {
		if a := p.current(); a != nil {
			a.SetRDBPreamble(v == "yes")
		}
		return nil
	})
	p.set.OnChange("appendonly", func(v string) error {
		if v == "yes" {
			return p.enable()
		}
		return p.disable()
	})
}

func (p *Persistence) current() *aof.AOF {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.a
}

// enable turns appendonly on while running, as Redis does: a rewrite
// writes the current data as a new base, and from the same instant every
// write is logged. Whatever an old AOF in the directory held is replaced.
func (p *Persistence) enable() error {
	p.waitBackground() // a BGREWRITEAOF from while appendonly was off holds the directory
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.a != nil {
		return nil
	}
	opts, err := p.options()
	if err != nil {
		return err
	}
	a, err := aof.Open(opts)
	if err != nil {
		return err
	}
	// The old contents are superseded by the rewrite below; read them
	// only to satisfy the log's load-before-append rule.
	if err := a.Load(func([][]byte) error { return nil }); err != nil {
		a.Close()
		return err
	}
	if err := a.Rewrite(enableSource{p.ks, a}); err != nil {
		a.Close()
		return err
	}
	p.a = a
	p.log.Info("append only file enabled")
	return nil
}

// disable turns appendonly off: the keyspace stops logging, the file is
// flushed, synced and closed.
func (p *Persistence) disable() error {
	p.mu.Lock()
	a := p.a
	p.a = nil
	p.mu.Unlock()
	if a == nil {
		return nil
	}
	p.ks.SetLog(nil)
	p.log.Info("append only file disabled")
	return a.Close()
}

// Rewrite is BGREWRITEAOF. With appendonly off it still writes an AOF of
// the current data, as Redis does, without turning logging on; a second
// one while that runs gets aof.ErrRewriteInProgress, as from Redis.
func (p *Persistence) Rewrite() error {
	p.mu.Lock()
	a, running := p.a, p.bgDone != nil
	done := make(chan struct{})
	if a == nil && !running {
		p.bgDone = done
	}
	p.mu.Unlock()
	if a != nil {
		return a.Rewrite(source{p.ks})
	}
	if running {
		return aof.ErrRewriteInProgress
	}
	end := func() {
		p.mu.Lock()
		p.bgDone = nil
		p.mu.Unlock()
		close(done)
	}
	a, err := p.rewriteOff()
	if err != nil {
		end()
		return err
	}
	go func() {
		defer end()
		// Close would abort the rewrite; the AOF logs its outcome.
		a.WaitRewrite()
		if err := a.Close(); err != nil {
			p.log.Error("closing the AOF after BGREWRITEAOF", "err", err)
		}
	}()
	return nil
}

// waitBackground waits for a BGREWRITEAOF started with appendonly off.
func (p *Persistence) waitBackground() {
	p.mu.Lock()
	done := p.bgDone
	p.mu.Unlock()
	if done != nil {
		<-done
	}
}

// rewriteOff opens the AOF directory without making it the keyspace's log
// and starts a rewrite of the current data in it.
func (p *Persistence) rewriteOff() (*aof.AOF, error) {
	opts, err := p.options()
	if err != nil {
		return nil, err
	}
	opts.Source = nil
	a, err := aof.Open(opts)
	if err != nil {
		return nil, err
	}
	if err := a.Load(func([][]byte) error { return nil }); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.Rewrite(source{p.ks}); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// Info adds the AOF fields of INFO persistence.
func (p *Persistence) Info(add func(name, value string)) {
	a := p.current()
	if a == nil {
		for _, f := range [][2]string{
			{"aof_enabled", "0"}, {"aof_rewrite_in_progress", "0"}, {"aof_rewrite_scheduled", "0"},
			{"aof_last_rewrite_time_sec", "-1"}, {"aof_current_rewrite_time_sec", "-1"},
			{"aof_last_bgrewrite_status", "ok"}, {"aof_rewrites", "0"},
			{"aof_rewrites_consecutive_failures", "0"}, {"aof_last_write_status", "ok"},
			{"aof_last_cow_size", "0"},
		} {
			add(f[0], f[1])
		}
		addModuleFork(add)
		return
	}
	for _, f := range a.Info() {
		add(f.Name, f.Value)
		if f.Name == "aof_last_cow_size" {
			addModuleFork(add)
		}
	}
}

// addModuleFork adds the two module fields Redis 7.0 prints in the middle
// of the AOF ones (genRedisInfoString), so the section reads the same
// line for line. mullet has no modules and never forks.
func addModuleFork(add func(name, value string)) {
	add("module_fork_in_progress", "0")
	add("module_fork_last_cow_size", "0")
}

// Close waits for a BGREWRITEAOF still running with appendonly off, then
// flushes, syncs and closes the AOF: the last step of shutdown.
func (p *Persistence) Close() error {
	p.waitBackground()
	p.mu.Lock()
	a := p.a
	p.a = nil
	p.mu.Unlock()
	if a == nil {
		return nil
	}
	p.ks.SetLog(nil)
	return a.Close()
}

// writeRDB writes a snapshot of the keyspace as an RDB file, the base of
// a rewrite under aof-use-rdb-preamble yes: lists as quicklists with one
// listpack node per chunk, strings and keys LZF-compressed where that
// pays, as redis-server writes with rdbcompression yes.
func writeRDB(w io.Writer, ds aof.Dataset) error {
	snap, ok := ds.(*queue.Snapshot)
	if !ok {
		return fmt.Errorf("writeRDB: dataset %T is not a keyspace snapshot", ds)
	}
	rw := rdb.NewWriter(w, true)
	cur := -1
	err := snap.EachValue(func(db int, key []byte, v *queue.SnapValue) error {
		if db != cur {
			cur = db
			keys, expires := snap.DBSize(db)
			rw.SelectDB(db, keys, expires)
		}
		exp := rdb.NoExpire
		if v.ExpireAt != 0 {
			exp = v.ExpireAt
		}
		switch v.Kind {
		case queue.KindString:
			rw.String(key, v.Str, exp)
		case queue.KindList:
			rw.List(key, exp, v.Nodes())
			for i := range v.Nodes() {
				rw.Node()
				v.Node(i, rw.Item)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rw.Close()
}

// LoadRDB replays a base file in RDB format (Redis's default
// aof-use-rdb-preamble yes) as the commands that rebuild it, so a
// directory redis-server wrote with its defaults loads too.
func LoadRDB(r io.Reader, apply func(argv [][]byte) error) error {
	cur := -1
	var num []byte
	argv := make([][]byte, 0, 66)
	err := rdb.Load(r, func(db int, key []byte, v rdb.Value, expireAt int64) error {
		if db != cur {
			cur = db
			if err := apply([][]byte{[]byte("SELECT"), []byte(strconv.Itoa(db))}); err != nil {
				return err
			}
		}
		switch v.Kind {
		case rdb.KindString:
			if err := apply(append(argv[:0], []byte("SET"), key, v.Str)); err != nil {
				return err
			}
		case rdb.KindList:
			for i := 0; i < len(v.List); i += 64 {
				j := min(i+64, len(v.List))
				if err := apply(append(append(argv[:0], []byte("RPUSH"), key), v.List[i:j]...)); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("rdb: key %q has a type mullet does not hold", key)
		}
		if expireAt != rdb.NoExpire {
			num = strconv.AppendInt(num[:0], expireAt, 10)
			return apply(append(argv[:0], []byte("PEXPIREAT"), key, num))
		}
		return nil
	})
	if errors.Is(err, rdb.ErrUnsupportedType) {
		return fmt.Errorf("%w (mullet holds only lists and strings)", err)
	}
	return err
}
