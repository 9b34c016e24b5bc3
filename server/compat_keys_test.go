package server

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mullet/rdb"
)

// Differential tests: the same commands go to a real redis-server 7.0 and
// to mullet, and the raw reply bytes must be equal, command by command.
// Only replies that are inherently different are compared loosely: KEYS
// order, SCAN cursors, and TTLs read a few milliseconds apart.

// refRedis is a throwaway redis-server on 127.0.0.1, stopped by PID when
// the test ends. It runs in the C locale, so SORT ALPHA's strcoll is
// bytewise as mullet's is, and with rdbcompression off, the setting under
// which mullet's DUMP of a string is byte-identical to Redis's.
type refRedis struct {
	addr string
	info *raw // a connection for INFO polling
}

// startKeysRedis starts the reference redis-server for these tests: in
// the C locale (startRedis sets it), so SORT ALPHA's strcoll is bytewise
// as mullet's is, and with rdbcompression off, the setting under which
// mullet's DUMP of a string is byte-identical to Redis's.
func startKeysRedis(t *testing.T) *refRedis {
	t.Helper()
	addr := startRedis(t, "--rdbcompression", "no")
	return &refRedis{addr: addr, info: dialRaw(t, addr)}
}

// keysTarget returns the reference for the shared behaviour tests.
func (ref *refRedis) keysTarget() keysTarget {
	return keysTarget{addr: ref.addr, blocked: func() int {
		info := ref.info.do("INFO", "clients")
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "blocked_clients:"); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		return -1 // no such field: waitBlocked times out and says so
	}}
}

// resetErrno makes redis-server accept a connection, which leaves errno
// at EAGAIN. Redis 7.0's SORT tests errno after strtod without clearing
// it, so after an ERANGE every numeric SORT fails until this happens.
func (ref *refRedis) resetErrno(t *testing.T) {
	c := ref.keysTarget().dial(t)
	c.do("PING")
	c.c.Close()
}

// keysPair is one connection to each server.
type keysPair struct {
	t        *testing.T
	ref, mul *raw
}

func newKeysPair(t *testing.T, ref *refRedis, ts *testServer) *keysPair {
	return &keysPair{t: t, ref: ref.keysTarget().dial(t), mul: ts.raw(t)}
}

// both sends args to both servers and returns the replies.
func (p *keysPair) both(args ...string) (ref, mul string) {
	p.t.Helper()
	return p.ref.do(args...), p.mul.do(args...)
}

// same sends args to both and fails unless the replies are identical.
func (p *keysPair) same(args ...string) string {
	p.t.Helper()
	ref, mul := p.both(args...)
	if ref != mul {
		p.t.Errorf("%.120q:\n redis:  %.300q\n mullet: %.300q", args, ref, mul)
	}
	return ref
}

// steps runs a table on both and checks both against its pinned replies.
func (p *keysPair) steps(name string, steps []step) {
	p.t.Helper()
	for i, s := range steps {
		ref, mul := p.both(strings.Fields(s.cmd)...)
		if ref != s.want {
			p.t.Errorf("%s step %d %q: redis-server says %q, the table pins %q", name, i, s.cmd, ref, s.want)
		}
		if mul != s.want {
			p.t.Errorf("%s step %d %q: mullet says %q, the table pins %q", name, i, s.cmd, mul, s.want)
		}
	}
}

