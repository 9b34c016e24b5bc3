package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"mullet/config"
	"mullet/queue"
)

// dispatchSeeds are request streams for FuzzDispatch: every command
// family, pipelines, RESP3, transactions, blocking and MONITOR.
var dispatchSeeds = []string{
	"*3\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$1\r\na\r\n*4\r\n$6\r\nLRANGE\r\n$1\r\nq\r\n$1\r\n0\r\n$2\r\n-1\r\n",
	"RPUSH q a b c\r\nLPOP q 2\r\nRPOP q\r\nLLEN q\r\nLINDEX q 0\r\nLSET q 0 x\r\nLPOS q a\r\n",
	"RPUSH q a b c\r\nLINSERT q BEFORE b x\r\nLREM q 0 a\r\nLTRIM q 0 1\r\nLMOVE q r LEFT RIGHT\r\nRPOPLPUSH r q\r\n",
	"RPUSH q a\r\nLMPOP 2 q r LEFT COUNT 5\r\nBLMPOP 0.01 1 q RIGHT\r\nBLPOP q 0.01\r\nBRPOP q 0\r\nPING\r\n",
	"HELLO 3\r\nLPOP nosuch\r\nHELLO 2 SETNAME x\r\nCLIENT ID\r\nSELECT 1\r\nSELECT 99\r\n",
	"MULTI\r\nRPUSH q a\r\nBLPOP q 0\r\nEXEC\r\nWATCH q\r\nMULTI\r\nLLEN q\r\nDISCARD\r\nUNWATCH\r\n",
	"MULTI\r\nNOSUCH\r\nEXEC\r\nMULTI\r\nMULTI\r\nEXEC\r\nEXEC\r\n",
	"SET k v\r\nGET k\r\nDEL k q\r\nEXISTS k\r\nLPUSH k x\r\nGET q\r\n",
	"MONITOR\r\nPING\r\n", "QUIT\r\nPING\r\n", "RESET\r\nPING\r\n", "AUTH x\r\nAUTH default x\r\n",
	"SLOWLOG GET\r\nSLOWLOG LEN\r\nSLOWLOG RESET\r\nSLOWLOG HELP\r\nCLIENT NOSUCH\r\n",
	"CLIENT UNBLOCK 1 ERROR\r\nECHO\r\nPING a b\r\n",
	"CONFIG SET maxmemory 1\r\nRPUSH q a\r\nCONFIG GET maxmem*\r\nCONFIG RESETSTAT\r\nINFO\r\nINFO clients\r\n",
	"CLIENT LIST\r\nCLIENT SETNAME x\r\nCLIENT GETNAME\r\nCLIENT REPLY OFF\r\nPING\r\nCLIENT REPLY ON\r\n",
	"CLIENT PAUSE 10 WRITE\r\nRPUSH q a\r\nCLIENT UNPAUSE\r\nWAITAOF 0 0 10\r\nCOMMAND COUNT\r\nCOMMAND INFO get\r\n",
	"DEBUG SLEEP 0\r\nSHUTDOWN NOSAVE\r\nPING\r\n", "KEYS *\r\nSCAN 0\r\nTYPE q\r\nSORT q ALPHA\r\nDUMP q\r\n",
	"*1\r\n$-5\r\n", "*x\r\n", "PING \"unbalanced\r\n", "*2\r\n$4\r\nECHO\r\n$3\r\nabcdef\r\n",
}

// FuzzDispatch runs arbitrary bytes as one client's input through the
// parser and the dispatcher, against a fresh keyspace: nothing may panic
// (a panic would be recovered in production, but it is a bug) and the
// output must be a sequence of well-formed RESP2/RESP3 values.
func FuzzDispatch(f *testing.F) {
	for _, s := range append(dispatchSeeds, reqReaderSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 16<<10 {
			return
		}
		out := runFuzzClient(t, data)
		if err := checkRESPStream(out); err != nil {
			t.Fatalf("input %q\noutput %q\n%v", data, out, err)
		}
	})
}

