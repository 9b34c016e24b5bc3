package queue

// GlobMatch reports whether s matches the glob pattern with Redis's rules
// (util.c stringmatchlen): '*' any run, '?' any byte, "[abc]", "[^a]",
// "[a-z]" classes, and '\' quoting the next byte. nocase folds ASCII case,
// as CONFIG GET does.
func GlobMatch(pattern, s []byte, nocase bool) bool {
	var skipLonger bool
	return globMatch(pattern, s, nocase, 0, &skipLonger)
}

// maxGlobNesting bounds the recursion on '*', as Redis 7 does against
// patterns like "a*a*a*a*...b" (CVE-2022-36021).
const maxGlobNesting = 1000

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// skipLonger is Redis's skipLongerMatches: once a '*' has tried every
// suffix and failed, no outer '*' can succeed by trying longer ones, which
// keeps "*a*a*a*b" from going exponential.
func globMatch(p, s []byte, nocase bool, nesting int, skipLonger *bool) bool {
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
				if globMatch(p[1:], s, nocase, nesting+1, skipLonger) {
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
				if len(p) == 0 {
					break
				}
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					start, end := p[0], p[2]
					c := s[0]
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				} else if nocase {
					if lower(p[0]) == lower(s[0]) {
						match = true
					}
				} else if p[0] == s[0] {
					match = true
				}
				p = p[1:]
			}
			if len(p) == 0 {
				// Unterminated class: Redis treats the '[' run as ending
				// here, having consumed the pattern.
				p = p[:0]
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
			if nocase {
				if lower(p[0]) != lower(s[0]) {
					return false
				}
			} else if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		if len(p) > 0 {
			p = p[1:]
		}
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
