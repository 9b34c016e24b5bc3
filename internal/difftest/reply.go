package difftest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// Reply is one RESP2 or RESP3 reply: its exact bytes, which are what is
// compared, and its parsed shape, which the relaxations and the known
// differences look into.
type Reply struct {
	Raw  []byte   // the reply's bytes as sent, type byte to last CRLF
	Type byte     // '+', '-', ':', '$', '*', '%', '~', '>', '|', ',', '#', '_', '(', '='
	Str  string   // simple/bulk/verbatim string, error, number text; "" for aggregates
	Null bool     // $-1, *-1 or _
	Elem []*Reply // array, set and push elements; map and attribute keys and values in turn
}

// IsErr reports whether r is an error reply.
func (r *Reply) IsErr() bool { return r.Type == '-' || r.Type == '!' }

// Int is the value of an integer reply; ok is false for anything else.
func (r *Reply) Int() (int64, bool) {
	if r.Type != ':' {
		return 0, false
	}
	n, err := strconv.ParseInt(r.Str, 10, 64)
	return n, err == nil
}

// String is the reply's bytes, CRLFs shown as \r\n, for messages.
func (r *Reply) String() string { return strconv.Quote(string(r.Raw)) }

// readReply reads one reply from br.
func readReply(br *bufio.Reader) (*Reply, error) {
	var raw bytes.Buffer
	return readValue(br, &raw)
}

func readLine(br *bufio.Reader, raw *bytes.Buffer) (string, error) {
	line, err := br.ReadString('\n')
	raw.WriteString(line)
	if err != nil {
		return "", err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("difftest: line without CRLF: %q", line)
	}
	return line[:len(line)-2], nil
}

// readValue reads one value into raw and returns it with Raw set to the
// bytes it took (a sub-slice of raw's final buffer is not safe, so each
// value gets its own copy).
func readValue(br *bufio.Reader, raw *bytes.Buffer) (*Reply, error) {
	start := raw.Len()
	line, err := readLine(br, raw)
	if err != nil {
		return nil, err
	}
	if line == "" {
		return nil, fmt.Errorf("difftest: empty reply line")
	}
	r := &Reply{Type: line[0], Str: line[1:]}
	switch r.Type {
	case '+', '-', ':', ',', '#', '(':
	case '_':
		r.Null = true
	case '$', '=', '!':
		n, err := strconv.Atoi(r.Str)
		if err != nil {
			return nil, fmt.Errorf("difftest: bad length %q", line)
		}
		if n < 0 {
			r.Null, r.Str = true, ""
			break
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		raw.Write(buf)
		r.Str = string(buf[:n])
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(r.Str)
		if err != nil {
			return nil, fmt.Errorf("difftest: bad count %q", line)
		}
		r.Str = ""
		if n < 0 {
			r.Null = true
			break
		}
		if r.Type == '%' || r.Type == '|' {
			n *= 2
		}
		for range n {
			e, err := readValue(br, raw)
			if err != nil {
				return nil, err
			}
			r.Elem = append(r.Elem, e)
		}
		if r.Type == '|' { // an attribute precedes the value it describes
			v, err := readValue(br, raw)
			if err != nil {
				return nil, err
			}
			v.Raw = bytes.Clone(raw.Bytes()[start:])
			return v, nil
		}
	default:
		return nil, fmt.Errorf("difftest: unknown reply type %q", line)
	}
	r.Raw = bytes.Clone(raw.Bytes()[start:])
	return r, nil
}
