package aof

import (
	"bytes"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"command", appendCommand(nil, args("LPUSH", "q", "v1")), "*3\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$2\r\nv1\r\n"},
		{"empty arg", appendCommand(nil, args("SET", "k", "")), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"},
		{"binary arg", appendCommand(nil, [][]byte{[]byte("SET"), {0, '\r', '\n'}}), "*2\r\n$3\r\nSET\r\n$3\r\n\x00\r\n\r\n"},
		{"select 0", appendSelect(nil, 0), "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"},
		{"select 15", appendSelect(nil, 15), "*2\r\n$6\r\nSELECT\r\n$2\r\n15\r\n"},
		{"note", appendNote(nil, 0x1a2b3c4d), "#crc32c:1a2b3c4d\r\n"},
		{"note zero", appendNote(nil, 0), "#crc32c:00000000\r\n"},
	}
	for _, tc := range tests {
		if string(tc.got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// scanAll scans data and returns the commands (as space-joined strings),
// the number of verified notes, and the first error.
func scanAll(data string) ([]string, int, error) {
	sc := newScanner(strings.NewReader(data), int64(len(data)), DefaultMaxBulkLen)
	var out []string
	for {
		kind, err := sc.next()
		if err != nil {
			return out, sc.notes, err
		}
		switch kind {
		case itemEnd:
			return out, sc.notes, nil
		case itemZeroTail:
			out = append(out, "<zero tail>")
			return out, sc.notes, nil
		case itemCommand:
			out = append(out, string(bytes.Join(sc.argv, []byte(" "))))
		}
	}
}

func withNote(s string) string {
	return string(appendNote([]byte(s), crc32.Checksum([]byte(s), castagnoli)))
}

func TestScan(t *testing.T) {
	lpush := resp([]string{"LPUSH", "q", "a"})
	tests := []struct {
		name      string
		in        string
		want      []string
		notes     int
		errAt     int64 // -1: no error
		truncated bool
	}{
		{name: "empty", in: "", errAt: -1},
		{name: "one", in: lpush, want: []string{"LPUSH q a"}, errAt: -1},
		{name: "with note", in: withNote(lpush + lpush), want: []string{"LPUSH q a", "LPUSH q a"}, notes: 1, errAt: -1},
		{name: "redis TS annotation", in: "#TS:1700000000\r\n" + lpush, want: []string{"LPUSH q a"}, errAt: -1},
		{name: "bare LF annotation", in: "#x\n" + lpush, want: []string{"LPUSH q a"}, errAt: -1},
		{name: "empty bulk", in: "*2\r\n$3\r\nDEL\r\n$0\r\n\r\n", want: []string{"DEL "}, errAt: -1},
		{name: "binary bulk", in: "*1\r\n$4\r\n\r\n\r\n\r\n", want: []string{"\r\n\r\n"}, errAt: -1},
		{name: "zero tail", in: lpush + "\x00\x00\x00", want: []string{"LPUSH q a", "<zero tail>"}, errAt: -1},
		{name: "bad note", in: lpush + "#crc32c:00000000\r\n", want: []string{"LPUSH q a"}, errAt: 0},
		{name: "torn count", in: lpush + "*3", want: []string{"LPUSH q a"}, errAt: int64(len(lpush)), truncated: true},
		{name: "torn bulk", in: lpush + "*3\r\n$5\r\nLPU", want: []string{"LPUSH q a"}, errAt: int64(len(lpush)), truncated: true},
		{name: "torn crlf", in: lpush + lpush[:len(lpush)-1], want: []string{"LPUSH q a"}, errAt: int64(len(lpush)), truncated: true},
		{name: "torn note", in: lpush + "#crc32c:12", want: []string{"LPUSH q a"}, errAt: int64(len(lpush)), truncated: true},
		{name: "huge bulk in small file", in: "*1\r\n$99999999\r\n", errAt: 0, truncated: true},
		{name: "bulk over limit", in: "*1\r\n$9999999999\r\n", errAt: 4},
		{name: "garbage", in: lpush + "hello", want: []string{"LPUSH q a"}, errAt: int64(len(lpush))},
		{name: "zero argc", in: "*0\r\n", errAt: 0},
		{name: "negative len", in: "*1\r\n$-1\r\n", errAt: 5},
		{name: "missing crlf after bulk", in: "*1\r\n$1\r\naXY", errAt: 9},
		{name: "bare LF after count", in: "*1\n$1\r\na\r\n", errAt: 2},
		{name: "zeros then data", in: "\x00\x00" + lpush, errAt: 0},
		{name: "many digits", in: "*1234567890123456789012\r\n", errAt: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, notes, err := scanAll(tc.in)
			equalStrings(t, "commands", got, tc.want)
			if notes != tc.notes {
				t.Errorf("notes = %d, want %d", notes, tc.notes)
			}
			var se *scanError
			switch {
			case tc.errAt < 0 && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.errAt >= 0 && !errors.As(err, &se):
				t.Fatalf("err = %v, want a scanError at %d", err, tc.errAt)
			case tc.errAt >= 0 && (se.off != tc.errAt || se.truncated != tc.truncated):
				t.Fatalf("err = %v (truncated %v), want offset %d truncated %v", err, se.truncated, tc.errAt, tc.truncated)
			}
		})
	}
}

// TestScanLargeArgs crosses the scanner's buffer with arguments bigger
// than it, so argv must survive buffer moves.
func TestScanLargeArgs(t *testing.T) {
	big1 := strings.Repeat("x", scanBufSize+123)
	big2 := strings.Repeat("y", 3*scanBufSize)
	data := resp([]string{"SET", "k", big1}, []string{"RPUSH", "q", "a", big2, "b"}, []string{"PING"})
	got, _, err := scanAll(data)
	if err != nil {
		t.Fatal(err)
	}
	equalStrings(t, "commands", got, []string{"SET k " + big1, "RPUSH q a " + big2 + " b", "PING"})
}
