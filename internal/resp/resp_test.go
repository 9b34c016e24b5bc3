package resp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"reflect"
	"testing"
)

// TestConn: Send encodes strings, byte slices and ints as bulk strings,
// and Read decodes each reply type, an error reply as Error.
func TestConn(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	c := &Conn{c: client, br: bufio.NewReader(client), bw: bufio.NewWriter(client)}
	sent := make(chan string, 1)
	go func() {
		want := "*4\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$2\r\nab\r\n$2\r\n42\r\n"
		buf := make([]byte, len(want))
		io.ReadFull(server, buf)
		sent <- string(buf)
		server.Write([]byte("+OK\r\n:7\r\n$3\r\nabc\r\n$-1\r\n*3\r\n:1\r\n$1\r\nx\r\n-ERR in array\r\n-OOM command not allowed\r\n"))
	}()
	c.Send("LPUSH", "q", []byte("ab"), 42)
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := <-sent; got != "*4\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$2\r\nab\r\n$2\r\n42\r\n" {
		t.Fatalf("sent %q", got)
	}
	for _, want := range []any{"OK", int64(7), "abc", nil, []any{int64(1), "x", nil}} {
		got, err := c.Read()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Read = %#v, %v; want %#v", got, err, want)
		}
	}
	var re Error
	if _, err := c.Read(); !errors.As(err, &re) || string(re) != "OOM command not allowed" {
		t.Fatalf("Read of an error reply = %v", err)
	}
}
