package server

import (
	"fmt"
	"strings"
	"testing"

	"mullet/internal/sdsargs"
)

// reqReaderSeeds are requests of every shape the parser knows, well formed
// and not; the fuzz targets start from them (and from the files under
// testdata/fuzz).
var reqReaderSeeds = []string{
	"*1\r\n$4\r\nPING\r\n",
	"*3\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$5\r\nhello\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n",
	"PING\r\n", "PING\n", "\r\n\r\nPING\r\n", "RPUSH q \"a b\" 'c\\'d' \"\\x41\\n\"\r\n",
	"PING \"unbalanced\r\n", "PING 'a'b\r\n", "PING\x00junk\r\n",
	"*0\r\n", "*-1\r\n", "*1\r\n$-5\r\n", "*x\r\n", "*1\r\n:5\r\n", "*1\r\n$999999999999\r\n",
	"*1\r\n$01\r\n", "*+1\r\n", "*2\r\n$4\r\nECHO\r\n$3\r\nabcdef\r\n", "*11\r\n", "*1\r\n$16385\r\n",
	"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "*2147483648\r\n", "*1\r\n$4\r\nPI",
}

// FuzzReqReader feeds the same bytes to the request parser whole, a byte
// at a time, and in chunks chosen by the fuzzer: the commands, the error
// and what stays buffered must not depend on how the bytes arrived, and
// nothing may panic.
func FuzzReqReader(f *testing.F) {
	for i, s := range reqReaderSeeds {
		f.Add([]byte(s), []byte{byte(i), 3, 1, 7})
	}
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		// Past the inline limit (64 KiB), when a too-long line is noticed
		// depends on how much has arrived, in Redis as here; and big
		// inputs fed a byte at a time make minimizing crawl.
		if len(data) > 8<<10 {
			return
		}
		authed := len(cuts) == 0 || cuts[0]&1 == 0
		whole := feedReader(data, authed, func() int { return len(data) })
		single := feedReader(data, authed, func() int { return 1 })
		i := 0
		chunked := feedReader(data, authed, func() int {
			if len(cuts) == 0 {
				return 2
			}
			i++
			return int(cuts[i%len(cuts)])%64 + 1
		})
		if whole != single || whole != chunked {
			t.Fatalf("input %q:\nwhole:   %s\nsingle:  %s\nchunked: %s", data, whole, single, chunked)
		}
	})
}

// feedReader runs data through a reqReader the way a connection does (a
// read of at most size() bytes, then every complete command) and returns
// a transcript.
func feedReader(data []byte, authed bool, size func() int) string {
	rr := newReqReader()
	rr.maxBulk = 1 << 20
	rr.authed = func() bool { return authed }
	var out strings.Builder
	for len(data) > 0 {
		buf, err := rr.room()
		if err != nil {
			fmt.Fprintf(&out, "room: %v", err)
			return out.String()
		}
		n := min(len(buf), len(data), max(size(), 1))
		copy(buf, data[:n])
		rr.w += n
		data = data[n:]
		for {
			args, err := rr.next()
			if err != nil {
				fmt.Fprintf(&out, "error: %v", err)
				return out.String()
			}
			if args == nil {
				break
			}
			if len(args) == 0 {
				panic("next returned an empty command")
			}
			for _, a := range args {
				fmt.Fprintf(&out, "%q ", a)
			}
			out.WriteString("| ")
		}
	}
	fmt.Fprintf(&out, "pending %d", rr.pending())
	return out.String()
}

// splitArgs splits a test's command line as Redis splits an inline
// command: sdssplitargs over a C string, so a NUL byte ends the line.
func splitArgs(line []byte, out [][]byte) ([][]byte, bool) {
	return sdsargs.Split(sdsargs.CString(line), out)
}
