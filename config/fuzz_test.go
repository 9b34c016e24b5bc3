package config

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// fuzzLoader is a loader that cannot read files: an include in fuzz input
// must not open /dev/zero or anything else on the machine.
func fuzzLoader() *loader {
	l := newLoader(defaults)
	l.read = func(string) ([]byte, error) { return nil, fs.ErrNotExist }
	return l
}

// FuzzParseFile feeds arbitrary bytes to the config file parser. Any input
// gives either a configuration or a *FileError that points at a real
// line, never a panic; and a configuration, written back by CONFIG
// REWRITE and loaded again, is the same configuration.
func FuzzParseFile(f *testing.F) {
	if b, err := os.ReadFile("testdata/article.conf"); err == nil {
		f.Add(b)
	}
	for _, s := range fileCases {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		"save 100 1\nsave \"\"\nsave 200 2\n",
		"bind \"127.0.0.1 ::1\"\nbind '\"a b\"'\n",
		"client-output-buffer-limit normal 1 2 3 pubsub 1gb 2mb 0\n",
		"requirepass \"\\x00\\xff\\n\"\nmasterauth 'it\\'s'\n",
		"consumer-route \"q 1\" t\nconsumer-route q2 t2\n",
		"maxmemory 20000000000gb\nmaxmemory-clients 50%\nsave 1 3000000000\n",
		"shutdown-on-sigint \"save now force\"\nnotify-keyspace-events KEA\n",
		"include /nonexistent\n",
		"PORT 1\r\n  # c\r\n\tHZ 999\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := fuzzLoader()
		err := l.loadBytes("fuzz.conf", data, 0)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("not a *FileError: %#v", err)
			}
			lines := strings.Split(string(data), "\n")
			if fe.Line < 1 || fe.Line > len(lines) || fe.Reason == "" {
				t.Fatalf("bad position: %#v", fe)
			}
			if want := strings.Trim(lines[fe.Line-1], " \t\r\n"); fe.Text != want {
				t.Fatalf("Text %q is not line %d (%q)", fe.Text, fe.Line, want)
			}
			return
		}
		out := rewriteContent(nil, l.st, nil)
		back := fuzzLoader()
		if err := back.loadBytes("rewritten.conf", out, 0); err != nil {
			t.Fatalf("the rewritten file does not load: %v\n%s", err, out)
		}
		for i := range table {
			if a, b := l.st.vals[i].get, back.st.vals[i].get; a != b {
				t.Fatalf("%s: %q, after rewrite %q\n%s", table[i].name, a, b, out)
			}
		}
	})
}

// FuzzSplitArgs checks that Quote is SplitArgs's inverse for anything
// SplitArgs returns.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{"", "a b", `"a\x41" 'b\'c'`, `foo"bar"`, "\"\\xzz\"", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args, err := SplitArgs(line)
		if err != nil {
			return
		}
		var quoted []string
		for _, a := range args {
			quoted = append(quoted, Quote(a))
		}
		again, err := SplitArgs(strings.Join(quoted, " "))
		if err != nil || len(again) != len(args) {
			t.Fatalf("%q -> %q -> %q, %v", line, args, again, err)
		}
		for i := range args {
			if args[i] != again[i] {
				t.Fatalf("%q -> %q -> %q", line, args, again)
			}
		}
	})
}