// runFuzzClient feeds data to a client of a fresh server and returns what
// the client was sent. The connection has no more to read after data: a
// command that blocks sees the client leave.
func runFuzzClient(t *testing.T, data []byte) []byte {
	set := config.New()
	if err := set.Load("", [][]string{{"appendonly", "no"}, {"databases", "4"}}); err != nil {
		t.Fatal(err)
	}
	ks := queue.New(queue.Config{Databases: 4})
	s := New(Config{Keyspace: ks, Settings: set, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Shutdown: func(bool) {}}) // SHUTDOWN must not end the process or the server under the fuzzer
	conn := &fuzzConn{}
	c := newClient(s, conn)
	s.clients[c.id] = c
	s.wg.Add(1)
	for len(data) > 0 {
		buf, err := c.rd.room()
		if err != nil {
			break
		}
		n := copy(buf, data)
		c.rd.w += n
		data = data[n:]
		if !c.runBuffered() || !c.flush() || c.sess.CloseAfterReply() {
			break
		}
	}
	c.cleanup()
	return conn.out.Bytes()
}

// fuzzConn is the client's socket: writes are kept, reads find the
// client gone.
type fuzzConn struct {
	out bytes.Buffer
}

func (c *fuzzConn) Read([]byte) (int, error)    { return 0, io.EOF }
func (c *fuzzConn) Write(b []byte) (int, error) { return c.out.Write(b) }
func (c *fuzzConn) Close() error                { return nil }
func (c *fuzzConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379} }
func (c *fuzzConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *fuzzConn) SetDeadline(time.Time) error      { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }

var _ net.Conn = (*fuzzConn)(nil)

// checkRESPStream parses b as a sequence of complete RESP2/RESP3 values,
// strictly: lengths must match, lines end in CRLF, simple strings and
// errors hold no CR or LF.
func checkRESPStream(b []byte) error {
	for len(b) > 0 {
		n, err := parseRESPValue(b, 0)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

var errRESPShort = errors.New("truncated RESP value")

// parseRESPValue returns the length of the value at the start of b.
func parseRESPValue(b []byte, depth int) (int, error) {
	if depth > 64 {
		return 0, errors.New("RESP nesting too deep")
	}
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return 0, errRESPShort
	}
	if i == 0 {
		return 0, errors.New("empty RESP line")
	}
	line, rest := b[1:i], i+2
	num := func(allowNeg bool) (int, error) {
		n, err := strconv.Atoi(string(line))
		if err != nil || n < -1 || (n == -1 && !allowNeg) || strconv.Itoa(n) != string(line) {
			return 0, fmt.Errorf("bad length %q", line)
		}
		return n, nil
	}
	switch b[0] {
	case '+', '-':
		if bytes.ContainsAny(line, "\r\n") {
			return 0, fmt.Errorf("CR or LF inside %q", line)
		}
		return rest, nil
	case ':', '(':
		if _, err := strconv.ParseInt(string(line), 10, 64); err != nil && b[0] == ':' {
			return 0, fmt.Errorf("bad integer %q", line)
		}
		return rest, nil
	case ',':
		if _, err := strconv.ParseFloat(string(line), 64); err != nil && string(line) != "inf" && string(line) != "-inf" && string(line) != "nan" {
			return 0, fmt.Errorf("bad double %q", line)
		}
		return rest, nil
	case '#':
		if string(line) != "t" && string(line) != "f" {
			return 0, fmt.Errorf("bad boolean %q", line)
		}
		return rest, nil
	case '_':
		if len(line) != 0 {
			return 0, fmt.Errorf("bad null %q", line)
		}
		return rest, nil
	case '$', '=', '!':
		n, err := num(b[0] == '$')
		if err != nil || n < 0 {
			return rest, err
		}
		if len(b) < rest+n+2 {
			return 0, errRESPShort
		}
		if string(b[rest+n:rest+n+2]) != "\r\n" {
			return 0, fmt.Errorf("bulk of %d not followed by CRLF", n)
		}
		if b[0] == '=' && (n < 4 || b[rest+3] != ':') {
			return 0, errors.New("verbatim string without a format")
		}
		return rest + n + 2, nil
	case '*', '~', '>', '%', '|':
		n, err := num(b[0] == '*')
		if err != nil || n < 0 {
			return rest, err
		}
		if b[0] == '%' || b[0] == '|' {
			n *= 2
		}
		for k := 0; k < n; k++ {
			m, err := parseRESPValue(b[rest:], depth+1)
			if err != nil {
				return 0, err
			}
			rest += m
		}
		return rest, nil
	}
	return 0, fmt.Errorf("unknown RESP type %q", b[0])
}
