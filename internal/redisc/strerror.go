package redisc

import (
	"errors"
	"syscall"
)

// Strerror returns the text C's strerror(3) gives for the errno err wraps,
// as Redis prints it in replies and logs ("No space left on device"). Go's
// errno texts are glibc's words with the first letter lower-cased, so that
// letter is upper-cased. An err that wraps no errno gives its own text,
// upper-cased the same way, so either kind reads alike after a prefix such
// as "ERR Rewriting config file: ".
func Strerror(err error) string {
	s := err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s = errno.Error()
	}
	if s != "" && 'a' <= s[0] && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
