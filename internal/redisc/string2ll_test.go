package redisc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"testing"
)

var string2llCases = []struct {
	s    string
	want int64
	ok   bool
}{
	{"0", 0, true},
	{"1", 1, true},
	{"-1", -1, true},
	{"123456789", 123456789, true},
	{"9223372036854775807", 9223372036854775807, true},
	{"-9223372036854775808", -9223372036854775808, true},
	{"9223372036854775808", 0, false},
	{"-9223372036854775809", 0, false},
	{"18446744073709551615", 0, false},  // fits uint64, not int64
	{"18446744073709551616", 0, false},  // overflows uint64
	{"99999999999999999999", 0, false},  // 20 digits
	{"-99999999999999999999", 0, false}, // 21 bytes
	{"", 0, false},
	{"-", 0, false},
	{"-0", 0, false},
	{"00", 0, false},
	{"01", 0, false},
	{"007", 0, false},
	{"1e3", 0, false},
	{"+1", 0, false},
	{" 1", 0, false},
	{"1 ", 0, false},
	{"1a", 0, false},
	{"1.0", 0, false},
	{"0x10", 0, false},
	{"1\x00", 0, false},
}

func TestString2ll(t *testing.T) {
	for _, tc := range string2llCases {
		t.Run(fmt.Sprintf("%q", tc.s), func(t *testing.T) {
			n, ok := String2ll(tc.s)
			if n != tc.want || ok != tc.ok {
				t.Errorf("String2ll(%q) = %d, %v; want %d, %v", tc.s, n, ok, tc.want, tc.ok)
			}
			n, ok = String2ll([]byte(tc.s))
			if n != tc.want || ok != tc.ok {
				t.Errorf("String2ll([]byte(%q)) = %d, %v; want %d, %v", tc.s, n, ok, tc.want, tc.ok)
			}
			if n, ok := refString2ll(tc.s); n != tc.want || ok != tc.ok {
				t.Errorf("refString2ll says %d, %v: fix the table", n, ok)
			}
		})
	}
}

// refString2ll states string2ll's rules through strconv: the syntax
// 0|-?[1-9][0-9]*, at most 20 bytes, within int64.
func refString2ll(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if s != "0" {
		d := s
		if d[0] == '-' {
			d = d[1:]
		}
		if len(d) == 0 || d[0] < '1' || d[0] > '9' {
			return 0, false
		}
		for i := 0; i < len(d); i++ {
			if d[i] < '0' || d[i] > '9' {
				return 0, false
			}
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

func FuzzString2ll(f *testing.F) {
	for _, tc := range string2llCases {
		f.Add(tc.s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		wn, wok := refString2ll(s)
		if n, ok := String2ll(s); n != wn || ok != wok {
			t.Fatalf("String2ll(%q) = %d, %v; the rules give %d, %v", s, n, ok, wn, wok)
		}
		if n, ok := String2ll([]byte(s)); n != wn || ok != wok {
			t.Fatalf("String2ll([]byte(%q)) = %d, %v; the rules give %d, %v", s, n, ok, wn, wok)
		}
		if wok && strconv.FormatInt(wn, 10) != s {
			t.Fatalf("%q parsed but is not the canonical form of %d", s, wn)
		}
	})
}

func TestStrerror(t *testing.T) {
	_, openErr := os.Open("/nonexistent/mullet")
	tests := []struct {
		err  error
		want string
	}{
		{syscall.ENOSPC, "No space left on device"},
		{syscall.EACCES, "Permission denied"},
		{openErr, "No such file or directory"},
		{&fs.PathError{Op: "write", Path: "f", Err: syscall.EIO}, "Input/output error"},
		{fmt.Errorf("appending: %w", syscall.ENOSPC), "No space left on device"},
		{errors.New("bad thing"), "Bad thing"},
		{errors.New("Already upper"), "Already upper"},
		{errors.New("1 number first"), "1 number first"},
		{errors.New(""), ""},
	}
	for _, tc := range tests {
		if got := Strerror(tc.err); got != tc.want {
			t.Errorf("Strerror(%#v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