// TestCompatKeysTables replays the tables the unit tests pin against a
// live redis-server, so the pinned bytes are Redis's and not our guess.
func TestCompatKeysTables(t *testing.T) {
	ref := startKeysRedis(t)
	ts := startServer(t)
	for _, tc := range []struct {
		name  string
		resp3 bool
		steps []step
	}{
		{"keys", false, keysSteps},
		{"strings", false, stringSteps},
		{"sort", false, sortSteps},
		{"dump", false, dumpSteps},
		{"resp3", true, keysRESP3Steps},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh connection each: redis-server's accept resets the
			// errno INCRBYFLOAT's ERANGE leaves behind (see resetErrno).
			p := newKeysPair(t, ref, ts)
			if tc.resp3 {
				p.both("HELLO", "3") // the greetings differ (id, version, modules)
			}
			p.steps(tc.name, tc.steps)
		})
	}
	t.Run("sort ERANGE", func(t *testing.T) {
		p := newKeysPair(t, ref, ts)
		p.steps("sortRange", sortRangeSteps)
		ref.resetErrno(t)
		// Where strtod's underflow starts: exact subnormals convert,
		// rounded ones and those rounding up to 2^-1022 set ERANGE.
		for _, v := range []string{"0x1p-1074", "0x1p-1030", "-0x1p-1074", "0x1.8p-1074", "4.9406564584124654e-324",
			"2.2250738585072009e-308", "2.2250738585072012e-308", "2.2250738585072014e-308", "1e-320",
			"0x1p-1075", "1.7976931348623158e308", "1.7976931348623159e308", "1e-99999999", "0x0.8p-1021"} {
			p.script("DEL sl", "RPUSH sl "+v, "SORT sl")
			ref.resetErrno(t)
		}
	})
	t.Run("restore", func(t *testing.T) {
		p := newKeysPair(t, ref, ts)
		for i, s := range restoreSteps() {
			r, m := p.both(s.args...)
			if r != s.want || m != s.want {
				t.Errorf("restore step %d %.60q: redis %q, mullet %q, pinned %q", i, s.args, r, m, s.want)
			}
		}
	})
}

// script runs lines of redis-cli syntax on both servers. A line may start
// with a marker: "~" compares array replies as sorted sets (KEYS), "?"
// runs without comparing, "%" compares the key set of a whole SCAN
// iteration (the line holds SCAN's options), "t" compares integer replies
// within 1 (TTLs read a moment apart), and "@gone key" polls both until
// the key has expired.
func (p *keysPair) script(lines ...string) {
	p.t.Helper()
	for _, line := range lines {
		mode := byte(0)
		if line != "" && strings.IndexByte("~?%t@", line[0]) >= 0 {
			mode, line = line[0], line[1:]
		}
		argv, ok := splitArgs([]byte(line), nil)
		if !ok {
			p.t.Fatalf("bad script line %q", line)
		}
		args := make([]string, len(argv))
		for i, a := range argv {
			args[i] = string(a)
		}
		switch mode {
		case 0:
			p.same(args...)
		case '?':
			p.both(args...)
		case '~':
			r, m := p.both(args...)
			rs, ms := parseArrayOfBulks(p.t, r), parseArrayOfBulks(p.t, m)
			slices.Sort(rs)
			slices.Sort(ms)
			if !slices.Equal(rs, ms) || r[:2] != m[:2] {
				p.t.Errorf("%q: redis %q, mullet %q", args, r, m)
			}
		case '%':
			rk, mk := scanKeys(p.t, p.ref, args), scanKeys(p.t, p.mul, args)
			if !slices.Equal(rk, mk) {
				p.t.Errorf("SCAN %q: redis %q, mullet %q", args, rk, mk)
			}
		case 't':
			r, m := p.both(args...)
			rn, err1 := strconv.Atoi(strings.Trim(r, ":\r\n"))
			mn, err2 := strconv.Atoi(strings.Trim(m, ":\r\n"))
			if err1 != nil || err2 != nil || rn-mn > 1 || mn-rn > 1 {
				p.t.Errorf("%q: redis %q, mullet %q", args, r, m)
			}
		case '@':
			waitGone(p.t, p.ref, args[1])
			waitGone(p.t, p.mul, args[1])
		}
	}
}

// scanKeys runs a whole SCAN iteration with the given options and returns
// the keys, sorted and deduplicated.
func scanKeys(t *testing.T, c *raw, opts []string) []string {
	t.Helper()
	var keys []string
	cursor := "0"
	for calls := 0; calls < 100000; calls++ {
		reply := c.do(append([]string{"SCAN", cursor}, opts...)...)
		if !strings.HasPrefix(reply, "*2\r\n") {
			return []string{"error: " + reply}
		}
		elems := parseArrayOfBulks(t, reply)
		cursor = elems[0]
		keys = append(keys, elems[1:]...)
		if cursor == "0" {
			slices.Sort(keys)
			return slices.Compact(keys)
		}
	}
	t.Fatal("SCAN does not terminate")
	return nil
}

