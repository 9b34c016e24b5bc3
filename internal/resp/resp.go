// Package resp is the minimal RESP2 client that the benchmark programs
// in bench/ and the tests that talk to a server subprocess share.
//
// It talks to redis-server and mullet through the same few lines, so
// neither pays for a client library's pool or retries, and pipelining is
// explicit: Send queues, Flush writes, Read takes one reply. Tests that
// compare replies byte for byte read them with ReadRaw; tests that want a
// full client use go-redis. Parse reads one RESP2 or RESP3 reply into a
// Value, for code that needs a reply's shape; the command package reads
// Redis's embedded COMMAND metadata with it.
package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Conn is one RESP connection. It is not safe for concurrent use.
type Conn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// Error is an error reply, such as "OOM command not allowed ...".
type Error string

func (e Error) Error() string { return string(e) }

// Dial connects to addr.
func Dial(addr string) (*Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &Conn{c: c, br: bufio.NewReaderSize(c, 64<<10), bw: bufio.NewWriterSize(c, 64<<10)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// SetDeadline bounds the reads and writes until t (net.Conn's), so a
// test fails instead of hanging on a server that stopped answering.
func (c *Conn) SetDeadline(t time.Time) error { return c.c.SetDeadline(t) }

// Send queues one command; its arguments are strings, byte slices or ints.
func (c *Conn) Send(args ...any) {
	c.bw.WriteByte('*')
	c.bw.WriteString(strconv.Itoa(len(args)))
	c.bw.WriteString("\r\n")
	for _, a := range args {
		switch v := a.(type) {
		case string:
			c.bulk(len(v))
			c.bw.WriteString(v)
		case []byte:
			c.bulk(len(v))
			c.bw.Write(v)
		case int:
			s := strconv.Itoa(v)
			c.bulk(len(s))
			c.bw.WriteString(s)
		default:
			panic(fmt.Sprintf("resp: Send of a %T", a))
		}
		c.bw.WriteString("\r\n")
	}
}

func (c *Conn) bulk(n int) {
	c.bw.WriteByte('$')
	c.bw.WriteString(strconv.Itoa(n))
	c.bw.WriteString("\r\n")
}

// Flush writes the queued commands.
func (c *Conn) Flush() error { return c.bw.Flush() }

// Read reads one reply: string for simple and bulk strings, int64, nil for
// a null, []any for arrays, Error for error replies (returned as the
// error, with a nil value).
func (c *Conn) Read() (any, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("bad reply line %q", line)
	}
	body := string(line[1 : len(line)-2])
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, Error(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.br, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			v, err := c.Read()
			var re Error
			if err != nil && !errors.As(err, &re) {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reply type %q", line[0])
}

// Do sends one command and reads its reply.
func (c *Conn) Do(args ...any) (any, error) {
	c.Send(args...)
	if err := c.Flush(); err != nil {
		return nil, err
	}
	return c.Read()
}

// Args turns string arguments into Send's and Do's.
func Args(a ...string) []any {
	out := make([]any, len(a))
	for i, s := range a {
		out[i] = s
	}
	return out
}

// Int runs a command that replies with an integer.
func (c *Conn) Int(args ...any) (int64, error) {
	v, err := c.Do(args...)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("%v: want an integer, got %v", args[0], v)
	}
	return n, nil
}
