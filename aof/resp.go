package aof

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
)

// What a file holds
//
// Base and incr files hold Redis commands as RESP arrays of bulk strings,
// exactly as Redis propagates them (catAppendOnlyGenericCommand):
//
//	*3\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$2\r\nv1\r\n
//
// A SELECT precedes a command whose db differs from the previous
// command's, and the first command of every file and of every process
// run. Between commands there may be annotation lines starting with '#'
// and ending in "\r\n"; Redis skips them on load (loadSingleAppendOnlyFile:
// "if (buf[0] == '#') continue") and redis-check-aof accepts them. Redis
// writes "#TS:<unix time>" there when aof-timestamp-enabled is on. Every
// write(2) of ours ends with one:
//
//	#crc32c:1a2b3c4d\r\n
//
// whose value is the CRC-32C (Castagnoli) of every byte since the end of
// the previous '#' line, or since the start of the file. It catches what
// RESP cannot: a flipped byte inside a value, a lost or zeroed block.
// Lines must stay under 1024 bytes: Redis reads them with
// fgets(buf, AOF_ANNOTATION_LINE_MAX_LEN).
//
// Finding the last good record: the scanner reads command by command; a
// command is whole when its last "\r\n" is in the file. A file that ends
// inside a command, inside an annotation line or inside MULTI…EXEC has a
// torn tail: the last whole command (or annotation) ends where the file
// must be cut. A file whose bytes from a command boundary to the end are
// all zero ends there: a crash after the filesystem extended the file but
// before the data reached the disk leaves such a tail.

// castagnoli is CRC-32C; hash/crc32 uses the SSE4.2 instruction for it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const (
	notePrefix = "#crc32c:"
	noteLen    = len(notePrefix) + 8 + 2
	// noteMaxLine is Redis's AOF_ANNOTATION_LINE_MAX_LEN: fgets reads at
	// most 1023 bytes of an annotation, so a longer one breaks Redis.
	noteMaxLine = 1024
)

// appendNote appends the checksum annotation for a span whose CRC-32C is
// sum.
func appendNote(b []byte, sum uint32) []byte {
	const hex = "0123456789abcdef"
	b = append(b, notePrefix...)
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hex[(sum>>uint(shift))&0xf])
	}
	return append(b, '\r', '\n')
}

// appendCommand appends argv as a RESP array of bulk strings.
func appendCommand(b []byte, argv [][]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(argv)), 10)
	b = append(b, '\r', '\n')
	for _, arg := range argv {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(arg)), 10)
		b = append(b, '\r', '\n')
		b = append(b, arg...)
		b = append(b, '\r', '\n')
	}
	return b
}

// appendSelect appends SELECT db as Redis's feedAppendOnlyFile does.
func appendSelect(b []byte, db int) []byte {
	var num [20]byte
	n := strconv.AppendInt(num[:0], int64(db), 10)
	b = append(b, "*2\r\n$6\r\nSELECT\r\n$"...)
	b = strconv.AppendInt(b, int64(len(n)), 10)
	b = append(b, '\r', '\n')
	b = append(b, n...)
	return append(b, '\r', '\n')
}

// What the scanner found.
const (
	itemCommand  = iota // argv holds a command
	itemNote            // an annotation line (verified if it is ours)
	itemEnd             // clean end of file
	itemZeroTail        // the rest of the file is zero bytes
)

// scanError is a problem at a byte offset. truncated means the file ended
// inside a record: a torn tail if it is the last file.
type scanError struct {
	off       int64
	reason    string
	truncated bool
	checksum  bool
}

func (e *scanError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.reason) }

// scanner reads commands from one file with few allocations: the argv
// slices alias its buffer and stay valid only until the next call of next.
type scanner struct {
	rd      io.Reader
	buf     []byte
	mark    int   // buf[mark:] must be kept: the item being scanned
	r, w    int   // unread bytes are buf[r:w]
	off     int64 // file offset of buf[0]
	size    int64 // file size when opened
	eof     bool
	rerr    error // a read error other than EOF
	maxBulk int64
	argv    [][]byte
	offs    []int64 // file offsets of the arguments being scanned

	start     int64  // offset of the item next returned
	spanStart int64  // end of the last '#' line (or 0): where s.crc starts
	crc       uint32 // CRC-32C of the bytes since the last '#' line
	notes     int    // checksum annotations verified
}

const scanBufSize = 1 << 20

func newScanner(rd io.Reader, size, maxBulk int64) *scanner {
	n := int64(scanBufSize)
	if size+1 < n {
		n = size + 1 // avoid allocating 1 MiB for a tiny file
	}
	if n < 512 {
		n = 512
	}
	return &scanner{rd: rd, buf: make([]byte, n), size: size, maxBulk: maxBulk}
}

