package aof

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkAppendWait measures Append (under a mutex standing in for the
// keyspace lock) plus Wait from 50 concurrent goroutines, as 50 clients
// of redis-benchmark with pipeline 1 would drive the server.
func BenchmarkAppendWait(b *testing.B) {
	argv := args("LPUSH", "mylist", "VXK")
	for _, p := range []FsyncPolicy{FsyncAlways, FsyncEverySec, FsyncNo} {
		b.Run(p.String(), func(b *testing.B) {
			opts := DefaultOptions(b.TempDir())
			opts.Fsync = p
			a, _ := mustOpen(b, opts)
			var mu sync.Mutex
			b.SetParallelism((50 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.SetBytes(int64(len(appendCommand(nil, argv))))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					t := a.Append(0, argv)
					mu.Unlock()
					if err := a.Wait(t); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			a.Close()
		})
	}
}

// BenchmarkLoad replays 1M LPUSH commands laid out byte for byte as
// redis-server writes them for `redis-benchmark -t lpush -n 1000000`
// (redis-server 7.0 itself loads that file in about 0.4 s here). Set
// MULLET_AOF_BENCH_DIR to a Redis working directory to load that instead.
func BenchmarkLoad(b *testing.B) {
	dir := os.Getenv("MULLET_AOF_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
		ad := filepath.Join(dir, DefaultDirName)
		os.MkdirAll(ad, 0o755)
		os.WriteFile(filepath.Join(ad, "appendonly.aof.1.base.aof"), nil, 0o644)
		f, err := os.Create(filepath.Join(ad, "appendonly.aof.1.incr.aof"))
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.Write(appendSelect(nil, 0))
		rec := appendCommand(nil, args("LPUSH", "mylist", "VXK"))
		for range 1_000_000 {
			w.Write(rec)
		}
		w.Flush()
		f.Close()
		os.WriteFile(filepath.Join(ad, "appendonly.aof.manifest"), []byte(simpleManifest), 0o644)
	}
	opts := DefaultOptions(dir)
	var size int64
	b.ReportAllocs()
	for b.Loop() {
		a, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if err := a.Load(func(argv [][]byte) error { n += len(argv); return nil }); err != nil {
			b.Fatal(err)
		}
		size = a.currentSize()
		a.Close()
	}
	b.SetBytes(size)
}

// BenchmarkSync measures Append plus Sync (WAITAOF 1 0 0, the consumer's
// claim) from 50 goroutines under everysec: concurrent calls share one
// fdatasync, and a Sync whose ticket is already covered returns without
// locking.
func BenchmarkSync(b *testing.B) {
	argv := args("LPUSH", "mylist", "VXK")
	opts := DefaultOptions(b.TempDir())
	a, _ := mustOpen(b, opts)
	var mu sync.Mutex
	b.SetParallelism((50 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			t := a.Append(0, argv)
			mu.Unlock()
			if err := a.Sync(bg, t); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	a.Close()
}

// BenchmarkSyncCovered is Sync for a ticket already on disk: WAITAOF
// after the data was synced, the common case under always.
func BenchmarkSyncCovered(b *testing.B) {
	a, _ := mustOpen(b, DefaultOptions(b.TempDir()))
	t := a.Append(0, args("SET", "k", "v"))
	if err := a.Sync(bg, t); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Sync(bg, t); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFdatasyncModes measures one write plus fdatasync of a batch by
// how the file's blocks were prepared: appending into space reserved with
// fallocate KEEP_SIZE (the writer under everysec), appending with no
// reservation, and overwriting blocks already written inside the file
// size (the writer's padding under always). The overwrite is also made
// durable two ways the writer does not use, to measure them against it:
// the fdatasync submitted through io_uring (no Go thread blocks in it;
// the io-wq hand-off is what this shows), and O_DIRECT pwritev2 with
// RWF_DSYNC (one system call, no page cache; batches must then be whole
// aligned blocks). docs/durability.md has the figures and what they mean
// for appendfsync always. The directory is MULLET_BENCH_DIR if set (to
// measure the disk the AOF will live on), else a temporary one.
func BenchmarkFdatasyncModes(b *testing.B) {
	dir := os.Getenv("MULLET_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	for _, size := range []int{4 << 10, 64 << 10, 256 << 10, 512 << 10} {
		for _, mode := range []string{"keepsize", "plain", "overwrite", "overwrite-iouring", "overwrite-direct-dsync"} {
			b.Run(fmt.Sprintf("%s/%dKiB", mode, size>>10), func(b *testing.B) {
				path := filepath.Join(dir, "fdatasync-bench")
				f, err := os.Create(path)
				if err != nil {
					b.Fatal(err)
				}
				defer os.Remove(path)
				defer f.Close()
				total := int64(size) * int64(b.N)
				switch {
				case mode == "keepsize":
					err = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, total)
				case strings.HasPrefix(mode, "overwrite"):
					chunk := make([]byte, 1<<20)
					for off := int64(0); off < total && err == nil; off += int64(len(chunk)) {
						_, err = f.WriteAt(chunk[:min(int64(len(chunk)), total-off)], off)
					}
					if err == nil {
						err = unix.Fdatasync(int(f.Fd()))
					}
				}
				if err != nil {
					b.Skipf("%s: %v", mode, err)
				}
				buf := alignedBuf(size)
				fd := int(f.Fd())
				write := func(i int) error {
					_, err := f.WriteAt(buf, int64(i)*int64(size))
					return err
				}
				sync := func() error { return unix.Fdatasync(fd) }
				switch mode {
				case "overwrite-iouring":
					r, err := newTestRing()
					if err != nil {
						b.Skipf("no io_uring here: %v", err)
					}
					defer r.close()
					sync = func() error { return r.fdatasync(fd) }
				case "overwrite-direct-dsync":
					df, err := os.OpenFile(path, os.O_WRONLY|unix.O_DIRECT, 0)
					if err != nil {
						b.Skipf("no O_DIRECT here: %v", err)
					}
					defer df.Close()
					write = func(i int) error {
						_, err := unix.Pwritev2(int(df.Fd()), [][]byte{buf}, int64(i)*int64(size), unix.RWF_DSYNC)
						return err
					}
					sync = func() error { return nil } // RWF_DSYNC made the write durable
				}
				b.SetBytes(int64(size))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := write(i); err != nil {
						b.Fatal(err)
					}
					if err := sync(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
