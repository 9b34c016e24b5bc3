package server

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"mullet/command"
	"mullet/internal/resp"
)

// Differential tests: the same commands sent to mullet and to a live
// redis-server 7.0 must get the same reply bytes.

// w splits a command line on spaces; use a literal []string for arguments
// with spaces or empty ones.
func w(s string) []string { return strings.Fields(s) }

// diffCommands runs cmds in order on one connection to each server and
// requires byte-identical replies. Two exceptions: HELLO's reply holds the
// connection id, and CONFIG GET's pairs come in Redis's hash order, which
// is random per process, so they are compared as sets.
func diffCommands(t *testing.T, ts *testServer, ref string, cmds [][]string) {
	t.Helper()
	ours, theirs := ts.raw(t), dialRaw(t, ref)
	for _, c := range cmds {
		t.Logf("%q", c)
		want, got := theirs.do(c...), ours.do(c...)
		switch {
		case strings.EqualFold(c[0], "hello"):
			continue
		case len(c) > 2 && strings.EqualFold(c[0], "config") && strings.EqualFold(c[1], "get"):
			want, got = sortedPairs(want), sortedPairs(got)
		}
		if got != want {
			t.Errorf("%q:\n mullet       %q\n redis-server %q", c, got, want)
		}
	}
}

// sortedPairs rewrites a map reply (RESP3, or a flat RESP2 array) with its
// pairs sorted, for comparing maps whose order does not matter.
func sortedPairs(reply string) string {
	v, _, err := resp.Parse([]byte(reply))
	if err != nil || len(v.Elems)%2 != 0 {
		return reply
	}
	var pairs []string
	for i := 0; i < len(v.Elems); i += 2 {
		pairs = append(pairs, v.Elems[i].Str+"="+v.Elems[i+1].Str)
	}
	slices.Sort(pairs)
	return string(v.Kind) + strings.Join(pairs, ",")
}

