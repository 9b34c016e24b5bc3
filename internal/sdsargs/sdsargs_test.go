package sdsargs

import (
	"fmt"
	"testing"
)

// The quoting rules are pinned by config's TestSplitArgs (the same
// function seen through CString); these cases pin what only Split's
// callers see: bytes past a NUL, appending, and empty arguments.
func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string // %q of the arguments; "bad" for ok == false
	}{
		{"empty", "", "[]"},
		{"words", "a  b\tc", `["a" "b" "c"]`},
		{"empty quotes are an argument", `"" ''`, `["" ""]`},
		{"NUL separates outside quotes", "a\x00b", `["a" "b"]`},
		{"NUL alone is an empty argument", "\x00", `[""]`},
		{"NUL is a byte in double quotes", "\"a\x00b\"", `["a\x00b"]`},
		{"NUL is a byte in single quotes", "'a\x00b'", `["a\x00b"]`},
		{"NUL after a closing quote is glued", "\"a\"\x00", "bad"},
		{"hex escape", `"\x41\x7a"`, `["Az"]`},
		{"unterminated", `a "b`, "bad"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Split([]byte(tc.line), nil)
			s := fmt.Sprintf("%q", got)
			if !ok {
				s = "bad"
			}
			if s != tc.want {
				t.Fatalf("Split(%q) = %s, want %s", tc.line, s, tc.want)
			}
			for _, a := range got {
				if a == nil {
					t.Fatalf("Split(%q) returned a nil argument", tc.line)
				}
			}
		})
	}
}

func TestSplitAppends(t *testing.T) {
	out := [][]byte{[]byte("keep")}
	out, ok := Split([]byte(`x "y z"`), out)
	if got := fmt.Sprintf("%q", out); !ok || got != `["keep" "x" "y z"]` {
		t.Fatalf("got %s, %v", got, ok)
	}
}

func TestSplitString(t *testing.T) {
	if args, ok := SplitString("  "); !ok || args != nil {
		t.Fatalf(`SplitString("  ") = %#v, %v; want nil, true`, args, ok)
	}
	if args, ok := SplitString(`'a`); ok || args != nil {
		t.Fatalf(`SplitString("'a") = %#v, %v; want nil, false`, args, ok)
	}
}

func TestCString(t *testing.T) {
	if got := CString("ab\x00cd\x00"); got != "ab" {
		t.Fatalf("CString = %q", got)
	}
	if got := CString([]byte("abc")); string(got) != "abc" {
		t.Fatalf("CString = %q", got)
	}
}

func TestRepr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{"a\"b\\c", `"a\"b\\c"`},
		{"\n\r\t\a\b", `"\n\r\t\a\b"`},
		{"\x00\x1f\x7f\xff", `"\x00\x1f\x7f\xff"`},
	} {
		got := Repr(tc.in)
		if got != tc.want {
			t.Errorf("Repr(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if back, ok := SplitString(got); !ok || len(back) != 1 || back[0] != tc.in {
			t.Errorf("SplitString(Repr(%q)) = %q, %v", tc.in, back, ok)
		}
	}
}
