package server

import (
	"fmt"
	"net"
	"testing"
)

// Hot-path benchmarks: the request parser and the dispatch of the queue
// commands, without the network, so allocations per command show.

// benchClient is a client of a test server that is driven directly: the
// bytes a socket would deliver go into its read buffer, and its replies
// are dropped.
func benchClient(b *testing.B) *client {
	ts := startServer(b)
	c1, c2 := net.Pipe()
	b.Cleanup(func() { c1.Close(); c2.Close() })
	c := newClient(ts.s, c1)
	c.rd.maxBulk = ts.s.cur().MaxBulk
	c.rd.maxQuery = ts.s.cur().MaxQuery
	return c
}

// feed puts req into c's read buffer as a socket read would.
func (c *client) feed(req []byte) {
	buf, err := c.rd.room()
	if err != nil {
		panic(err)
	}
	if len(buf) < len(req) {
		panic("request larger than a read")
	}
	c.rd.w += copy(buf, req)
}

func BenchmarkParse(b *testing.B) {
	for _, n := range []int{1, 16} {
		var req []byte
		for range n {
			req = append(req, encodeCmd([]string{"LPUSH", "queue:jobs", `{"id":12345,"payload":"hello world"}`})...)
		}
		b.Run(fmt.Sprintf("pipeline=%d", n), func(b *testing.B) {
			rr := newReqReader()
			rr.maxBulk = 512 << 20
			rr.authed = func() bool { return true }
			b.SetBytes(int64(len(req)))
			b.ReportAllocs()
			for b.Loop() {
				buf, _ := rr.room()
				rr.w += copy(buf, req)
				for {
					args, err := rr.next()
					if err != nil {
						b.Fatal(err)
					}
					if args == nil {
						break
					}
				}
			}
		})
	}
	b.Run("inline", func(b *testing.B) {
		req := []byte("LPUSH queue:jobs \"hello world\"\r\n")
		rr := newReqReader()
		rr.authed = func() bool { return true }
		b.ReportAllocs()
		for b.Loop() {
			buf, _ := rr.room()
			rr.w += copy(buf, req)
			if args, _ := rr.next(); args == nil {
				b.Fatal("no command")
			}
		}
	})
}

// benchDispatch runs reqs, in a loop, through the client's read buffer,
// parser, dispatcher and handlers.
func benchDispatch(b *testing.B, reqs ...[]string) {
	c := benchClient(b)
	var req []byte
	for _, r := range reqs {
		req = append(req, encodeCmd(r)...)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.feed(req)
		if !c.runBuffered() {
			b.Fatalf("connection closed: %q", c.rw.Buf)
		}
		c.rw.Buf = c.rw.Buf[:0]
	}
}

func BenchmarkDispatchLPushRPop(b *testing.B) {
	benchDispatch(b, []string{"LPUSH", "queue:jobs", `{"id":12345,"payload":"hello world"}`}, []string{"RPOP", "queue:jobs"})
}

func BenchmarkDispatchLPush(b *testing.B) {
	// A queue kept short by an LTRIM now and then would hide nothing:
	// LPUSH alone grows the list, as producers do.
	benchDispatch(b, []string{"LPUSH", "queue:jobs", `{"id":12345,"payload":"hello world"}`})
}

func BenchmarkDispatchRPushLPopCount(b *testing.B) {
	benchDispatch(b, []string{"RPUSH", "q", "a", "b", "c", "d"}, []string{"LPOP", "q", "4"})
}

func BenchmarkDispatchBRPopReady(b *testing.B) {
	benchDispatch(b, []string{"LPUSH", "q", "job"}, []string{"BRPOP", "q", "0"})
}

func BenchmarkDispatchLLen(b *testing.B) {
	benchDispatch(b, []string{"LLEN", "queue:jobs"})
}

func BenchmarkDispatchLRange(b *testing.B) {
	benchDispatch(b, []string{"RPUSH", "q", "a", "b", "c", "d", "e"}, []string{"LRANGE", "q", "0", "-1"}, []string{"DEL", "q"})
}

func BenchmarkDispatchMultiExec(b *testing.B) {
	benchDispatch(b, []string{"MULTI"}, []string{"LPUSH", "q", "a"}, []string{"RPOP", "q"}, []string{"EXEC"})
}