func TestAdminRepliesMatchRedis(t *testing.T) {
	ts := startServer(t)
	ref := startRedis(t)
	resp2 := [][]string{
		// CLIENT
		w("CLIENT GETNAME"), w("CLIENT SETNAME foo"), w("CLIENT GETNAME"),
		{"CLIENT", "SETNAME", "a b"}, {"CLIENT", "SETNAME", ""}, w("CLIENT GETNAME"),
		w("CLIENT NO-EVICT on"), w("CLIENT NO-EVICT off"), w("CLIENT NO-EVICT maybe"), w("CLIENT NO-EVICT"),
		w("CLIENT KILL 1.2.3.4:5"), w("CLIENT KILL ADDR"), w("CLIENT KILL ID x"), w("CLIENT KILL ID 0"),
		w("CLIENT KILL ID 99999"), w("CLIENT KILL TYPE bogus"), w("CLIENT KILL TYPE master"),
		w("CLIENT KILL SKIPME maybe"), w("CLIENT KILL foo bar"), w("CLIENT KILL USER nosuchuser"),
		w("CLIENT KILL MAXAGE 10"), w("CLIENT KILL ID"), w("CLIENT KILL"),
		w("CLIENT LIST TYPE bogus"), w("CLIENT LIST ID x"), w("CLIENT LIST ID"), w("CLIENT LIST foo"),
		w("CLIENT LIST TYPE master"), w("CLIENT LIST TYPE replica"), w("CLIENT LIST TYPE pubsub"),
		w("CLIENT LIST TYPE normal x"), w("CLIENT LIST ID 99999"),
		w("CLIENT PAUSE x"), w("CLIENT PAUSE 10 bogus"), w("CLIENT PAUSE x bogus"), w("CLIENT PAUSE -1"),
		w("CLIENT PAUSE 1 2 3"), w("CLIENT UNPAUSE"), w("CLIENT UNPAUSE x"),
		w("CLIENT UNBLOCK 1 timeout x"), w("CLIENT UNBLOCK x"), w("CLIENT UNBLOCK 99999"),
		w("CLIENT UNBLOCK 99999 bogus"), w("CLIENT REPLY bogus"), w("CLIENT REPLY on x"),
		w("CLIENT nosuch"), w("CLIENT"), w("CLIENT ID x"), w("CLIENT INFO x"), w("CLIENT GETNAME x"),
		w("client Unpause"),
		// CONFIG
		w("CONFIG GET maxmemory"), w("CONFIG GET maxmemory timeout maxclients"), w("CONFIG GET max*clients"),
		w("CONFIG GET nosuch"), w("CONFIG GET"), w("CONFIG SET"), w("CONFIG SET maxmemory"),
		w("CONFIG SET maxmemory 10mb port"), w("CONFIG SET nosuch 1"), w("CONFIG SET maxmemory 10mb timeout x"),
		w("CONFIG SET maxmemory 10mb timeout 5"), w("CONFIG GET maxmemory timeout"),
		w("CONFIG SET maxmemory 0 timeout 0"), w("CONFIG SET daemonize yes"),
		w("CONFIG REWRITE"), w("CONFIG REWRITE x"), w("CONFIG RESETSTAT"), w("CONFIG RESETSTAT x"),
		w("CONFIG nosuch"), w("CONFIG"), w("CONFIG HELP"),
		// COMMAND
		w("COMMAND COUNT x"), w("COMMAND LIST bogus"), w("COMMAND LIST FILTERBY x"),
		w("COMMAND LIST FILTERBY module x"), w("COMMAND LIST FILTERBY pattern x"),
		w("COMMAND INFO nosuch"), w("COMMAND INFO lpush blpop nosuch brpop"), w("COMMAND INFO LPUSH"),
		w("COMMAND INFO client|list config|get"),
		w("COMMAND DOCS nosuch"), w("COMMAND DOCS lpush"), w("COMMAND DOCS rpoplpush blmpop client|kill"),
		w("COMMAND GETKEYS"), w("COMMAND GETKEYS ping"), w("COMMAND GETKEYS ping x"), w("COMMAND GETKEYS get"),
		w("COMMAND GETKEYS get a b"), w("COMMAND GETKEYS get a"), w("COMMAND GETKEYS nosuch a"),
		w("COMMAND GETKEYS client list"), w("COMMAND GETKEYS client nosuch"),
		w("COMMAND GETKEYS lmpop 0 a left"), w("COMMAND GETKEYS lmpop 2 a b left"),
		w("COMMAND GETKEYS lmpop 3 a b left"), w("COMMAND GETKEYS lmpop 9 a b left"),
		w("COMMAND GETKEYS blmpop 0 2 a b right count 3"), w("COMMAND GETKEYS blpop a b 0"),
		w("COMMAND GETKEYS memory usage k"), w("COMMAND GETKEYS del a b c"),
		w("COMMAND GETKEYSANDFLAGS lmove a b left left"), w("COMMAND GETKEYSANDFLAGS lpush a b"),
		w("COMMAND GETKEYSANDFLAGS rpoplpush a b"), w("COMMAND HELP"), w("COMMAND nosuch"),
		// server
		w("ROLE"), w("ROLE x"), w("READONLY"), w("READWRITE"), w("TIME x"), w("LASTSAVE x"),
		w("DEBUG"), w("DEBUG sleep 0"), w("DEBUG nosuch"),
		w("SHUTDOWN ABORT"), w("SHUTDOWN bogus"), w("SHUTDOWN NOSAVE SAVE"), w("SHUTDOWN ABORT NOW"),
		w("BGREWRITEAOF x"), w("BGSAVE x"), w("BGSAVE SCHEDULE x"), w("SAVE x"),
		w("FUNCTION FLUSH"), w("FUNCTION FLUSH ASYNC"), w("FUNCTION FLUSH sync"), w("FUNCTION FLUSH bogus"),
		w("FUNCTION FLUSH a b"), w("FUNCTION"), w("SCRIPT FLUSH"), w("SCRIPT FLUSH SYNC"),
		w("SCRIPT FLUSH x"), w("SCRIPT FLUSH a b"),
		w("MEMORY USAGE nosuch"), w("MEMORY USAGE"), w("MEMORY STATS x"), w("RPUSH k a"),
		w("MEMORY USAGE k bogus"), w("MEMORY USAGE k SAMPLES"), w("MEMORY USAGE k SAMPLES x"),
		w("MEMORY USAGE k SAMPLES -1"), w("MEMORY USAGE nosuch SAMPLES 0"), w("DEL k"),
		w("MEMORY DOCTOR"), w("MEMORY HELP"), w("MEMORY PURGE"), w("MEMORY nosuch"),
		w("LATENCY LATEST"), w("LATENCY HISTORY command"), w("LATENCY RESET"), w("LATENCY RESET a b"),
		w("LATENCY DOCTOR"), w("LATENCY GRAPH command"), w("LATENCY HELP"), w("LATENCY HISTOGRAM nosuch"),
		w("INFO bogus"), w("INFO keyspace"), w("INFO bogus keyspace"), w("INFO cluster"), w("INFO modules"),
		// Inside MULTI: refused before queueing, spoiling the transaction.
		w("MULTI"), w("SHUTDOWN"), w("SAVE"), w("DEBUG sleep 0"), w("CLIENT GETNAME"), w("EXEC"),
		w("MULTI"), w("CLIENT GETNAME"), w("CONFIG GET maxmemory"), w("COMMAND INFO ping"), w("EXEC"),
	}
	resp3 := append([][]string{w("HELLO 3")}, [][]string{
		w("CLIENT GETNAME"), w("CONFIG GET maxmemory"), w("CONFIG GET maxmemory timeout"), w("CONFIG GET nosuch"),
		w("COMMAND INFO nosuch"), w("COMMAND DOCS nosuch"), w("COMMAND INFO lpush blpop"),
		w("COMMAND INFO config|set"), w("COMMAND DOCS lpush config|get"),
		w("COMMAND GETKEYSANDFLAGS lmove a b left left"), w("MEMORY USAGE nosuch"),
		w("LATENCY DOCTOR"), w("MEMORY DOCTOR"), w("INFO bogus"), w("INFO keyspace"), w("ROLE"),
	}...)
	for _, cmds := range [][][]string{resp2, resp3} {
		diffCommands(t, ts, ref, cmds)
	}
}

