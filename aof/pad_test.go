package aof

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPadStart(t *testing.T) {
	cmd := resp([]string{"LPUSH", "q", "a"})
	for _, tc := range []struct {
		name string
		data string
		want int // -1: len(data)
	}{
		{"empty", "", -1},
		{"clean", cmd, -1},
		{"clean annotation", cmd + "#crc32c:0123abcd\r\n", -1},
		{"padding", cmd + "#######\n", len(cmd)},
		{"padding without newline", cmd + "###", len(cmd)},
		{"only padding", "#####\n", 0},
		{"two lines of padding", cmd + "###\n###\n", len(cmd)},
		{"torn then padding", cmd + "*3\r\n$5\r\nLP###\n", len(cmd) + len("*3\r\n$5\r\nLP")},
		{"torn at a CR then padding", cmd + "*1\r###\n", len(cmd) + len("*1\r")},
		{"zero tail is not padding", cmd + "\x00\x00", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := int64(tc.want)
			if tc.want < 0 {
				want = int64(len(tc.data))
			}
			got, err := padStart(strings.NewReader(tc.data), int64(len(tc.data)))
			if err != nil || got != want {
				t.Fatalf("padStart = %d, %v; want %d", got, err, want)
			}
		})
	}
	// Longer than one read.
	big := cmd + strings.Repeat("#", 200<<10) + "\n"
	if got, _ := padStart(strings.NewReader(big), int64(len(big))); got != int64(len(cmd)) {
		t.Fatalf("padStart of 200 KiB of padding = %d, want %d", got, len(cmd))
	}
}

func TestPadTrap(t *testing.T) {
	for run, want := range map[int64]bool{-1: false, 0: true, 1: false, 1022: false, 1023: true, 1024: false, 2046: true} {
		if got := padTrap(run); got != want {
			t.Errorf("padTrap(%d) = %v, want %v", run, got, want)
		}
	}
	for _, tc := range []struct {
		pad  string
		want int64
	}{
		{strings.Repeat("#", 1000) + "\n", -1},
		{strings.Repeat("#", 1023) + "\n", 0},
		{"##\n" + strings.Repeat("#", 2046) + "\n", 3},
		{"\n", 0},
		{strings.Repeat("#", 1023), -1}, // no newline: Redis reads it whole
	} {
		got, err := findPadTrap(strings.NewReader(tc.pad), 0, int64(len(tc.pad)))
		if err != nil || got != tc.want {
			t.Errorf("findPadTrap(%d bytes) = %d, %v; want %d", len(tc.pad), got, err, tc.want)
		}
	}
}

// copyDir copies an AOF directory as a crash would leave it: the files as
// they are on disk at this moment, padding included.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// crashedPadded writes n records under always and returns a copy of the
// directory taken while the log is open (what kill -9 leaves), its incr
// file and the records.
func crashedPadded(t *testing.T, n int) (dir, incr string, want []string) {
	t.Helper()
	opts := testOptions(t, t.TempDir())
	opts.Fsync = FsyncAlways
	a, _ := mustOpen(t, opts)
	want = []string{"SELECT 0"}
	for i := range n {
		v := fmt.Sprint("order-", i)
		appendWait(t, a, 0, "LPUSH", "q", v)
		want = append(want, "LPUSH q "+v)
	}
	dir = t.TempDir()
	copyDir(t, a.Dir(), filepath.Join(dir, opts.DirName))
	return dir, filepath.Join(dir, opts.DirName, "appendonly.aof.1.incr.aof"), want
}