func TestCompatKeysScripts(t *testing.T) {
	ref := startKeysRedis(t)
	ts := startServer(t)

	t.Run("keys and scan", func(t *testing.T) {
		p := newKeysPair(t, ref, ts)
		p.script("FLUSHALL")
		for i := range 300 {
			if i%4 == 0 {
				p.script(fmt.Sprintf("RPUSH list:%d a", i))
			} else {
				p.script(fmt.Sprintf("SET str:%d %d", i, i))
			}
		}
		p.script(
			"~KEYS *", "~KEYS list:*", "~KEYS str:1?", "~KEYS *[0-3]", "~KEYS str:\\*", "~KEYS nomatch",
			"%", "%COUNT 1", "%COUNT 1000", "%MATCH list:1*", "%TYPE list", "%TYPE STRING COUNT 3",
			"%TYPE set", "%MATCH *9 TYPE string", "DBSIZE",
			"FLUSHALL", "SET a 1", `SCAN ""`, `SCAN "0\x00x"`, `SCAN "+0"`, `SCAN "-"`, `SCAN " 0"`,
		)
	})

	t.Run("expiry", func(t *testing.T) {
		p := newKeysPair(t, ref, ts)
		payload := string(rdb.EncodeString([]byte("r")))
		p.script(
			"FLUSHALL",
			"SET a 1 PX 30", "RPUSH l x", "PEXPIRE l 30", "SET b 2", "PEXPIRE b 30 NX",
			"SET c 3 PX 30", "GETEX c PX 40", "RESTORE r 30 "+cliQuote(payload),
			"tPTTL a", "tTTL l", "EXPIRE l 100 LT", "PEXPIRE b 5000 GT", "tTTL b",
			"@gone a", "@gone l", "@gone c", "@gone r",
			"GET a", "LLEN l", "EXISTS a l c r", "TYPE l", "TTL b", "DBSIZE", "~KEYS *",
			"SET d 4 PX 30", "@gone d", "GET d", "SET d 5 PX 30", "@gone d", "SET d 6 NX", "GET d",
			"SET e 5 PX 30", "@gone e", "INCR e", "SET f x PX 30", "@gone f", "APPEND f y", "GET f",
			"RPUSH g a", "PEXPIRE g 30", "@gone g", "RPUSHX g b", "LLEN g",
		)
	})

	t.Run("wrongtype", func(t *testing.T) {
		p := newKeysPair(t, ref, ts)
		p.script("FLUSHALL", "SET s x", "RPUSH l a b")
		// Every command that takes a list, given a string, and every one
		// that takes a string, given a list.
		for _, c := range []string{
			"LPUSH s a", "RPUSH s a", "LPUSHX s a", "RPUSHX s a", "LPOP s", "RPOP s", "LPOP s 2", "LLEN s",
			"LRANGE s 0 -1", "LINDEX s 0", "LSET s 0 a", "LINSERT s BEFORE a b", "LREM s 0 a", "LTRIM s 0 1",
			"LPOS s a", "LMOVE s l LEFT LEFT", "LMOVE l s LEFT LEFT", "RPOPLPUSH s l", "RPOPLPUSH l s",
			"LMPOP 2 nosuch s LEFT", "BLPOP s 0.01", "BRPOP nosuch s 0.01", "BLMOVE s l LEFT LEFT 0.01",
			"BRPOPLPUSH l s 0.01", "BLMPOP 0.01 1 s LEFT", "SORT s", "SORT_RO s", "SORT s STORE d",
			"GET l", "SET l v GET", "GETSET l v", "GETDEL l", "GETEX l", "GETEX l PERSIST", "INCR l",
			"INCRBY l 1", "DECR l", "DECRBY l 1", "INCRBYFLOAT l 1", "APPEND l x", "STRLEN l",
			"MGET s l", "SETNX l v", "SET l v NX", "EXISTS s l", "TYPE s", "TYPE l", "LRANGE l 0 -1",
		} {
			p.script(c)
		}
	})

	t.Run("set options", func(t *testing.T) {
		p := newKeysPair(t, ref, ts)
		rng := rand.New(rand.NewPCG(7, 7))
		opts := []string{"NX", "XX", "GET", "KEEPTTL", "EX 100", "PX 100000", "EXAT 4102444800", "PXAT 4102444800000",
			"EX 0", "PX -1", "EX x", "PERSIST", "FOO", "ex 200", "get", "EX"}
		p.script("FLUSHALL")
		for i := range 400 {
			var line strings.Builder
			fmt.Fprintf(&line, "SET k v%d", i)
			for range rng.IntN(4) {
				line.WriteString(" " + opts[rng.IntN(len(opts))])
			}
			p.script(line.String(), "tTTL k")
			switch rng.IntN(6) {
			case 0:
				p.script("DEL k")
			case 1:
				p.script("RPUSH k x")
			}
		}
		eopts := []string{"NX", "XX", "GT", "LT", "nx", "FOO"}
		for range 200 {
			line := fmt.Sprintf("EXPIRE k %d", rng.IntN(300)-20)
			for range rng.IntN(3) {
				line += " " + eopts[rng.IntN(len(eopts))]
			}
			p.script(line, "tTTL k")
			if rng.IntN(5) == 0 {
				p.script("SET k v")
			}
			if rng.IntN(5) == 0 {
				p.script("PERSIST k")
			}
		}
	})

	t.Run("incrbyfloat", func(t *testing.T) {
		p := newKeysPair(t, ref, ts)
		rng := rand.New(rand.NewPCG(3, 4))
		p.script("FLUSHALL")
		for i := range 600 {
			key := fmt.Sprint("f", i%7)
			p.script("INCRBYFLOAT " + key + " " + randFloatString(rng))
			if i%50 == 0 {
				p.script("DEL " + key)
			}
		}
		p.script("MGET f0 f1 f2 f3 f4 f5 f6")
	})

	t.Run("sort", func(t *testing.T) {
		p := newKeysPair(t, ref, ts)
		rng := rand.New(rand.NewPCG(5, 6))
		p.script("FLUSHALL")
		for trial := range 150 {
			n := rng.IntN(60)
			p.script("DEL l dst")
			var elems []string
			for i := range n {
				e := randSortValue(rng, i)
				elems = append(elems, e)
				if rng.IntN(3) > 0 {
					p.script("SET w_" + e + " " + randSortValue(rng, i))
				}
			}
			if n > 0 {
				p.script("RPUSH l " + strings.Join(elems, " "))
			}
			var opt []string
			if rng.IntN(2) == 0 {
				opt = append(opt, []string{"BY w_*", "BY nosort", "BY w_*->f", "BY nosuch_*"}[rng.IntN(4)])
			}
			if rng.IntN(2) == 0 {
				opt = append(opt, fmt.Sprintf("LIMIT %d %d", rng.IntN(n+3)-1, rng.IntN(n+3)-1))
			}
			if rng.IntN(2) == 0 {
				opt = append(opt, "ALPHA")
			}
			if rng.IntN(2) == 0 {
				opt = append(opt, "DESC")
			}
			for range rng.IntN(3) {
				opt = append(opt, []string{"GET #", "GET w_*", "GET nosuch_*"}[rng.IntN(3)])
			}
			rng.Shuffle(len(opt), func(i, j int) { opt[i], opt[j] = opt[j], opt[i] })
			cmd := "SORT l " + strings.Join(opt, " ")
			if trial%3 == 0 {
				p.script(cmd+" STORE dst", "LRANGE dst 0 -1", "TYPE dst")
			} else {
				p.script(cmd)
			}
		}
	})

	t.Run("resp3", func(t *testing.T) {
		p := newKeysPair(t, ref, ts)
		p.both("HELLO", "3")
		p.script("FLUSHALL", "SET k v", "GET nosuch", "MGET k nosuch", "TTL k", "PTTL nosuch",
			"EXPIRETIME k", "INCRBYFLOAT f 2.5", "SET k w GET", "SET k2 v NX GET", "DEL k k2 f",
			"RANDOMKEY", "DUMP nosuch", "RPUSH l 1", "SORT l GET nosuch_*", "SCAN 0", "KEYS *", "SORT_RO l")
		p.both("HELLO", "2")
	})
}

