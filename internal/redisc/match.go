package redisc

// StringMatch reports whether s matches the glob pattern by the rules of
// Redis's stringmatchlen (util.c), which KEYS, SCAN MATCH, CONFIG GET and
// COMMAND LIST FILTERBY PATTERN use: '*' any run of bytes, '?' any one
// byte, "[abc]", "[^a]" and "[a-z]" classes, and '\' quoting the next
// byte. nocase folds ASCII letters.
//
// Corner cases follow the C code on x86-64, where Redis runs: an empty
// string matches no pattern but the empty one ("*" does not match ""); an
// unterminated class ends the pattern ("[abc" matches "a"); a range's ends
// are swapped if reversed and then compared as signed chars, so "[a-\xff]"
// is the range -1..'a' and matches "0" but not "b". Recursion on '*' stops
// at a nesting of 1000, as in Redis 7 (CVE-2022-36021).
func StringMatch[T string | []byte](pattern, s T, nocase bool) bool {
	skipLonger := false
	return stringMatch(pattern, s, nocase, 0, &skipLonger)
}

// maxNesting bounds the recursion on '*'.
const maxNesting = 1000

// lower is tolower(3) in the C locale.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// stringMatch is the matcher. skipLonger is set once a '*' has tried
// every suffix of s and failed: an outer '*' cannot then succeed by
// matching a longer run, which keeps patterns like "*a*a*a*b" linear
// instead of exponential.
func stringMatch[T string | []byte](p, s T, nocase bool, nesting int, skipLonger *bool) bool {
	if nesting > maxNesting {
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
				if stringMatch(p[1:], s, nocase, nesting+1, skipLonger) {
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
			for len(p) > 0 && p[0] != ']' {
				switch {
				case p[0] == '\\' && len(p) >= 2:
					// Quoted, compared without folding, as in Redis.
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				case len(p) >= 3 && p[1] == '-':
					// C compares chars, which are signed on x86-64.
					start, end, c := int8(p[0]), int8(p[2]), int8(s[0])
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = int8(lower(byte(start))), int8(lower(byte(end))), int8(lower(byte(c)))
					}
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				case p[0] == s[0] || nocase && lower(p[0]) == lower(s[0]):
					match = true
				}
				p = p[1:]
			}
			// p is at the class's ']' or, for an unterminated class, at
			// the end of the pattern: both are consumed below.
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
			if p[0] != s[0] && !(nocase && lower(p[0]) == lower(s[0])) {
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