// pos is the file offset of the next unread byte.
func (s *scanner) pos() int64 { return s.off + int64(s.r) }

// fill makes at least n unread bytes available, unless the file ends
// first; it returns whether they are there. It keeps buf[mark:] and may
// move it to the front. Callers bound n by the file size, so a corrupt
// length never allocates more than the file holds.
func (s *scanner) fill(n int) bool {
	for s.w-s.r < n {
		if s.eof || s.rerr != nil {
			return false
		}
		if s.r+n > len(s.buf) && s.mark > 0 {
			copy(s.buf, s.buf[s.mark:s.w])
			s.off += int64(s.mark)
			s.w -= s.mark
			s.r -= s.mark
			s.mark = 0
		}
		if s.r+n > len(s.buf) {
			size := min(2*len(s.buf), int(s.size-s.off)+1)
			nb := make([]byte, max(s.r+n, size))
			copy(nb, s.buf[:s.w])
			s.buf = nb
		}
		m, err := s.rd.Read(s.buf[s.w:])
		s.w += m
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.rerr = err
		}
	}
	return true
}

// Read lets an RDB loader consume the payload through the scanner's
// buffer, so scanning resumes exactly where the payload ended.
func (s *scanner) Read(p []byte) (int, error) {
	s.mark = s.r
	if s.r == s.w && !s.fill(1) {
		if s.rerr != nil {
			return 0, s.rerr
		}
		return 0, io.EOF
	}
	n := copy(p, s.buf[s.r:s.w])
	s.r += n
	return n, nil
}

func (s *scanner) fail(at int64, truncated bool, format string, args ...any) *scanError {
	return &scanError{off: at, reason: fmt.Sprintf(format, args...), truncated: truncated}
}

// eofError reports the file ending inside the item that started at
// s.start, or a read error.
func (s *scanner) eofError(what string) error {
	if s.rerr != nil {
		return fmt.Errorf("read at offset %d: %w", s.pos(), s.rerr)
	}
	return s.fail(s.start, true, "unexpected end of file inside %s", what)
}

// readNumber parses <prefix><digits>\r\n at the read position and
// consumes it.
func (s *scanner) readNumber(prefix byte, what string) (int64, error) {
	at := s.pos()
	// 21 bytes hold the prefix, 18 digits and CRLF; longer is corrupt.
	if s.w-s.r < 21 {
		s.fill(21)
	}
	b := s.buf[s.r:s.w]
	if len(b) == 0 {
		return 0, s.eofError(what)
	}
	if b[0] != prefix {
		return 0, s.fail(at, false, "expected '%c', got %s", prefix, quoteByte(b[0]))
	}
	var n int64
	i := 1
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i > 18 {
			return 0, s.fail(at, false, "%s has too many digits", what)
		}
		n = n*10 + int64(b[i]-'0')
	}
	if i == len(b) {
		return 0, s.eofError(what)
	}
	if i == 1 {
		return 0, s.fail(at+1, false, "expected a digit in %s, got %s", what, quoteByte(b[i]))
	}
	if b[i] != '\r' {
		return 0, s.fail(at+int64(i), false, "expected '\\r' after %s, got %s", what, quoteByte(b[i]))
	}
	if i+1 == len(b) {
		return 0, s.eofError(what)
	}
	if b[i+1] != '\n' {
		return 0, s.fail(at+int64(i)+1, false, "expected '\\n' after %s, got %s", what, quoteByte(b[i+1]))
	}
	s.r += i + 2
	return n, nil
}

func quoteByte(c byte) string { return strconv.QuoteRune(rune(c)) }

// next scans the next item. For itemCommand, s.argv holds the command
// until the next call.
//
// Ensures:
//   - on success, s.start is the item's offset and s.pos() its end;
//   - s.crc covers every byte from the end of the last '#' line to s.pos();
//   - a *scanError with truncated set means the file ends inside the item
//     at s.start; no byte before s.start is at fault.
func (s *scanner) next() (int, error) {
	s.mark = s.r
	s.start = s.pos()
	if s.r == s.w && !s.fill(1) {
		if s.rerr != nil {
			return 0, s.eofError("file")
		}
		return itemEnd, nil
	}
	switch c := s.buf[s.r]; c {
	case '*':
		if err := s.command(); err != nil {
			return 0, err
		}
		s.crc = crc32.Update(s.crc, castagnoli, s.buf[s.mark:s.r])
		return itemCommand, nil
	case '#':
		return s.note()
	case 0:
		if zero, err := s.restIsZero(); err != nil {
			return 0, err
		} else if zero {
			return itemZeroTail, nil
		}
		return 0, s.fail(s.start, false, "zero byte followed by data where a command should start")
	default:
		return 0, s.fail(s.start, false, "expected '*' or '#' at the start of a command, got %s", quoteByte(c))
	}
}

