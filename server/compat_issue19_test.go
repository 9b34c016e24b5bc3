package server

import "testing"

// Regression tests for the differences issue 19's differential run found,
// each replayed on a live redis-server 7.0 and on mullet.

// TestCompatMoveOntoItselfKeepsTTL: a one-item list moved onto itself is
// popped and pushed on the same object in Redis, so the key keeps its TTL.
func TestCompatMoveOntoItselfKeepsTTL(t *testing.T) {
	ref := startKeysRedis(t)
	ts := startServer(t)
	p := newKeysPair(t, ref, ts)
	for _, move := range []string{"RPOPLPUSH l l", "LMOVE l l LEFT RIGHT", "LMOVE l l RIGHT LEFT",
		"BLMOVE l l LEFT LEFT 0", "BRPOPLPUSH l l 0"} {
		p.script("DEL l", "RPUSH l a", "EXPIRE l 100", move, "tTTL l", "LRANGE l 0 -1",
			"EXPIRE l 200 GT", "tTTL l", "PERSIST l", "TTL l",
			// Two items kept it before the fix too; both must still.
			"RPUSH l b", "PEXPIRE l 100000 NX", move, "tTTL l")
	}
	p.script("DEL l", "RPUSH l a", "EXPIRE l 100", "MULTI", "RPOPLPUSH l l", "TTL l", "EXEC")
}

// TestCompatExpireTimeNearMax: EXPIRETIME rounds without overflowing
// near the largest expiry PEXPIREAT accepts.
func TestCompatExpireTimeNearMax(t *testing.T) {
	ref := startKeysRedis(t)
	ts := startServer(t)
	p := newKeysPair(t, ref, ts)
	for _, at := range []string{"9223372036854775807", "9223372036854775308", "9223372036854775307",
		"9223372036854775806", "9223372036854000000"} {
		p.script("DEL l s", "RPUSH l a", "PEXPIREAT l "+at, "EXPIRETIME l", "PEXPIRETIME l",
			"SET s v PXAT "+at, "EXPIRETIME s", "PEXPIRETIME s",
			"MULTI", "EXPIRETIME l", "PEXPIRETIME s", "EXEC")
	}
}

// TestCompatSortTwoBy: once a BY without '*' was given, Redis does not
// sort, whatever later BY options say.
func TestCompatSortTwoBy(t *testing.T) {
	ref := startKeysRedis(t)
	ts := startServer(t)
	p := newKeysPair(t, ref, ts)
	p.script("DEL l", "RPUSH l b a c", "MSET xa 3 xb 1 xc 2",
		"SORT l BY nosort BY x*", "SORT l BY x* BY nosort", "SORT l BY x*", "SORT l BY nosort BY x* DESC",
		"SORT l BY x* BY x* ALPHA", "SORT l BY nosort BY x* LIMIT 1 1", "SORT_RO l BY k BY x* GET #",
		"SORT l BY nosort BY x* STORE d", "LRANGE d 0 -1")
}

// TestCompatErrorQuotingCRLF: an error that quotes a user's argument last
// has that argument's trailing CRs and LFs trimmed and the inner ones
// turned into spaces (Redis's addReplyErrorFormat), directly and in EXEC.
func TestCompatErrorQuotingCRLF(t *testing.T) {
	ref := startKeysRedis(t)
	ts := startServer(t)
	p := newKeysPair(t, ref, ts)
	p.script("RPUSH l a")
	for _, cmd := range []string{"EXPIRE l 10", "PEXPIRE l 10", "EXPIREAT l 10", "PEXPIREAT l 10"} {
		for _, opt := range []string{`"BAD\r\n"`, `"BAD\n"`, `"B\r\nAD\r"`, `"\r\nBAD"`, `"\r\n"`, `"BAD\x00\r\n"`, `"BAD \n\r"`} {
			p.script(cmd+" "+opt, "MULTI", cmd+" "+opt, "EXEC")
		}
	}
	// Errors that quote an argument before more text are only mapped.
	p.script(`"FOO\r\n"`, `"FOO\r\n" "a\r\n"`, `CLIENT "NOPE\r\n"`, `CONFIG "NOPE\n"`,
		`HELLO 3 "x\r\n"`, `CLIENT KILL TYPE "x\r\n"`)
}

// TestCompatErrorQuotingNUL: Redis quotes a user's argument into an
// error with C's "%s", which ends at the first NUL byte. Found by
// internal/difftest.
func TestCompatErrorQuotingNUL(t *testing.T) {
	ref := startKeysRedis(t)
	ts := startServer(t)
	p := newKeysPair(t, ref, ts)
	p.script(`NOSUCH "a\x00b"`, `"" "a\x00b"`, `"x\x00y" a`, `NOSUCH "\x00" b`, `"BAD\r\n" "c\x00\xeac"`,
		`CLIENT "x\x00y"`, `CLIENT NO-EVICT "\x00"`, `CONFIG "\x00"`,
		"MULTI", `NOSUCH "a\x00b"`, "EXEC",
		`HELLO 2 "\x00"`, `HELLO 3 "a\x00b"`, `HELLO 3 SETNAME n "x\x00y"`, `CLIENT KILL TYPE "x\x00y"`,
		`CLIENT KILL USER "u\x00v"`, `CLIENT LIST TYPE "x\x00y"`, `LATENCY HISTORY "e\x00v"`,
		`CONFIG SET "no\x00such" 1`, `CONFIG GET "a\x00"`)
}

// TestCompatGetKeysAndFlagsSet: SET's key flags depend on GET (Redis's
// setGetKeys, used because its key spec has variable_flags). Found by
// internal/difftest.
func TestCompatGetKeysAndFlagsSet(t *testing.T) {
	ref := startKeysRedis(t)
	ts := startServer(t)
	p := newKeysPair(t, ref, ts)
	lines := []string{"COMMAND GETKEYSANDFLAGS SET k v", "COMMAND GETKEYSANDFLAGS SET k v GET",
		"COMMAND GETKEYSANDFLAGS SET k v EX 10 get", "COMMAND GETKEYSANDFLAGS SET k GET",
		`COMMAND GETKEYSANDFLAGS SET k v "GET\x00x"`, "COMMAND GETKEYSANDFLAGS SET k v GETX",
		"COMMAND GETKEYS SET k v GET", "COMMAND GETKEYSANDFLAGS SET k"}
	p.script(lines...)
	p.both("HELLO", "3") // the greetings differ in the client id
	p.script(lines...)
}

// TestCompatGetKeysSort: SORT's BY/GET and STORE key specs are
// "unknown", so Redis finds its keys with sortGetKeys (the sorted key,
// and the key after the last STORE). Found by internal/difftest.
func TestCompatGetKeysSort(t *testing.T) {
	ref := startKeysRedis(t)
	ts := startServer(t)
	p := newKeysPair(t, ref, ts)
	var lines []string
	for _, sub := range []string{"GETKEYS", "GETKEYSANDFLAGS"} {
		for _, args := range []string{"SORT k", "SORT k STORE d", "SORT k STORE d STORE e", "SORT k STORE",
			"SORT k LIMIT 0 1 STORE d", "SORT k LIMIT STORE d x", "SORT k BY STORE d", "SORT k GET STORE",
			"SORT k STORE limit x y", `SORT k "STORE\x00" d`, "SORT k ALPHA store d DESC", "SORT_RO k",
			"SORT_RO k STORE d", "SORT_RO k BY x GET y"} {
			lines = append(lines, "COMMAND "+sub+" "+args)
		}
	}
	p.script(lines...)
	p.both("HELLO", "3") // the greetings differ in the client id
	p.script(lines...)
}