// TestCommandTableMatchesRedis checks COMMAND as a whole against Redis:
// every command and subcommand mullet lists is one Redis 7.0 has (or one
// of the 7.2 additions mullet implements), COUNT agrees with the table,
// and each INFO entry is Redis's for the same command, but for the
// subcommands, which are mullet's own.
func TestCommandTableMatchesRedis(t *testing.T) {
	ts := startServer(t)
	ours, theirs := ts.raw(t), dialRaw(t, startRedis(t))
	newer := []string{"waitaof", "client|setinfo", "client|no-touch"} // Redis 7.2

	list := func(r *raw) []string {
		v, _, err := resp.Parse([]byte(r.do("COMMAND", "LIST")))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range v.Elems {
			names = append(names, e.Str)
		}
		return names
	}
	redisNames := list(theirs)
	ourNames := list(ours)
	top := 0
	for _, n := range ourNames {
		if !strings.Contains(n, "|") {
			top++
		}
		if !slices.Contains(redisNames, n) && !slices.Contains(newer, n) {
			t.Errorf("COMMAND LIST has %q, which redis-server 7.0 does not", n)
		}
	}
	if got := ours.do("COMMAND", "COUNT"); got != ":"+strconv.Itoa(top)+"\r\n" || top != len(command.Commands()) {
		t.Errorf("COMMAND COUNT = %q; COMMAND LIST has %d commands, the table %d", got, top, len(command.Commands()))
	}
	all, _, _ := resp.Parse([]byte(ours.do("COMMAND")))
	if len(all.Elems) != top {
		t.Errorf("COMMAND has %d entries, COUNT says %d", len(all.Elems), top)
	}
	var redisCount int64
	if v, _, _ := resp.Parse([]byte(theirs.do("COMMAND", "COUNT"))); v.Num > 0 {
		redisCount = v.Num
	}
	if int64(top) > redisCount {
		t.Errorf("mullet has %d commands, more than redis-server's %d", top, redisCount)
	}

	// Each entry is Redis's, field by field, except the subcommand list.
	for _, e := range all.Elems {
		name := e.Elems[0].Str
		if slices.Contains(newer, name) {
			continue
		}
		r, _, _ := resp.Parse([]byte(theirs.do("COMMAND", "INFO", name)))
		want := r.Elems[0]
		if !slices.EqualFunc(e.Elems[:9], want.Elems[:9], rvEqual) {
			t.Errorf("COMMAND INFO %s differs from redis-server's", name)
		}
		for _, sub := range e.Elems[9].Elems {
			if slices.Contains(newer, sub.Elems[0].Str) {
				continue
			}
			i := slices.IndexFunc(want.Elems[9].Elems, func(x resp.Value) bool { return x.Elems[0].Str == sub.Elems[0].Str })
			if i < 0 || !rvEqual(sub, want.Elems[9].Elems[i]) {
				t.Errorf("COMMAND INFO entry of %s differs from redis-server's", sub.Elems[0].Str)
			}
		}
	}
}