func (s *scanner) note() (int, error) {
	var line []byte
	for n := 64; ; n *= 2 {
		s.fill(n)
		b := s.buf[s.r:s.w]
		if i := bytes.IndexByte(b[:min(len(b), noteMaxLine)], '\n'); i >= 0 {
			line = b[:i+1]
			break
		}
		if len(b) >= noteMaxLine {
			if len(bytes.TrimLeft(b[:noteMaxLine], "#")) == 0 {
				return s.padLine()
			}
			return 0, s.fail(s.start, false, "annotation line longer than %d bytes", noteMaxLine-1)
		}
		if len(b) < n {
			return 0, s.eofError("an annotation line")
		}
	}
	if bytes.HasPrefix(line, []byte(notePrefix)) {
		if len(line) != noteLen || line[noteLen-2] != '\r' {
			return 0, s.fail(s.start, false, "malformed checksum annotation %q", line)
		}
		want, err := strconv.ParseUint(string(line[len(notePrefix):len(notePrefix)+8]), 16, 32)
		if err != nil {
			return 0, s.fail(s.start, false, "malformed checksum annotation %q", line)
		}
		if uint32(want) != s.crc {
			// Report where the damaged span starts: any byte of it may be
			// the bad one.
			e := s.fail(s.spanStart, false, "checksum mismatch: the bytes from offset %d to %d hash to %08x, "+
				"the annotation at offset %d says %08x", s.spanStart, s.start, s.crc, s.start, want)
			e.checksum = true
			return 0, e
		}
		s.notes++
	}
	s.r += len(line)
	s.crc = 0
	s.spanStart = s.pos()
	return itemNote, nil
}

// padLine skips a line of the writer's padding (see AOF.reserve) that is
// not at the end of the file: redis-server appended after it. Redis skips
// it as an annotation, in pieces; it is read here without buffering it
// whole.
func (s *scanner) padLine() (int, error) {
	for {
		b := s.buf[s.r:s.w]
		i := 0
		for i < len(b) && b[i] == '#' {
			i++
		}
		s.r += i
		s.mark = s.r
		if i < len(b) {
			if b[i] != '\n' {
				return 0, s.fail(s.pos(), false, "padding line broken by %s", quoteByte(b[i]))
			}
			s.r++
			break
		}
		if !s.fill(1) {
			if s.rerr != nil {
				return 0, s.eofError("a padding line")
			}
			break // a last line without its newline, as Redis's fgets reads it
		}
	}
	s.crc = 0
	s.spanStart = s.pos()
	return itemNote, nil
}

// command scans one RESP array of bulk strings into s.argv.
func (s *scanner) command() error {
	argc, err := s.readNumber('*', "the argument count")
	if err != nil {
		return err
	}
	if argc < 1 {
		return s.fail(s.start, false, "argument count %d is less than 1", argc)
	}
	// offs grows by the arguments actually read, never by argc, so a
	// corrupt count cannot allocate.
	s.offs = s.offs[:0]
	for i := int64(0); i < argc; i++ {
		at := s.pos()
		n, err := s.readNumber('$', "a bulk length")
		if err != nil {
			return err
		}
		if n > s.maxBulk {
			return s.fail(at, false, "bulk length %d exceeds MaxBulkLen %d", n, s.maxBulk)
		}
		if s.pos()+n+2 > s.size {
			return s.fail(s.start, true, "unexpected end of file inside a %d-byte argument", n)
		}
		if s.w-s.r < int(n)+2 && !s.fill(int(n)+2) {
			return s.eofError("an argument")
		}
		end := s.r + int(n)
		if s.buf[end] != '\r' || s.buf[end+1] != '\n' {
			return s.fail(s.off+int64(end), false, "expected \"\\r\\n\" after a %d-byte argument, got %q", n, s.buf[end:end+2])
		}
		// Keep file offsets: fill may move the buffer while later
		// arguments are read.
		s.offs = append(s.offs, s.off+int64(s.r), n)
		s.r = end + 2
	}
	s.argv = s.argv[:0]
	for i := 0; i < len(s.offs); i += 2 {
		p := int(s.offs[i] - s.off)
		s.argv = append(s.argv, s.buf[p:p+int(s.offs[i+1]):p+int(s.offs[i+1])])
	}
	return nil
}

// restIsZero reports whether every byte from the read position to the end
// of the file is zero, consuming them if so.
func (s *scanner) restIsZero() (bool, error) {
	for {
		for _, c := range s.buf[s.r:s.w] {
			if c != 0 {
				return false, nil
			}
		}
		s.r = s.w
		s.mark = s.r
		if !s.fill(1) {
			if s.rerr != nil {
				return false, s.eofError("a zero tail")
			}
			return true, nil
		}
	}
}
