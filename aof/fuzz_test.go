package aof

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes as the last incr file: Load must replay
// records or fail with *CorruptError (or ErrRDBBase for an "REDIS"
// prefix), never panic, and leave a file that replays the same way again.
// Seeds: the scanner's table plus testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	lpush := resp([]string{"LPUSH", "q", "a"})
	for _, s := range []string{
		"", lpush, withNote(lpush + lpush), "#TS:1700000000\r\n" + lpush,
		lpush + "*3\r\n$5\r\nLPU", lpush + "\x00\x00\x00", lpush + "#crc32c:00000000\r\n",
		resp([]string{"MULTI"}, []string{"SET", "a", "1"}, []string{"EXEC"}),
		resp([]string{"MULTI"}, []string{"SET", "a", "1"}), "*1\r\n$99999999\r\n", "*-1\r\n",
		"*2\r\n$3\r\nDEL\r\n$0\r\n\r\n", "REDIS0011", "*1\r\n$1\r\naXY",
		// The writer's padding: at the end, after a torn command, and with
		// redis-server's appends after it.
		lpush + "#####\n", lpush + "*3\r\n$5\r\nLP###\n", lpush + strings.Repeat("#", 1500) + "\n" + lpush,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		ad := writeDir(t, dir, simpleManifest, map[string]string{
			"appendonly.aof.1.base.aof": "",
			"appendonly.aof.1.incr.aof": string(data),
		})
		opts := DefaultOptions(dir)
		opts.MaxBulkLen = 1 << 20
		first, err := loadDir(t, opts)
		var ce *CorruptError
		switch {
		case err == nil:
		case errors.As(err, &ce):
			if ce.Offset < 0 || ce.Offset > int64(len(data)) {
				t.Fatalf("CorruptError offset %d outside a %d-byte file", ce.Offset, len(data))
			}
			return
		case errors.Is(err, ErrRDBBase):
			return
		default:
			t.Fatalf("Load = %v, want nil, *CorruptError or ErrRDBBase", err)
		}
		if len(first) > len(data)/4+1 {
			t.Fatalf("%d commands from %d bytes", len(first), len(data))
		}
		// What was kept is a prefix of the input that replays identically.
		kept, err := os.ReadFile(filepath.Join(ad, "appendonly.aof.1.incr.aof"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), string(kept)) {
			t.Fatalf("the file was changed, not cut: %q -> %q", data, kept)
		}
		second, err := loadDir(t, opts)
		if err != nil {
			t.Fatalf("second Load = %v", err)
		}
		equalStrings(t, "second replay", second, first)
	})
}

// TestLoadHugeLengthNoAlloc: a corrupt length in a small file does not
// allocate it.
func TestLoadHugeLengthNoAlloc(t *testing.T) {
	dir := t.TempDir()
	data := resp([]string{"SET", "a", "1"}) + "*2\r\n$3\r\nSET\r\n$500000000\r\n" + strings.Repeat("x", 1000)
	writeDir(t, dir, simpleManifest, map[string]string{
		"appendonly.aof.1.base.aof": "",
		"appendonly.aof.1.incr.aof": data,
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := loadDir(t, testOptions(t, dir))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	equalStrings(t, "replay", got, []string{"SET a 1"})
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("loading allocated %d bytes", alloc)
	}
}
