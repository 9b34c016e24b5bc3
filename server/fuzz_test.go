package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"mullet/command"
	"mullet/internal/resp"
)

// recConn is a connection whose peer sent everything already (reads see
// EOF) and whose writes are recorded: a fuzzed request runs to completion
// without a socket, blocking commands included (their client has "left").
type recConn struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (rc *recConn) Read([]byte) (int, error) { return 0, io.EOF }
func (rc *recConn) Write(p []byte) (int, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.out.Write(p)
}
func (rc *recConn) Close() error                     { return nil }
func (rc *recConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379} }
func (rc *recConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (rc *recConn) SetDeadline(time.Time) error      { return nil }
func (rc *recConn) SetReadDeadline(time.Time) error  { return nil }
func (rc *recConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzRequest feeds arbitrary bytes to a client as one read: parsing and
// running them must never panic, never leave the keyspace locked, and
// every byte written back must be a sequence of whole RESP values.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{
		"*3\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$1\r\na\r\n", "LPUSH q a b\r\nLRANGE q 0 -1\r\n", "*1\r\n$-1\r\n", "*-1\r\n",
		"*0\r\nPING\r\n", "MULTI\r\nLPUSH q a\r\nBLPOP q 0\r\nEXEC\r\n", "BLPOP q 0.01\r\n", "HELLO 3\r\nLPOP q 2\r\n",
		"LPOS q a RANK -1 COUNT 0 MAXLEN 3\r\n", "LMPOP 2 a b LEFT COUNT 2\r\n", "BLMPOP 0 9223372036854775807 a LEFT\r\n",
		"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", "ECHO \"a\\x00\r\n", "*1\rx\r\n$4\r\nPING\r\n", "WATCH q\r\nMULTI\r\nEXEC x\r\n",
		"RPUSH q 1 2 3\r\nLSET q -1 x\r\nLINSERT q BEFORE 2 y\r\nLREM q -9223372036854775808 1\r\nLTRIM q 1 0\r\n",
	} {
		f.Add([]byte(seed))
	}
	ts := startServer(f)
	f.Fuzz(func(t *testing.T, req []byte) {
		rc := &recConn{}
		c := newClient(ts.s, rc)
		func() {
			defer func() {
				if r := recover(); r != nil {
					c.sess.AbandonTx()
					t.Fatalf("panic on %q: %v", req, r)
				}
			}()
			for len(req) > 0 {
				buf, err := c.rd.room()
				if err != nil {
					break
				}
				n := copy(buf, req)
				c.rd.w += n
				req = req[n:]
				if !c.runBuffered() {
					break
				}
			}
			c.flush()
		}()
		// What cleanup does, without the server's client bookkeeping,
		// which this client never entered.
		c.sess.Close()
		tx := ts.ks.Begin() // would deadlock if a handler kept the lock
		tx.FlushAll()
		tx.End()
		if c.sess.Flags()&command.FlagMonitor != 0 {
			ts.s.removeMonitor(c)
		}
		br := bufio.NewReader(bytes.NewReader(rc.out.Bytes()))
		for {
			if _, err := br.Peek(1); err == io.EOF {
				break
			}
			var v bytes.Buffer
			if err := resp.ReadRaw(br, &v); err != nil {
				t.Fatalf("reply to %q is not RESP: %v after %q", req, err, v.String())
			}
		}
	})
}
