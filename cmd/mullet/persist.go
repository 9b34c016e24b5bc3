package main

import (
	"context"
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
	"mullet/server"
)

// The append-only file satisfies the keyspace's Log; this is where the two
// meet, so neither imports the other.
var _ queue.Log = (*aof.AOF)(nil)

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

// persistence owns the append-only file: it opens and loads it at start,
// serves BGREWRITEAOF and INFO persistence for the server, follows CONFIG
// SET appendonly/appendfsync/auto-aof-rewrite-*, and closes it last.
type persistence struct {
	ks  *queue.Keyspace
	set *config.Config
	log *slog.Logger
	dir string

	mu sync.Mutex // guards a
	a  *aof.AOF   // nil while appendonly is off
}

var _ server.Persistence = (*persistence)(nil)

func (p *persistence) options() (aof.Options, error) {
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
	opts.LoadRDB = loadRDB
	opts.RDBPreamble = p.set.Bool("aof-use-rdb-preamble")
	opts.WriteRDB = writeRDB
	opts.Progress = func(done, total int64) {
		p.log.Info("loading the append only file", "done_bytes", done, "total_bytes", total)
	}
	return opts, nil
}

// open opens and replays the AOF at start-up (appendonly yes), then makes
// it the keyspace's log. The server must be in loading state: clients get
// -LOADING meanwhile.
func (p *persistence) open(replay func(argv [][]byte) error) error {
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

// watch follows CONFIG SET of the AOF directives.
func (p *persistence) watch() {
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

func (p *persistence) current() *aof.AOF {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.a
}

// enable turns appendonly on while running, as Redis does: a rewrite
// writes the current data as a new base, and from the same instant every
// write is logged. Whatever an old AOF in the directory held is replaced.
func (p *persistence) enable() error {
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
func (p *persistence) disable() error {
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
// the current data, as Redis does, without turning logging on.
func (p *persistence) Rewrite() error {
	if a := p.current(); a != nil {
		return a.Rewrite(source{p.ks})
	}
	opts, err := p.options()
	if err != nil {
		return err
	}
	opts.Source = nil
	a, err := aof.Open(opts)
	if err != nil {
		return err
	}
	if err := a.Load(func([][]byte) error { return nil }); err != nil {
		a.Close()
		return err
	}
	if err := a.Rewrite(source{p.ks}); err != nil {
		a.Close()
		return err
	}
	go func() {
		// Close waits for the rewrite to finish.
		if err := a.Close(); err != nil {
			p.log.Error("background AOF rewrite failed", "err", err)
		}
	}()
	return nil
}

// Info adds the AOF fields of INFO persistence.
func (p *persistence) Info(add func(name, value string)) {
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

// close flushes, syncs and closes the AOF: the last step of shutdown.
func (p *persistence) close() error {
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

// sync waits until everything logged so far is on stable storage.
func (p *persistence) sync(ctx context.Context) error {
	a := p.current()
	if a == nil {
		return nil
	}
	tx := p.ks.Begin()
	t := tx.LogTicket()
	tx.End()
	return a.Sync(ctx, t)
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

// loadRDB replays a base file in RDB format (Redis's default
// aof-use-rdb-preamble yes) as the commands that rebuild it, so a
// directory redis-server wrote with its defaults loads too.
func loadRDB(r io.Reader, apply func(argv [][]byte) error) error {
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
