package main

// A minimal RESP2 client. The harness talks to both servers through the
// same few lines of code, so neither pays for a client library's pool or
// retries, and pipelining is explicit: Send queues, Flush writes, Read
// takes one reply.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// conn is one RESP connection. It is not safe for concurrent use.
type conn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// redisError is an error reply, such as "OOM command not allowed ...".
type redisError string

func (e redisError) Error() string { return string(e) }

func dial(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, br: bufio.NewReaderSize(c, 64<<10), bw: bufio.NewWriterSize(c, 64<<10)}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// Send queues one command.
func (c *conn) Send(args ...string) {
	c.bw.WriteByte('*')
	c.bw.WriteString(strconv.Itoa(len(args)))
	c.bw.WriteString("\r\n")
	for _, a := range args {
		c.bw.WriteByte('$')
		c.bw.WriteString(strconv.Itoa(len(a)))
		c.bw.WriteString("\r\n")
		c.bw.WriteString(a)
		c.bw.WriteString("\r\n")
	}
}

// SendBytes queues a command whose last argument is a byte slice.
func (c *conn) SendBytes(cmd, key string, val []byte) {
	c.bw.WriteString("*3\r\n$")
	c.bw.WriteString(strconv.Itoa(len(cmd)))
	c.bw.WriteString("\r\n")
	c.bw.WriteString(cmd)
	c.bw.WriteString("\r\n$")
	c.bw.WriteString(strconv.Itoa(len(key)))
	c.bw.WriteString("\r\n")
	c.bw.WriteString(key)
	c.bw.WriteString("\r\n$")
	c.bw.WriteString(strconv.Itoa(len(val)))
	c.bw.WriteString("\r\n")
	c.bw.Write(val)
	c.bw.WriteString("\r\n")
}

func (c *conn) Flush() error { return c.bw.Flush() }

// Read reads one reply: string for simple and bulk strings, int64, nil for
// a null, []any for arrays, redisError for error replies (returned as the
// error, with a nil value).
func (c *conn) Read() (any, error) {
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
		return nil, redisError(body)
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
			var re redisError
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
func (c *conn) Do(args ...string) (any, error) {
	c.Send(args...)
	if err := c.Flush(); err != nil {
		return nil, err
	}
	return c.Read()
}

// Int runs a command that replies with an integer.
func (c *conn) Int(args ...string) (int64, error) {
	v, err := c.Do(args...)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("%s: want an integer, got %v", args[0], v)
	}
	return n, nil
}
