package config

// This is Redis's stringmatchlen (util.c) with nocase set, as CONFIG GET
// uses it. queue.GlobMatch is the same algorithm for KEYS; config keeps
// its own copy so that it stays a leaf package (cmd and server import
// config, and queue must not depend on it or the reverse).

// isGlob reports whether CONFIG GET treats pattern as a pattern rather
// than a name: Redis checks strpbrk(name, "[*?"), so a backslash alone
// does not make a pattern.
func isGlob(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '[', '*', '?':
			return true
		}
	}
	return false
}

// globMatch reports whether s matches pattern, ignoring ASCII case: '*'
// any run, '?' any byte, "[abc]", "[^a]", "[a-z]" classes, and '\'
// quoting the next byte.
func globMatch(pattern, s string) bool {
	skip := false
	return globMatchAt(pattern, s, 0, &skip)
}

// maxGlobNesting bounds recursion on '*' (Redis 7 does the same since
// CVE-2022-36021).
const maxGlobNesting = 1000

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// globMatchAt is the recursive matcher. skipLonger is Redis's
// skipLongerMatches: once a '*' has tried every suffix and failed, outer
// '*'s cannot succeed by trying longer matches, which keeps patterns like
// "*a*a*a*b" linear instead of exponential.
func globMatchAt(p, s string, nesting int, skipLonger *bool) bool {
	if nesting > maxGlobNesting {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if globMatchAt(p[1:], s, nesting+1, skipLonger) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) >= 2 && p[0] == '\\' {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if len(p) == 0 {
					// An unterminated class: Redis steps back so the
					// shared "advance the pattern" below lands at the end.
					p = " "
					break
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					start, end := p[0], p[2]
					if start > end {
						start, end = end, start
					}
					// Folded after the swap, as Redis does: [Z-a] then
					// matches nothing.
					start, end, c := lowerByte(start), lowerByte(end), lowerByte(s[0])
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				} else if lowerByte(p[0]) == lowerByte(s[0]) {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if lowerByte(p[0]) != lowerByte(s[0]) {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
