package aof

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeRecords writes n records through the AOF (a MULTI block among
// them) and returns the incr file's bytes and, per record, the offset
// where it ends with its replayed form.
func writeRecords(t *testing.T, n int) (data []byte, ends []int64, cmds []string) {
	t.Helper()
	dir := t.TempDir()
	opts := testOptions(t, dir)
	a, _ := mustOpen(t, opts)
	for i := range n {
		switch {
		case i == n/2:
			// A transaction: its commands replay only whole.
			a.Append(0, args("MULTI"))
			a.Append(0, args("LPUSH", "q", "m1"))
			appendWait(t, a, 0, "EXEC")
		default:
			appendWait(t, a, i%2, "LPUSH", "q", fmt.Sprint("v", i))
		}
	}
	a.Close()
	path := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Walk the file to find where each replayed command ends.
	sc := newScanner(strings.NewReader(string(data)), int64(len(data)), DefaultMaxBulkLen)
	var multi []string
	for {
		kind, err := sc.next()
		if err != nil {
			t.Fatal(err)
		}
		if kind == itemEnd {
			break
		}
		if kind != itemCommand {
			continue
		}
		c := strings.Join(strings.Fields(fmt.Sprintf("%s", sc.argv)), " ")
		c = strings.Trim(c, "[]")
		switch {
		case c == "MULTI" || len(multi) > 0 && c != "EXEC":
			multi = append(multi, c)
		case c == "EXEC":
			for _, m := range append(multi, c) {
				cmds = append(cmds, m)
				ends = append(ends, sc.pos())
			}
			multi = nil
		default:
			cmds = append(cmds, c)
			ends = append(ends, sc.pos())
		}
	}
	return data, ends, cmds
}

// TestReplayTruncatedAtEveryOffset cuts a copy of an incr file at every
// byte offset: the replay must be exactly the records that end at or
// before the cut, and the file must be cut back to the last whole one.
func TestReplayTruncatedAtEveryOffset(t *testing.T) {
	data, ends, cmds := writeRecords(t, 12)
	dir := t.TempDir()
	opts := testOptions(t, dir)
	opts.Logger = nil // thousands of warnings otherwise
	incr := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	for k := 0; k <= len(data); k++ {
		writeDir(t, dir, simpleManifest, map[string]string{
			"appendonly.aof.1.base.aof": "",
			"appendonly.aof.1.incr.aof": string(data[:k]),
		})
		got, err := loadDir(t, opts)
		if err != nil {
			t.Fatalf("cut at %d: %v", k, err)
		}
		var want []string
		var good int64
		for i, e := range ends {
			if e <= int64(k) {
				want = append(want, cmds[i])
				good = e
			}
		}
		equalStrings(t, fmt.Sprint("cut at ", k), got, want)
		// The file is cut back to the last whole record, or the
		// annotation after it when that is whole too.
		size := fileSize(t, incr)
		if size < good || size > int64(k) {
			t.Fatalf("cut at %d: file is %d bytes, want between %d and %d", k, size, good, k)
		}
		if size != int64(k) {
			if _, _, err := scanAll(string(data[:size])); err != nil {
				t.Fatalf("cut at %d: truncated file does not scan cleanly: %v", k, err)
			}
		}
	}
}

func TestReplayMidFileCorruption(t *testing.T) {
	data, ends, _ := writeRecords(t, 50)
	tests := []struct {
		name string
		at   int64
		b    byte
	}{
		{"inside a value", ends[9] - 4, 'X'},      // record 10's value: only the checksum sees it
		{"inside a length", ends[19] - 9, '9'},    // a bulk length
		{"first byte of a record", ends[29], '+'}, // where '*' belongs
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := []byte(string(data))
			if bad[tc.at] == tc.b {
				t.Fatalf("byte at %d is already %q", tc.at, tc.b)
			}
			bad[tc.at] = tc.b
			dir := t.TempDir()
			// The damaged file is not the last one: start-up must refuse.
			writeDir(t, dir, simpleManifest+"file appendonly.aof.2.incr.aof seq 2 type i\n", map[string]string{
				"appendonly.aof.1.base.aof": "",
				"appendonly.aof.1.incr.aof": string(bad),
				"appendonly.aof.2.incr.aof": resp([]string{"SET", "x", "y"}),
			})
			_, err := loadDir(t, testOptions(t, dir))
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, want *CorruptError", err)
			}
			if !strings.HasSuffix(ce.Path, "appendonly.aof.1.incr.aof") || ce.Offset > tc.at || ce.Offset < tc.at-200 {
				t.Fatalf("CorruptError %+v, want offset near %d", ce, tc.at)
			}
			if !strings.Contains(ce.Error(), "mullet aof check --fix") {
				t.Fatalf("message does not say how to repair: %v", ce)
			}
			// The same damage in the last file is corruption too, not a
			// torn tail: refusing beats dropping the records after it.
			dir = t.TempDir()
			writeDir(t, dir, simpleManifest, map[string]string{
				"appendonly.aof.1.base.aof": "",
				"appendonly.aof.1.incr.aof": string(bad),
			})
			if _, err := loadDir(t, testOptions(t, dir)); !errors.As(err, &ce) {
				t.Fatalf("Load (last file) = %v, want *CorruptError", err)
			}
		})
	}
}