// randFloatString makes INCRBYFLOAT arguments in the forms clients send
// and a few odd ones strtold accepts, with modest exponents.
func randFloatString(rng *rand.Rand) string {
	var b strings.Builder
	if rng.IntN(3) == 0 {
		b.WriteByte('-')
	}
	switch rng.IntN(12) {
	case 0:
		return b.String() + fmt.Sprintf("0x%xp%d", rng.IntN(1<<20), rng.IntN(40)-20)
	case 10:
		// Long mantissas and exponents near both ends of the long double
		// range, where rounding and underflow are decided.
		for range 1 + rng.IntN(40) {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		return b.String() + fmt.Sprintf("e%d", rng.IntN(9900)-4950)
	case 11:
		return b.String() + fmt.Sprintf("0x1.%xp%d", rng.Uint64(), rng.IntN(200)-16500)
	case 1:
		return b.String() + strconv.Itoa(rng.IntN(1000000))
	case 2:
		return b.String() + fmt.Sprintf("%de%d", rng.IntN(1000), rng.IntN(60)-30)
	}
	for range 1 + rng.IntN(8) {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	b.WriteByte('.')
	for range rng.IntN(25) {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	return b.String()
}

// randSortValue makes list elements and weights: numbers in several
// spellings, words, and some that do not convert.
func randSortValue(rng *rand.Rand, i int) string {
	switch rng.IntN(8) {
	case 0:
		return fmt.Sprintf("w%d", rng.IntN(5))
	case 1:
		return fmt.Sprintf("%d.%d", rng.IntN(10), rng.IntN(10))
	case 2:
		return fmt.Sprintf("%de%d", rng.IntN(10), rng.IntN(10))
	case 3:
		if rng.IntN(4) == 0 {
			return "x" + strconv.Itoa(i) // does not convert
		}
		return fmt.Sprint(-rng.IntN(10))
	}
	return strconv.Itoa(rng.IntN(20))
}

// cliQuote quotes s for a script line, every byte as \xHH.
func cliQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "\\x%02x", s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// TestCompatWatch runs the WATCH cases on both servers: whether EXEC
// fails after each command must agree.
func TestCompatWatch(t *testing.T) {
	ref := startKeysRedis(t)
	tm := mulletKeysTarget(startServer(t))
	tr := ref.keysTarget()
	for _, wc := range watchCases() {
		r, m := checkWatch(t, tr, wc), checkWatch(t, tm, wc)
		if r != m {
			t.Errorf("setup %q, then %q: redis EXEC %q, mullet %q", wc.setup, wc.cmd, r, m)
		}
	}
}

// TestCompatBlockedServed checks that each keyspace operation that puts a
// list under a waiting client's key serves it in both servers alike.
func TestCompatBlockedServed(t *testing.T) {
	ref := startKeysRedis(t)
	tm := mulletKeysTarget(startServer(t))
	tr := ref.keysTarget()
	for _, bc := range blockedCases() {
		t.Run(bc.name, func(t *testing.T) {
			r, m := checkBlockedServed(t, tr, bc), checkBlockedServed(t, tm, bc)
			if r != m {
				t.Errorf("redis client got %q, mullet client %q", r, m)
			}
		})
	}
}

// TestCompatDumpInterop moves values both ways: mullet's DUMP restored by
// redis-server, and redis-server's DUMP restored by mullet, TTLs included.
func TestCompatDumpInterop(t *testing.T) {
	ref := startKeysRedis(t)
	ts := startServer(t)
	p := newKeysPair(t, ref, ts)
	p.script("FLUSHALL")
	type value struct {
		key  string
		load [][]string
	}
	var values []value
	for i, s := range []string{"", "0", "-7", "2147483647", "-2147483648", "4294967296", "12.5", "hello",
		strings.Repeat("z", 100), strings.Repeat("ab", 30000)} {
		values = append(values, value{fmt.Sprint("s", i), [][]string{{"SET", fmt.Sprint("s", i), s}}})
	}
	for _, n := range []int{1, 3, 128, 129, 5000, 30000} {
		key := fmt.Sprint("l", n)
		var load [][]string
		args := []string{"RPUSH", key}
		for i := range n {
			var it string
			switch i % 4 {
			case 0:
				it = strconv.Itoa(i)
			case 1:
				it = strconv.Itoa(-i * 1000003)
			case 2:
				it = strings.Repeat("v", i%200)
			default:
				it = fmt.Sprint("item-", i)
			}
			if n == 3 && i == 1 {
				it = strings.Repeat("big", 40000) // a plain quicklist node in Redis
			}
			args = append(args, it)
			if len(args) == 1000 {
				load = append(load, args)
				args = []string{"RPUSH", key}
			}
		}
		if len(args) > 2 {
			load = append(load, args)
		}
		values = append(values, value{key, load})
	}
	read := func(c *raw, key string) string {
		if c.do("TYPE", key) == "+list\r\n" {
			return c.do("LRANGE", key, "0", "-1")
		}
		return c.do("GET", key)
	}
	for _, v := range values {
		for _, cmd := range v.load {
			p.ref.do(cmd...)
			p.mul.do(cmd...)
		}
		p.same("EXPIRE", v.key, "1000")
		want := read(p.mul, v.key)
		// mullet → redis
		body := bulkBody(t, p.mul.do("DUMP", v.key))
		if got := p.ref.do("RESTORE", v.key+":m", "0", body); got != "+OK\r\n" {
			t.Fatalf("redis-server refused mullet's DUMP of %s: %q", v.key, got)
		}
		if got := read(p.ref, v.key+":m"); got != want {
			t.Fatalf("redis-server restored %s differently", v.key)
		}
		// redis → mullet, with its TTL
		pexp := strings.Trim(p.ref.do("PEXPIRETIME", v.key), ":\r\n")
		body = bulkBody(t, p.ref.do("DUMP", v.key))
		if got := p.mul.do("RESTORE", v.key+":r", pexp, body, "ABSTTL"); got != "+OK\r\n" {
			t.Fatalf("mullet refused redis-server's DUMP of %s: %q", v.key, got)
		}
		if got := read(p.mul, v.key+":r"); got != want {
			t.Fatalf("mullet restored redis-server's %s differently", v.key)
		}
		if got := p.mul.do("PEXPIRETIME", v.key+":r"); got != ":"+pexp+"\r\n" {
			t.Fatalf("TTL of %s: %q, want %s", v.key, got, pexp)
		}
		// And back again: mullet's DUMP of what it restored, into Redis.
		body = bulkBody(t, p.mul.do("DUMP", v.key+":r"))
		if got := p.ref.do("RESTORE", v.key+":rr", "0", body); got != "+OK\r\n" {
			t.Fatalf("redis-server refused the round trip of %s: %q", v.key, got)
		}
		if got := read(p.ref, v.key+":rr"); got != want {
			t.Fatalf("the round trip changed %s", v.key)
		}
		if !strings.HasPrefix(v.key, "l") {
			// Strings: byte-identical payloads (rdbcompression no).
			p.same("DUMP", v.key)
		}
	}
}

// TestCompatWatchExpiry: a watched key that expires (and is deleted by a
// read) spoils EXEC, unless it had already expired when it was watched.
func TestCompatWatchExpiry(t *testing.T) {
	ref := startKeysRedis(t)
	ts := startServer(t)
	for _, tg := range []keysTarget{ref.keysTarget(), mulletKeysTarget(ts)} {
		run := func(expireFirst bool) string {
			a, b := tg.dial(t), tg.dial(t)
			b.do("FLUSHALL")
			b.do("SET", "k", "v", "PX", "30")
			if expireFirst {
				waitGone(t, b, "k")
			}
			a.do("WATCH", "k")
			waitGone(t, b, "k")
			a.do("MULTI")
			a.do("PING")
			return a.do("EXEC")
		}
		if got := run(false); got != "*-1\r\n" {
			t.Errorf("%s: key expired after WATCH: EXEC %q", tg.addr, got)
		}
		if got := run(true); got != "*1\r\n+PONG\r\n" {
			t.Errorf("%s: key expired before WATCH: EXEC %q", tg.addr, got)
		}
	}
}

// waitGone polls until key has expired; PTTL's read deletes it.
func waitGone(t *testing.T, c *raw, key string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.do("PTTL", key) != ":-2\r\n" {
		if time.Now().After(deadline) {
			t.Fatalf("%q never expired", key)
		}
		time.Sleep(time.Millisecond)
	}
}
