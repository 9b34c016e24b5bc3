package command

import (
	"math"
	"testing"
)

// TestRESPEncodings pins each Writer method's bytes in RESP2 and RESP3:
// the shapes that differ between the protocols are chosen here, once.
func TestRESPEncodings(t *testing.T) {
	for _, tc := range []struct {
		name        string
		write       func(w Writer)
		resp2, rsp3 string
	}{
		{"status", func(w Writer) { w.Status("PONG") }, "+PONG\r\n", "+PONG\r\n"},
		{"ok", func(w Writer) { w.Status("OK") }, "+OK\r\n", "+OK\r\n"},
		{"error", func(w Writer) { w.Error("ERR a\r\nb") }, "-ERR a  b\r\n", "-ERR a  b\r\n"},
		{"int", func(w Writer) { w.Int(-7) }, ":-7\r\n", ":-7\r\n"},
		{"bulk", func(w Writer) { w.Bulk([]byte("ab")) }, "$2\r\nab\r\n", "$2\r\nab\r\n"},
		{"bulk string", func(w Writer) { w.BulkString("") }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"null", func(w Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"array", func(w Writer) { w.ArrayLen(2) }, "*2\r\n", "*2\r\n"},
		{"map", func(w Writer) { w.MapLen(2) }, "*4\r\n", "%2\r\n"},
		{"set", func(w Writer) { w.SetLen(3) }, "*3\r\n", "~3\r\n"},
		{"push", func(w Writer) { w.PushLen(3) }, "*3\r\n", ">3\r\n"},
		{"double", func(w Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"double inf", func(w Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"bool", func(w Writer) { w.Bool(true); w.Bool(false) }, ":1\r\n:0\r\n", "#t\r\n#f\r\n"},
		{"verbatim", func(w Writer) { w.Verbatim("a\r\nb") }, "$4\r\na\r\nb\r\n", "=8\r\ntxt:a\r\nb\r\n"},
	} {
		for proto, want := range map[int]string{2: tc.resp2, 3: tc.rsp3} {
			w := &RESP{Proto: proto}
			tc.write(w)
			if string(w.Buf) != want {
				t.Errorf("%s in RESP%d = %q, want %q", tc.name, proto, w.Buf, want)
			}
			Discard{}.Status("x") // the replay writer takes every shape and keeps nothing
			tc.write(Discard{})
		}
	}
}

// TestRESPLimit: past Limit the reply built so far is dropped, Limited
// and Peak say so, and what follows is cut again.
func TestRESPLimit(t *testing.T) {
	w := &RESP{Proto: 2, Limit: 10}
	w.ArrayLen(2)
	w.BulkString("0123456789")
	if !w.Limited || w.Peak != len("*2\r\n$10\r\n0123456789\r\n") || len(w.Buf) != 0 {
		t.Fatalf("limited %v peak %d buf %q", w.Limited, w.Peak, w.Buf)
	}
	w.Bulk([]byte("0123456789abc"))
	if len(w.Buf) != 0 || w.Peak != len("*2\r\n$10\r\n0123456789\r\n") {
		t.Fatalf("after the limit: buf %q peak %d", w.Buf, w.Peak)
	}
}