func TestTornTail(t *testing.T) {
	whole := resp([]string{"SET", "a", "1"}, []string{"SET", "b", "2"})
	torn := whole + "*3\r\n$3\r\nSET\r\n$1\r\nc"
	tests := []struct {
		name     string
		manifest string
		files    map[string]string
		strict   bool
		want     []string
		wantErr  bool
		wantSize map[string]int64
	}{
		{name: "last incr cut back", manifest: simpleManifest,
			files: map[string]string{"appendonly.aof.1.base.aof": "", "appendonly.aof.1.incr.aof": torn},
			want:  []string{"SET a 1", "SET b 2"}, wantSize: map[string]int64{"appendonly.aof.1.incr.aof": int64(len(whole))}},
		{name: "aof-load-truncated no", manifest: simpleManifest, strict: true,
			files:   map[string]string{"appendonly.aof.1.base.aof": "", "appendonly.aof.1.incr.aof": torn},
			wantErr: true},
		{name: "torn base", manifest: simpleManifest,
			files:   map[string]string{"appendonly.aof.1.base.aof": torn, "appendonly.aof.1.incr.aof": ""},
			wantErr: true},
		{name: "torn first incr", manifest: simpleManifest + "file appendonly.aof.2.incr.aof seq 2 type i\n",
			files:   map[string]string{"appendonly.aof.1.base.aof": "", "appendonly.aof.1.incr.aof": torn, "appendonly.aof.2.incr.aof": ""},
			wantErr: true},
		{name: "unterminated MULTI", manifest: simpleManifest,
			files: map[string]string{"appendonly.aof.1.base.aof": "",
				"appendonly.aof.1.incr.aof": whole + resp([]string{"MULTI"}, []string{"SET", "c", "3"})},
			want: []string{"SET a 1", "SET b 2"}, wantSize: map[string]int64{"appendonly.aof.1.incr.aof": int64(len(whole))}},
		{name: "MULTI EXEC applied whole", manifest: simpleManifest,
			files: map[string]string{"appendonly.aof.1.base.aof": "",
				"appendonly.aof.1.incr.aof": resp([]string{"MULTI"}, []string{"SET", "c", "3"}, []string{"EXEC"})},
			want: []string{"MULTI", "SET c 3", "EXEC"}},
		{name: "zero tail trimmed", manifest: simpleManifest,
			files: map[string]string{"appendonly.aof.1.base.aof": "", "appendonly.aof.1.incr.aof": whole + strings.Repeat("\x00", 5000)},
			want:  []string{"SET a 1", "SET b 2"}, wantSize: map[string]int64{"appendonly.aof.1.incr.aof": int64(len(whole))}},
		{name: "zeros inside the last command", manifest: simpleManifest,
			files: map[string]string{"appendonly.aof.1.base.aof": "",
				"appendonly.aof.1.incr.aof": whole + "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n" + strings.Repeat("\x00", 100)},
			want: []string{"SET a 1", "SET b 2"}, wantSize: map[string]int64{"appendonly.aof.1.incr.aof": int64(len(whole))}},
		{name: "zero tail in base", manifest: simpleManifest,
			files: map[string]string{"appendonly.aof.1.base.aof": whole + "\x00\x00", "appendonly.aof.1.incr.aof": ""},
			want:  []string{"SET a 1", "SET b 2"}, wantSize: map[string]int64{"appendonly.aof.1.base.aof": int64(len(whole))}},
		{name: "EXEC without MULTI", manifest: simpleManifest,
			files:   map[string]string{"appendonly.aof.1.base.aof": "", "appendonly.aof.1.incr.aof": resp([]string{"EXEC"})},
			wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ad := writeDir(t, dir, tc.manifest, tc.files)
			opts := testOptions(t, dir)
			opts.LoadTruncated = !tc.strict
			got, err := loadDir(t, opts)
			var ce *CorruptError
			if tc.wantErr {
				if !errors.As(err, &ce) {
					t.Fatalf("Load = %v, want *CorruptError", err)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equalStrings(t, "replay", got, tc.want)
			for name, size := range tc.wantSize {
				if got := fileSize(t, filepath.Join(ad, name)); got != size {
					t.Errorf("%s is %d bytes, want %d", name, got, size)
				}
			}
		})
	}
}

func TestRDBBase(t *testing.T) {
	rdb := "REDIS0010<payload>"
	files := map[string]string{
		"appendonly.aof.1.base.aof": rdb + resp([]string{"SET", "after", "rdb"}),
		"appendonly.aof.1.incr.aof": resp([]string{"SET", "a", "1"}),
	}
	dir := t.TempDir()
	writeDir(t, dir, simpleManifest, files)
	_, err := loadDir(t, testOptions(t, dir))
	if !errors.Is(err, ErrRDBBase) || !strings.Contains(err.Error(), "aof-use-rdb-preamble no") {
		t.Fatalf("Load = %v, want ErrRDBBase naming aof-use-rdb-preamble no", err)
	}

	opts := testOptions(t, dir)
	opts.LoadRDB = func(r io.Reader, apply func([][]byte) error) error {
		buf := make([]byte, len(rdb))
		if _, err := io.ReadFull(r, buf); err != nil || string(buf) != rdb {
			return fmt.Errorf("read %q: %v", buf, err)
		}
		return apply(args("SET", "from", "rdb"))
	}
	got, err := loadDir(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	equalStrings(t, "replay", got, []string{"SET from rdb", "SET after rdb", "SET a 1"})
}

func TestApplyError(t *testing.T) {
	dir := t.TempDir()
	writeDir(t, dir, simpleManifest, map[string]string{
		"appendonly.aof.1.base.aof": resp([]string{"SET", "a", "1"}, []string{"BOGUS"}),
		"appendonly.aof.1.incr.aof": "",
	})
	a, err := Open(testOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	boom := errors.New("unknown command")
	err = a.Load(func(argv [][]byte) error {
		if string(argv[0]) == "BOGUS" {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "offset 27") {
		t.Fatalf("Load = %v, want the apply error at offset 27", err)
	}
}

func TestLoadProgress(t *testing.T) {
	dir := t.TempDir()
	writeDir(t, dir, simpleManifest, map[string]string{
		"appendonly.aof.1.base.aof": resp([]string{"SET", "a", "1"}),
		"appendonly.aof.1.incr.aof": resp([]string{"SET", "b", "2"}),
	})
	opts := testOptions(t, dir)
	var calls [][2]int64
	opts.Progress = func(done, total int64) { calls = append(calls, [2]int64{done, total}) }
	if _, err := loadDir(t, opts); err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[len(calls)-1][0] != 54 || calls[len(calls)-1][1] != 54 {
		t.Fatalf("progress calls %v, want a final (54, 54)", calls)
	}
}
