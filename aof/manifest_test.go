package aof

import (
	"strings"
	"testing"

	"mullet/internal/sdsargs"
)

func TestManifestParseFormat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		out     string // formatted again; empty means same as in
		wantErr string
	}{
		{name: "redis default", in: "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"},
		{name: "history", in: "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.base.aof seq 1 type h\n" +
			"file appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\nfile appendonly.aof.3.incr.aof seq 3 type i\n"},
		{name: "order normalised", in: "file a.1.incr.aof seq 1 type i\nfile a.1.base.aof seq 1 type b\n",
			out: "file a.1.base.aof seq 1 type b\nfile a.1.incr.aof seq 1 type i\n"},
		{name: "space in name is quoted", in: "file \"my aof.1.incr.aof\" seq 1 type i\n"},
		{name: "escapes", in: "file \"a\\\"b\\n\\x01.aof\" seq 1 type i\n"},
		{name: "backslash is a path", in: "file \"a\\\\b\" seq 1 type i\n", wantErr: "path"},
		{name: "single quotes read", in: "file 'x y.aof' seq 1 type i\n", out: "file \"x y.aof\" seq 1 type i\n"},
		{name: "comments and extra keys", in: "# comment\nfile a.aof seq 7 type i extra val\n", out: "file a.aof seq 7 type i\n"},
		{name: "keys in any order and case", in: "TYPE b SEQ 3 FILE x.aof\n", out: "file x.aof seq 3 type b\n"},
		{name: "crlf", in: "file a.aof seq 1 type i\r\n", out: "file a.aof seq 1 type i\n"},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "blank line", in: "file a.aof seq 1 type i\n\n", wantErr: "invalid"},
		{name: "no newline at end", in: "file a.aof seq 1 type i", wantErr: "newline"},
		{name: "too few fields", in: "file a.aof seq 1\n", wantErr: "invalid"},
		{name: "odd fields", in: "file a.aof seq 1 type i x\n", wantErr: "invalid"},
		{name: "path", in: "file ../a.aof seq 1 type i\n", wantErr: "path"},
		{name: "seq zero", in: "file a.aof seq 0 type i\n", wantErr: "invalid"},
		{name: "duplicate base", in: "file a seq 1 type b\nfile b seq 2 type b\n", wantErr: "duplicate"},
		{name: "non-monotonic", in: "file a seq 2 type i\nfile b seq 2 type i\n", wantErr: "non-monotonic"},
		{name: "unknown type", in: "file a seq 1 type x\n", wantErr: "unknown"},
		{name: "unbalanced quote", in: "file \"a seq 1 type i\n", wantErr: "invalid"},
		{name: "quote followed by text", in: "file \"a\"b seq 1 type i\n", wantErr: "invalid"},
		{name: "long line", in: "file " + strings.Repeat("a", 1100) + " seq 1 type i\n", wantErr: "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseManifest([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.out
			if want == "" {
				want = tc.in
			}
			if got := string(m.format()); got != want {
				t.Fatalf("format = %q, want %q", got, want)
			}
			// Round trip: formatting is a fixed point.
			m2, err := parseManifest(m.format())
			if err != nil || string(m2.format()) != want {
				t.Fatalf("round trip: %q, %v", m2.format(), err)
			}
		})
	}
}

func TestQuoteName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"appendonly.aof.1.base.aof", "appendonly.aof.1.base.aof"},
		{"a b", `"a b"`},
		{"tab\there", `"tab\there"`},
		{`q"uote`, `"q\"uote"`},
		{`back\slash`, `"back\\slash"`},
		{"\x00\xff", `"\x00\xff"`},
		{"\a\b\r\n", `"\a\b\r\n"`},
	}
	for _, tc := range tests {
		if got := quoteName(tc.in); got != tc.want {
			t.Errorf("quoteName(%q) = %s, want %s", tc.in, got, tc.want)
		}
		argv, ok := sdsargs.SplitString(quoteName(tc.in))
		if !ok || len(argv) != 1 || argv[0] != tc.in {
			t.Errorf("SplitString(quoteName(%q)) = %q, %v", tc.in, argv, ok)
		}
	}
}

func FuzzManifest(f *testing.F) {
	f.Add("file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n")
	f.Add("file \"a b\\x00\" seq 1 type i\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := parseManifest([]byte(in))
		if err != nil {
			return
		}
		out := m.format()
		m2, err := parseManifest(out)
		if err != nil {
			t.Fatalf("formatted manifest %q does not parse: %v", out, err)
		}
		if string(m2.format()) != string(out) {
			t.Fatalf("format not stable: %q vs %q", m2.format(), out)
		}
	})
}
