package main

import (
	"mullet/internal/resp"

	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// fill LPUSHes n items of size bytes onto key, one item per LPUSH (as
// producers do), pipelined in batches of 1000.
func fill(addr, key string, n, size int) error {
	c, err := resp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	val := make([]byte, size)
	for i := range val {
		val[i] = 'a' + byte(i%26)
	}
	for sent := 0; sent < n; {
		batch := min(1000, n-sent)
		for range batch {
			c.Send("LPUSH", key, val)
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for range batch {
			if _, err := c.Read(); err != nil {
				return err
			}
		}
		sent += batch
	}
	got, err := c.Int("LLEN", key)
	if err != nil {
		return err
	}
	if got != int64(n) {
		return fmt.Errorf("LLEN %s = %d after %d pushes", key, got, n)
	}
	return nil
}

// fillUntilOOM pushes items of size bytes in pipelines of 100 until the
// server refuses one with an OOM error, and returns how many it holds.
func fillUntilOOM(addr string, size int) (int64, error) {
	c, err := resp.Dial(addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	val := make([]byte, size)
	for i := range val {
		val[i] = 'a' + byte(i%26)
	}
	const limit = 10_000_000 // items: a server that never refuses is broken
	for sent := 0; sent < limit; sent += 100 {
		for range 100 {
			c.Send("LPUSH", "cap", val)
		}
		if err := c.Flush(); err != nil {
			return 0, err
		}
		oom := false
		for range 100 {
			_, err := c.Read()
			var re resp.Error
			switch {
			case errors.As(err, &re) && strings.HasPrefix(string(re), "OOM "):
				oom = true
			case err != nil:
				return 0, err
			}
		}
		if oom {
			return c.Int("LLEN", "cap")
		}
	}
	return 0, fmt.Errorf("no OOM after %d items", limit)
}

// aofSettings are the directives under which the load-time AOF is written
// and read: no RDB preamble, so the file holds plain LPUSH commands, and no
// automatic rewrite, so it keeps holding them.
var aofSettings = []string{
	"--appendonly", "yes",
	"--aof-use-rdb-preamble", "no",
	"--auto-aof-rewrite-percentage", "0",
}

// writeAOF has redis-server write an AOF of n single-item LPUSHes of size
// bytes onto key "aofload", and returns the data dir that holds it
// (appendonlydir/ with Redis 7's manifest, base and incr files).
func writeAOF(redis *flavour, workDir string, n, size int) (string, error) {
	p, err := start(redis, workDir, "aof-template", slices.Concat(aofSettings, []string{"--appendfsync", "no"})...)
	if err != nil {
		return "", err
	}
	if err := fill(p.addr, "aofload", n, size); err != nil {
		p.stop()
		return "", err
	}
	p.stop() // SIGTERM: redis flushes and fsyncs the AOF before exiting
	if _, err := os.Stat(filepath.Join(p.dir, "appendonlydir")); err != nil {
		return "", fmt.Errorf("redis-server wrote no appendonlydir: %w", err)
	}
	return p.dir, nil
}

// loadTime copies the AOF in template into a fresh dir, starts the server
// on it, and returns the time from exec to the first PONG with all n items
// loaded. errNotLoaded means the server answered but had not loaded the
// file (a mullet without the AOF package).
func loadTime(f *flavour, workDir, template string, n int) (time.Duration, error) {
	dir, err := os.MkdirTemp(workDir, f.shortName()+"-aofload-")
	if err != nil {
		return 0, err
	}
	if err := copyDir(filepath.Join(template, "appendonlydir"), filepath.Join(dir, "appendonlydir")); err != nil {
		return 0, err
	}
	p, err := startIn(f, dir, aofSettings...)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	c, err := resp.Dial(p.addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	got, err := c.Int("LLEN", "aofload")
	if err != nil {
		return 0, err
	}
	if got != int64(n) {
		return 0, fmt.Errorf("%w: LLEN aofload = %d after PONG, want %d", errNotLoaded, got, n)
	}
	return p.ready.Sub(p.started), nil
}

// errNotLoaded reports a server that started without loading the AOF.
var errNotLoaded = errors.New("AOF not loaded")

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
