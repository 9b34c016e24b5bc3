package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// A Value is one parsed RESP2 or RESP3 reply, for code that needs its
// shape (the tests comparing COMMAND or CONFIG GET with Redis's, the
// command package reading Redis's embedded COMMAND metadata).
type Value struct {
	Kind  byte    // '+' simple string, '$' bulk, ':' integer, '*' array, '~' set, '%' map, '_' null
	Str   string  // strings
	Num   int64   // integers
	Elems []Value // array and set members; a map's keys and values, alternating
}

// Field returns the value of key in map v.
func (v Value) Field(key string) (Value, bool) {
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if v.Elems[i].Str == key {
			return v.Elems[i+1], true
		}
	}
	return Value{}, false
}

// Parse parses one RESP2/RESP3 value from b and returns the rest of b.
// It knows the types Redis's COMMAND, CONFIG and INFO replies use.
func Parse(b []byte) (Value, []byte, error) {
	i := strings.Index(string(b), "\r\n")
	if len(b) == 0 || i < 0 {
		return Value{}, nil, errors.New("truncated")
	}
	kind, line, rest := b[0], string(b[1:i]), b[i+2:]
	switch kind {
	case '+':
		return Value{Kind: kind, Str: line}, rest, nil
	case '_':
		return Value{Kind: kind}, rest, nil
	case ':':
		n, err := strconv.ParseInt(line, 10, 64)
		return Value{Kind: kind, Num: n}, rest, err
	case '$':
		n, err := strconv.Atoi(line)
		if err != nil || n < 0 || len(rest) < n+2 {
			return Value{}, nil, fmt.Errorf("bad bulk length %q", line)
		}
		return Value{Kind: kind, Str: string(rest[:n])}, rest[n+2:], nil
	case '*', '~', '%':
		n, err := strconv.Atoi(line)
		if err != nil || n < 0 {
			return Value{}, nil, fmt.Errorf("bad length %q", line)
		}
		if kind == '%' {
			n *= 2
		}
		v := Value{Kind: kind, Elems: make([]Value, n)}
		for j := range v.Elems {
			if v.Elems[j], rest, err = Parse(rest); err != nil {
				return Value{}, nil, err
			}
		}
		return v, rest, nil
	}
	return Value{}, nil, fmt.Errorf("unexpected type byte %q", kind)
}

// ReadRaw copies the exact bytes of one RESP2 or RESP3 reply from br to
// out, for tests that compare replies byte for byte.
func ReadRaw(br *bufio.Reader, out *bytes.Buffer) error {
	line, err := br.ReadBytes('\n')
	out.Write(line)
	if err != nil {
		return err
	}
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	n, _ := strconv.Atoi(string(line[1 : len(line)-2]))
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		body := make([]byte, n+2)
		if _, err := io.ReadFull(br, body); err != nil {
			return err
		}
		out.Write(body)
	case '*', '~', '>':
		for i := 0; i < n; i++ {
			if err := ReadRaw(br, out); err != nil {
				return err
			}
		}
	case '%', '|':
		for i := 0; i < 2*n; i++ {
			if err := ReadRaw(br, out); err != nil {
				return err
			}
		}
	}
	return nil
}
