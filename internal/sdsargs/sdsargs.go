// Package sdsargs is Redis's sdssplitargs (sds.c), the one tokenizer Redis
// uses for configuration lines, inline commands and AOF manifest lines.
// mullet's config, server and aof packages share this port so the three
// cannot drift apart.
package sdsargs

// Split appends the arguments of line to out and returns the extended
// slice, splitting the way sdssplitargs does:
//   - arguments are separated by white space (C's isspace);
//   - "double quotes" understand \n \r \t \b \a and \xHH escapes; a
//     backslash before any other byte stands for that byte, and \x not
//     followed by two hex digits is a plain x;
//   - 'single quotes' understand only \';
//   - a quote may open in the middle of an argument (foo"bar" is foobar),
//     but a closing quote must be followed by white space or the end.
//
// ok is false for an unterminated quote or a closing quote glued to more
// text (sdssplitargs returns NULL); out then holds what was split so far.
//
// Every argument is a fresh copy (an empty one is non-nil), so line may be
// reused at once. The only allocations are the arguments' bytes and out's
// growth: pass a reused out[:0] on a hot path.
//
// line ends at len(line). A NUL byte inside it is where sdssplitargs would
// see the end of its C string: outside quotes it ends the argument (and
// splitting goes on after it), inside quotes it is an ordinary byte, and
// after a closing quote it is glued text. Callers that parse what Redis
// holds as a C string cut line at its first NUL first (see CString).
func Split(line []byte, out [][]byte) (_ [][]byte, ok bool) {
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return out, true
		}
		var cur []byte
		inq, insq := false, false
	token:
		for {
			switch {
			case inq:
				if p >= len(line) {
					return out, false // closing quote missing
				}
				c := line[p]
				if c == '\\' && p+3 < len(line) && line[p+1] == 'x' {
					hi, ok1 := unhex(line[p+2])
					lo, ok2 := unhex(line[p+3])
					if ok1 && ok2 {
						cur = append(cur, hi<<4|lo)
						p += 4
						continue
					}
				}
				switch {
				case c == '\\' && p+1 < len(line):
					p++
					cur = append(cur, unescape(line[p]))
				case c == '"':
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return out, false // closing quote must be followed by a space
					}
					p++
					break token
				default:
					cur = append(cur, c)
				}
				p++
			case insq:
				if p >= len(line) {
					return out, false // closing quote missing
				}
				c := line[p]
				switch {
				case c == '\\' && p+1 < len(line) && line[p+1] == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return out, false // closing quote must be followed by a space
					}
					p++
					break token
				default:
					cur = append(cur, c)
				}
				p++
			default:
				if p >= len(line) {
					break token
				}
				switch c := line[p]; c {
				case ' ', '\n', '\r', '\t', 0:
					p++
					break token
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
				p++
			}
		}
		if cur == nil {
			cur = []byte{}
		}
		out = append(out, cur)
	}
}

// SplitString is Split for a string, returning the arguments as strings;
// args is nil when line holds none.
func SplitString(line string) (args []string, ok bool) {
	parts, ok := Split([]byte(line), nil)
	if !ok {
		return nil, false
	}
	for _, a := range parts {
		args = append(args, string(a))
	}
	return args, true
}

// CString returns line up to its first NUL byte: what C code, Redis's
// included, sees of a buffer it treats as a string.
func CString[T string | []byte](line T) T {
	for i := 0; i < len(line); i++ {
		if line[i] == 0 {
			return line[:i]
		}
	}
	return line
}

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// unescape is the byte a backslash followed by e stands for inside double
// quotes.
func unescape(e byte) byte {
	switch e {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return e
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