func rvEqual(a, b resp.Value) bool {
	return a.Kind == b.Kind && a.Str == b.Str && a.Num == b.Num && slices.EqualFunc(a.Elems, b.Elems, rvEqual)
}

// TestClientListMatchesRedis compares a fresh connection's CLIENT LIST
// and CLIENT INFO lines: the same fields in the same order (mullet adds
// Redis 7.2's lib-name and lib-ver at the end), and the same values for
// everything but ids, addresses and buffer sizes.
func TestClientListMatchesRedis(t *testing.T) {
	ts := startServer(t)
	ours, theirs := ts.raw(t), dialRaw(t, startRedis(t))
	same := []string{"name", "flags", "db", "sub", "psub", "ssub", "multi", "qbuf", "argv-mem",
		"multi-mem", "obl", "oll", "omem", "events", "cmd", "user", "redir", "resp"}
	for _, args := range [][]string{{"CLIENT", "LIST"}, {"CLIENT", "INFO"}, {"CLIENT", "LIST", "TYPE", "normal"}} {
		ourNames, ourVals := parseClientLine(t, clientLines(t, ours.do(args...))[0])
		redisNames, redisVals := parseClientLine(t, clientLines(t, theirs.do(args...))[0])
		if want := append(redisNames, "lib-name", "lib-ver"); !slices.Equal(ourNames, want) {
			t.Errorf("%v fields:\n mullet       %v\n redis-server %v", args, ourNames, want)
		}
		for _, f := range same {
			if ourVals[f] != redisVals[f] {
				t.Errorf("%v %s: mullet %q, redis-server %q", args, f, ourVals[f], redisVals[f])
			}
		}
		// Ages are whole seconds read off two clocks started a moment
		// apart, so a second boundary may fall between them.
		for _, f := range []string{"age", "idle"} {
			a, errA := strconv.Atoi(ourVals[f])
			b, errB := strconv.Atoi(redisVals[f])
			if errA != nil || errB != nil || a < 0 || a > b+1 || b > a+1 {
				t.Errorf("%v %s: mullet %q, redis-server %q", args, f, ourVals[f], redisVals[f])
			}
		}
	}
}
