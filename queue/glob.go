package queue

import "mullet/internal/redisc"

// GlobMatch reports whether s matches the glob pattern with Redis's rules
// (util.c stringmatchlen, see redisc.StringMatch): '*' any run, '?' any
// byte, "[abc]", "[^a]", "[a-z]" classes, and '\' quoting the next byte.
// nocase folds ASCII case, as COMMAND LIST FILTERBY PATTERN does.
func GlobMatch(pattern, s []byte, nocase bool) bool {
	return redisc.StringMatch(pattern, s, nocase)
}