// TestPaddingUnderAlways: under always the incr file is padded ahead of
// its data with '#' ending in '\n'; aof_current_size counts the data only;
// a clean close cuts the padding; everysec does not pad.
func TestPaddingUnderAlways(t *testing.T) {
	for _, p := range []FsyncPolicy{FsyncAlways, FsyncEverySec} {
		t.Run(p.String(), func(t *testing.T) {
			opts := testOptions(t, t.TempDir())
			opts.Fsync = p
			a, _ := mustOpen(t, opts)
			for i := range 100 {
				appendWait(t, a, 0, "LPUSH", "q", fmt.Sprint(i))
			}
			incr := filepath.Join(a.Dir(), "appendonly.aof.1.incr.aof")
			size, data := fileSize(t, incr), dataSize(t, incr)
			if cur := a.stats.curOff.Load(); cur != data {
				t.Fatalf("the writer's offset is %d, the data on disk ends at %d", cur, data)
			}
			if p == FsyncEverySec {
				if size != data {
					t.Fatalf("everysec: file is %d bytes, data %d: padded", size, data)
				}
			} else {
				if size < data+spaceReserve {
					t.Fatalf("always: file is %d bytes, data %d: not padded a reserve ahead", size, data)
				}
				b, _ := os.ReadFile(incr)
				tail := b[data:]
				if tail[len(tail)-1] != '\n' || len(bytes.Trim(tail[:len(tail)-1], "#")) != 0 {
					t.Fatalf("padding is not '#'... '\\n': %q...", tail[:min(len(tail), 40)])
				}
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if got := fileSize(t, incr); got != data {
				t.Fatalf("after Close the file is %d bytes, want its data, %d", got, data)
			}
		})
	}
}

// TestLoadCrashedPadded: a directory left padded by a crash loads every
// record, and the padding is cut so appends continue after the data.
func TestLoadCrashedPadded(t *testing.T) {
	dir, incr, want := crashedPadded(t, 50)
	data := dataSize(t, incr)
	if fileSize(t, incr) == data {
		t.Fatal("the crash copy has no padding")
	}
	opts := testOptions(t, dir)
	a, got := mustOpen(t, opts)
	equalStrings(t, "replay", got, want)
	if size := fileSize(t, incr); size != data {
		t.Fatalf("after Load the file is %d bytes, want %d", size, data)
	}
	appendWait(t, a, 0, "LPUSH", "q", "after")
	a.Close()
	got, err := loadDir(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Every process run starts with a SELECT.
	equalStrings(t, "replay after append", got, append(want, "SELECT 0", "LPUSH q after"))
}

// TestLoadTornPadded: a last command torn by a power loss and followed by
// padding is a torn tail, as at the end of an unpadded file: cut with
// aof-load-truncated, refused without it.
func TestLoadTornPadded(t *testing.T) {
	dir, incr, want := crashedPadded(t, 20)
	b, err := os.ReadFile(incr)
	if err != nil {
		t.Fatal(err)
	}
	data := dataSize(t, incr)
	// The last batch is a command and its checksum line: overwrite the
	// end of both with padding.
	copy(b[data-int64(noteLen)-5:data], strings.Repeat("#", noteLen+5))
	if err := os.WriteFile(incr, b, 0o644); err != nil {
		t.Fatal(err)
	}

	strict := testOptions(t, dir)
	strict.LoadTruncated = false
	var ce *CorruptError
	if _, err := loadDir(t, strict); !errors.As(err, &ce) || !strings.Contains(ce.Reason, "padding") {
		t.Fatalf("Load with aof-load-truncated no = %v, want a CorruptError that names the padding", err)
	}
	got, err := loadDir(t, testOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	equalStrings(t, "replay", got, want[:len(want)-1])
}

// TestCheckPadded: Check accepts a crash's padding, and catches and fixes
// padding that redis-server could not read.
func TestCheckPadded(t *testing.T) {
	dir, incr, _ := crashedPadded(t, 10)
	opts := testOptions(t, dir)
	var out strings.Builder
	if err := Check(dir, opts, false, &out); err != nil || !strings.Contains(out.String(), "preallocated padding") {
		t.Fatalf("Check = %v\n%s", err, out.String())
	}

	data := dataSize(t, incr)
	if err := os.Truncate(incr, data); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(incr, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(strings.Repeat("#", 2*fgetsPiece) + "\n")
	f.Close()
	out.Reset()
	var ce *CorruptError
	if err := Check(dir, opts, false, &out); !errors.As(err, &ce) || ce.Offset != data {
		t.Fatalf("Check of a padding trap = %v, want a CorruptError at %d\n%s", err, data, out.String())
	}
	out.Reset()
	if err := Check(dir, opts, true, &out); err != nil {
		t.Fatalf("Check --fix = %v\n%s", err, out.String())
	}
	if got := fileSize(t, incr); got != data {
		t.Fatalf("after --fix the file is %d bytes, want %d", got, data)
	}
}

// TestPadTrapAvoided: when a write would leave a run of padding that
// Redis's fgets splits into a lone newline, the writer adds "#\r\n".
func TestPadTrapAvoided(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.Fsync = FsyncAlways
	a, _ := mustOpen(t, opts)
	appendWait(t, a, 0, "LPUSH", "q", "first")
	incr := filepath.Join(a.Dir(), "appendonly.aof.1.incr.aof")
	off, padEnd := dataSize(t, incr), fileSize(t, incr)

	// A value whose record and checksum line end exactly k*1023 bytes
	// before the padding's newline.
	rec := func(n int) int64 {
		return int64(len(appendCommand(nil, args("LPUSH", "q", strings.Repeat("v", n))))) + int64(noteLen)
	}
	room := padEnd - 1 - off
	// Values of 1000 to 2022 bytes: the length's digits stay four.
	target := rec(1000) + (room-rec(1000))%fgetsPiece
	n := 1000
	for rec(n) < target {
		n++
	}
	if rec(n) != target {
		t.Fatalf("cannot size a record to %d bytes (got %d)", target, rec(n))
	}
	appendWait(t, a, 0, "LPUSH", "q", strings.Repeat("v", n))
	newOff := dataSize(t, incr)
	if newOff != off+target+3 {
		t.Fatalf("data ends at %d, want %d (record, checksum line, \"#\\r\\n\")", newOff, off+target+3)
	}
	f, _ := os.Open(incr)
	defer f.Close()
	if trap, err := findPadTrap(f, newOff, fileSize(t, incr)); err != nil || trap >= 0 {
		t.Fatalf("padding trap at %d (%v)", trap, err)
	}
}
