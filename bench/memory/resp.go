package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// conn is a minimal pipelining RESP2 client: send commands, flush, read
// replies.
type conn struct {
	c  net.Conn
	bw *bufio.Writer
	br *bufio.Reader
}

// replyError is an error reply ("OOM command not allowed ...").
type replyError string

func (e replyError) Error() string { return string(e) }

func dial(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, bw: bufio.NewWriterSize(c, 64<<10), br: bufio.NewReaderSize(c, 64<<10)}, nil
}

func (c *conn) close() { c.c.Close() }

// send buffers one command; args are strings or []byte.
func (c *conn) send(args ...any) {
	fmt.Fprintf(c.bw, "*%d\r\n", len(args))
	for _, a := range args {
		var b []byte
		switch v := a.(type) {
		case string:
			b = []byte(v)
		case []byte:
			b = v
		case int:
			b = strconv.AppendInt(nil, int64(v), 10)
		default:
			panic(fmt.Sprintf("send: %T", a))
		}
		fmt.Fprintf(c.bw, "$%d\r\n", len(b))
		c.bw.Write(b)
		c.bw.WriteString("\r\n")
	}
}

func (c *conn) flush() error { return c.bw.Flush() }

// read returns one reply: string (simple or bulk), int64, nil, []any, or
// a replyError as the error.
func (c *conn) read() (any, error) {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, fmt.Errorf("short reply %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, replyError(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(c.br, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			v, err := c.read()
			var re replyError
			if err != nil && !errors.As(err, &re) {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply %q", line)
}

func (c *conn) do(args ...any) (any, error) {
	c.send(args...)
	if err := c.flush(); err != nil {
		return nil, err
	}
	return c.read()
}

func (c *conn) int(args ...any) (int64, error) {
	v, err := c.do(args...)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("%v: not an integer: %v", args[0], v)
	}
	return n, nil
}
