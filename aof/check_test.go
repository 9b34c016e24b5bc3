package aof

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	good := resp([]string{"SET", "a", "1"}, []string{"SET", "b", "2"})
	torn := good + "*2\r\n$3\r\nDEL"
	garbage := resp([]string{"SET", "a", "1"}) + "garbage" + resp([]string{"SET", "b", "2"})
	twoIncr := simpleManifest + "file appendonly.aof.2.incr.aof seq 2 type i\n"
	tests := []struct {
		name     string
		manifest string
		files    map[string]string
		fix      bool
		wantErr  bool
		wantOut  string
		wantSize map[string]int64
	}{
		{name: "valid", manifest: simpleManifest,
			files:   map[string]string{"appendonly.aof.1.base.aof": good, "appendonly.aof.1.incr.aof": withNote(good)},
			wantOut: "All AOF files and manifest are valid"},
		{name: "empty base", manifest: simpleManifest,
			files:   map[string]string{"appendonly.aof.1.base.aof": "", "appendonly.aof.1.incr.aof": good},
			wantOut: "BASE AOF appendonly.aof.1.base.aof is empty"},
		{name: "torn last, no fix", manifest: simpleManifest,
			files:   map[string]string{"appendonly.aof.1.base.aof": "", "appendonly.aof.1.incr.aof": torn},
			wantErr: true, wantOut: "ok_up_to=54, diff=11"},
		{name: "torn last, fix", manifest: simpleManifest, fix: true,
			files:   map[string]string{"appendonly.aof.1.base.aof": "", "appendonly.aof.1.incr.aof": torn},
			wantOut: "Successfully truncated", wantSize: map[string]int64{"appendonly.aof.1.incr.aof": 54}},
		{name: "garbage in last, fix", manifest: simpleManifest, fix: true,
			files:   map[string]string{"appendonly.aof.1.base.aof": "", "appendonly.aof.1.incr.aof": garbage},
			wantOut: "Successfully truncated", wantSize: map[string]int64{"appendonly.aof.1.incr.aof": 27}},
		{name: "checksum mismatch in last, fix cuts the whole span", manifest: simpleManifest, fix: true,
			files: map[string]string{"appendonly.aof.1.base.aof": "",
				"appendonly.aof.1.incr.aof": withNote(good) + strings.Replace(withNote(good), "a", "x", 1)},
			wantOut: "checksum mismatch", wantSize: map[string]int64{"appendonly.aof.1.incr.aof": int64(len(withNote(good)))}},
		{name: "garbage in non-last, fix refused", manifest: twoIncr, fix: true,
			files: map[string]string{"appendonly.aof.1.base.aof": "", "appendonly.aof.1.incr.aof": garbage,
				"appendonly.aof.2.incr.aof": good},
			wantErr: true, wantOut: "refusing to fix",
			wantSize: map[string]int64{"appendonly.aof.1.incr.aof": int64(len(garbage))}},
		{name: "zero tail in non-last, fixed", manifest: twoIncr, fix: true,
			files: map[string]string{"appendonly.aof.1.base.aof": "", "appendonly.aof.1.incr.aof": good + "\x00\x00\x00",
				"appendonly.aof.2.incr.aof": good},
			wantOut: "Successfully truncated", wantSize: map[string]int64{"appendonly.aof.1.incr.aof": 54}},
		{name: "unterminated MULTI", manifest: simpleManifest,
			files: map[string]string{"appendonly.aof.1.base.aof": "",
				"appendonly.aof.1.incr.aof": good + resp([]string{"MULTI"}, []string{"SET", "c", "3"})},
			wantErr: true, wantOut: "ok_up_to=54"},
		{name: "bad manifest", manifest: "nonsense\n", files: map[string]string{}, wantErr: true, wantOut: "Invalid manifest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ad := writeDir(t, dir, tc.manifest, tc.files)
			var out strings.Builder
			err := Check(dir, DefaultOptions(dir), tc.fix, &out)
			t.Log(out.String())
			if tc.wantErr != (err != nil) {
				t.Fatalf("Check = %v, want error %v", err, tc.wantErr)
			}
			var ce *CorruptError
			if err != nil && !errors.As(err, &ce) && !strings.Contains(tc.name, "manifest") {
				t.Fatalf("Check = %v, want *CorruptError", err)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Fatalf("output lacks %q", tc.wantOut)
			}
			for name, size := range tc.wantSize {
				if got := fileSize(t, filepath.Join(ad, name)); got != size {
					t.Errorf("%s is %d bytes, want %d", name, got, size)
				}
			}
			// After a successful fix the directory is clean.
			if tc.fix && err == nil {
				if err := Check(filepath.Join(ad, "appendonly.aof.manifest"), DefaultOptions(dir), false, &out); err != nil {
					t.Fatalf("Check after fix = %v", err)
				}
			}
		})
	}
}

func TestCheckRefusesLockedDir(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, testOptions(t, dir))
	var out strings.Builder
	if err := Check(dir, DefaultOptions(dir), true, &out); !errors.Is(err, ErrLocked) {
		t.Fatalf("Check --fix on an open directory = %v, want ErrLocked", err)
	}
	if err := Check(dir, DefaultOptions(dir), false, &out); err != nil {
		t.Fatalf("Check without fix on an open directory = %v", err)
	}
}
