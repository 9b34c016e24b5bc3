package server

import (
	"fmt"
	"testing"
)

// Blocking commands against redis-server: immediate and blocked paths,
// timeouts, fairness, chains, and what happens to a waiter when its key
// changes type.

func TestCompatBlockingTimeouts(t *testing.T) {
	var scripts []compatScript
	// Each timeout argument is tried on BLPOP on a missing key. A valid
	// timeout that has not fired by the push is served by it; a short one
	// answers null; an invalid one answers its error at once.
	for _, tm := range []string{
		"0.05", "-1", "-0.05", "abc", "inf", "+inf", "-inf", "INF", "Infinity", "nan", "1e400", "-1e400",
		"0x10", "0x1p3", "\" 1\"", "\"1 \"", "\"\"", "1e", ".5", "5.", "-0", "1_000", "9223372036854775807",
		"9223372036854776", "9223372036854775", "1e-400", "0.0001", "0.0009", "0.001", "1e1", "3",
		"\"1\\x00garbage\"", "\"\\x00\"", "0X10", "0x1.8p1", "0x", "-0x10", "1e5000", "-1e5000", "1e-5000", "0e5000",
		"0.5e-3", "nan(123)", "-nan", "1.7976931348623157e308", "1e4000",
	} {
		// Long enough for a tiny timeout to fire, short against the
		// long ones; 0.05 gets more room so a slow machine cannot serve
		// it on one server and time it out on the other. (Connection 0
		// opens after the sleep: Redis checks timeouts between event
		// loop iterations, and the accept makes one.)
		pause := "!sleep 30ms"
		if tm == "0.05" {
			pause = "!sleep 250ms"
		}
		scripts = append(scripts, compatScript{name: "timeout " + tm, steps: []string{
			"@1 >BLPOP nosuch " + tm,
			pause,
			"RPUSH nosuch served",
			"@1 <",
		}})
	}
	scripts = append(scripts, compatScript{name: "timeout-arity", steps: []string{
		"BLPOP q", "BLPOP", "BRPOP q", "BLMOVE a b LEFT LEFT", "BRPOPLPUSH a b", "BLMPOP 0", "BLMPOP 0 1",
		"BLPOP q 0.05", "BRPOP q 0.05", "BLMOVE q d LEFT RIGHT 0.05", "BRPOPLPUSH q d 0.05", "BLMPOP 0.05 1 q LEFT",
		"BLMPOP 0.05 2 q r RIGHT COUNT 3",
	}})
	diffScripts(t, scripts)
}

func TestCompatBlockingArgs(t *testing.T) {
	diffScripts(t, []compatScript{
		{name: "immediate", steps: []string{
			"RPUSH k2 a b", "RPUSH k3 c", "BLPOP k1 k2 k3 0", "BRPOP k1 k2 k3 0", "BLPOP k1 k2 k3 0", "EXISTS k2 k3",
			"BLPOP k1 k1 0.01", "RPUSH k1 x", "BLPOP k1 k1 0", "RPUSH src 1 2", "BLMOVE src dst RIGHT LEFT 0",
			"BRPOPLPUSH src dst 0", "LRANGE dst 0 -1", "EXISTS src", "BLMOVE dst dst LEFT RIGHT 0", "LRANGE dst 0 -1",
			"BLMPOP 0 2 nosuch dst RIGHT COUNT 5", "EXISTS dst",
		}},
		{name: "errors", steps: []string{
			"SET s v", "BLPOP s 0", "BLPOP nosuch s 0", "RPUSH l x", "BLPOP s l 0", "BLPOP l s 0",
			"BLMOVE s d LEFT LEFT 0", "RPUSH l x", "BLMOVE l s LEFT LEFT 0", "LLEN l", "BLMOVE nosuch s LEFT LEFT 0.01",
			"BLMOVE l d UP LEFT 0", "BLMOVE l d LEFT UP 0", "BLMOVE l d UP LEFT x", "BLMOVE l d LEFT LEFT x",
			"BLMOVE l d LEFT LEFT -1", "BRPOPLPUSH l d x", "BRPOPLPUSH s d 0", "BRPOPLPUSH l s 0",
			"BLMPOP x 1 l LEFT", "BLMPOP 0 0 l LEFT", "BLMPOP 0 x l LEFT", "BLMPOP 0 -1 l LEFT", "BLMPOP -1 1 l LEFT",
			"BLMPOP x 0 l LEFT", "BLMPOP 0 1 l", "BLMPOP 0 1 l UP", "BLMPOP 0 2 l LEFT", "BLMPOP 0 1 l LEFT COUNT 0",
			"BLMPOP 0 1 l LEFT COUNT -1", "BLMPOP 0 1 l LEFT COUNT x", "BLMPOP 0 1 l LEFT COUNT", "BLMPOP 0 1 l LEFT COUNT 1 COUNT 1",
			"BLMPOP 0 1 l LEFT FOO", "BLMPOP 0 9223372036854775807 l LEFT", "BLMPOP 0 2 s l LEFT", "BLMPOP 0 2 l s LEFT",
			"BLMPOP 0 1 s LEFT", "BLMPOP 0.01 1 nosuch LEFT COUNT 2", "BLMPOP 0.01 2 nosuch s LEFT",
		}},
	})
}

func TestCompatBlockingServed(t *testing.T) {
	diffScripts(t, []compatScript{
		{name: "blpop-served", steps: []string{
			"@1 >BLPOP k1 k2 0", "!wait 1", "RPUSH k2 a b", "@1 <", "LRANGE k2 0 -1", "DEL k2",
			"@1 >BRPOP k1 k2 0", "!wait 1", "LPUSH k1 x y z", "@1 <", "LRANGE k1 0 -1",
			"@1 >BLPOP k k 0", "!wait 1", "RPUSH k only", "@1 <", "EXISTS k",
		}},
		{name: "fifo-3", steps: []string{
			"@1 >BLPOP q 0", "!wait 1", "@2 >BLPOP q 0", "!wait 2", "@3 >BRPOP q 0", "!wait 3",
			"RPUSH q a b c d", "@1 <", "@2 <", "@3 <", "LRANGE q 0 -1", "DEL q",
			"@1 >BLPOP q r 0", "!wait 1", "@2 >BLPOP r q 0", "!wait 2", "@3 >BLPOP r 0", "!wait 3",
			"RPUSH r x", "@1 <", "RPUSH q y", "@2 <", "LPUSH r z", "@3 <",
		}},
		{name: "fewer-items-than-waiters", steps: []string{
			"@1 >BLPOP q 0", "!wait 1", "@2 >BLPOP q 0", "!wait 2", "@3 >BLPOP q 0", "!wait 3",
			"RPUSH q a b", "@1 <", "@2 <", "!wait 1", "EXISTS q", "RPUSH q c", "@3 <",
		}},
		{name: "blmove-served", steps: []string{
			"@1 >BLMOVE src dst RIGHT LEFT 0", "!wait 1", "RPUSH src a b", "@1 <", "LRANGE src 0 -1", "LRANGE dst 0 -1",
			"@1 >BRPOPLPUSH empty dst 0", "!wait 1", "LPUSH empty x", "@1 <", "LRANGE dst 0 -1", "EXISTS empty",
			"@1 >BLMOVE q q LEFT RIGHT 0", "!wait 1", "RPUSH q 1", "@1 <", "LRANGE q 0 -1",
		}},
		{name: "blmove-chain", steps: []string{
			"@1 >BLMOVE k1 k2 RIGHT LEFT 0", "!wait 1", "@2 >BLPOP k2 0", "!wait 2",
			"RPUSH k1 x", "@1 <", "@2 <", "EXISTS k1 k2",
			"@1 >BLMOVE a b LEFT LEFT 0", "!wait 1", "@2 >BLMOVE b c LEFT LEFT 0", "!wait 2", "@3 >BLMOVE c d LEFT LEFT 0", "!wait 3",
			"RPUSH a item", "@1 <", "@2 <", "@3 <", "LRANGE d 0 -1", "EXISTS a b c",
			"@1 >BLMOVE x y LEFT LEFT 0", "!wait 1", "@2 >BLMOVE y x LEFT LEFT 0", "!wait 2",
			"RPUSH x loop", "@1 <", "@2 <", "LRANGE x 0 -1", "LRANGE y 0 -1",
		}},
		{name: "blmpop-served", steps: []string{
			"@1 >BLMPOP 0 2 a b LEFT COUNT 2", "!wait 1", "RPUSH b 1 2 3", "@1 <", "LRANGE b 0 -1",
			"@1 >BLMPOP 0 1 a RIGHT", "!wait 1", "RPUSH a 1 2 3", "@1 <", "LRANGE a 0 -1",
			"@1 >BLMPOP 0 1 c RIGHT COUNT 10", "!wait 1", "RPUSH c 1 2 3", "@1 <", "EXISTS c",
		}},
		{name: "served-by-lmove", steps: []string{
			"@1 >BLPOP dst 0", "!wait 1", "RPUSH src x y", "LMOVE src dst LEFT LEFT", "@1 <", "EXISTS dst",
			"@1 >BRPOP dst 0", "!wait 1", "RPOPLPUSH src dst", "@1 <",
			"@1 >BLPOP dst 0", "!wait 1", "RPUSH src z", "BLMOVE src dst LEFT LEFT 0", "@1 <",
			"@1 >BLPOP dst 0", "!wait 1", "RPUSH src z", "LMPOP 1 src LEFT", "RPUSH dst w", "@1 <",
		}},
		{name: "wrong-type-while-blocked", steps: []string{
			"@1 >BLPOP k 0", "!wait 1", "SET k str", "!sleep 20ms", "GET k", "DEL k", "RPUSH k x", "@1 <",
			"@1 >BLMOVE src dst LEFT LEFT 0", "!wait 1", "SET dst str", "RPUSH src item", "@1 <",
			"LRANGE src 0 -1", "GET dst",
			"DEL dst", "LPOP src", "@1 >BLMOVE src dst LEFT LEFT 0", "!wait 1", "@2 >BLPOP src 0", "!wait 2",
			"SET dst str", "RPUSH src a", "@1 <", "@2 <", "EXISTS src",
		}},
		{name: "disconnect-while-blocked", steps: []string{
			"@1 >BLPOP q 0", "!wait 1", "@1 !close", "!wait 0", "RPUSH q a", "LLEN q",
			"@2 >BLMOVE q2 d LEFT LEFT 0", "!wait 1", "@2 !close", "!wait 0", "RPUSH q2 a", "LLEN q2",
		}},
		{name: "pipelined-after-block", steps: []string{
			`@1 !raw "*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n"`,
			"!wait 1", "RPUSH q a b", "@1 <3", "LLEN q",
			`@1 !raw "BLPOP q2 0\r\nPING\r\n"`, "!wait 1", "RPUSH q2 x", "@1 <2",
		}},
		{name: "select-db", steps: []string{
			"@1 SELECT 1", "@1 >BLPOP q 0", "!wait 1", "RPUSH q db0", "@2 SELECT 1", "@2 RPUSH q db1", "@1 <", "LLEN q",
		}},
		{name: "timeout-then-push", steps: []string{
			"@1 BLPOP q 0.02", "RPUSH q a", "LLEN q", "@1 BLMOVE q2 d LEFT LEFT 0.02", "@1 BLMPOP 0.02 1 q2 LEFT",
			"@1 BRPOPLPUSH q2 d 0.02",
		}},
	})
}

func TestCompatBlockingInMulti(t *testing.T) {
	diffScripts(t, []compatScript{
		{name: "blocking-in-multi", steps: []string{
			"MULTI", "BLPOP q 0", "BRPOP q 0", "BLMOVE q d LEFT LEFT 0", "BRPOPLPUSH q d 0", "BLMPOP 0 1 q LEFT", "EXEC",
			"RPUSH q a b c d e", "MULTI", "BLPOP q 0", "BRPOP q 0", "BLMOVE q d LEFT LEFT 0", "BRPOPLPUSH q d 0",
			"BLMPOP 0 1 q LEFT COUNT 5", "EXEC", "LRANGE d 0 -1",
			"MULTI", "BLPOP q abc", "BLPOP q -1", "BLMPOP 0 0 q LEFT", "EXEC",
		}},
		{name: "push-in-multi-serves-after-exec", steps: []string{
			"@1 >BLPOP q 0", "!wait 1", "MULTI", "RPUSH q a", "LLEN q", "RPUSH q b", "LRANGE q 0 -1", "EXEC", "@1 <", "LRANGE q 0 -1",
			"@1 >BLPOP q2 0", "!wait 1", "MULTI", "RPUSH q2 a", "LPOP q2", "EXEC", "!wait 1", "RPUSH q2 later", "@1 <",
			"@1 >BLPOP q3 0", "!wait 1", "MULTI", "RPUSH q3 a", "DEL q3", "SET q3 s", "EXEC", "!sleep 20ms", "DEL q3", "RPUSH q3 x", "@1 <",
			"@1 >BLMOVE s d LEFT LEFT 0", "!wait 1", "@2 >BLPOP d 0", "!wait 2", "MULTI", "RPUSH s 1 2", "LLEN d", "EXEC", "@1 <", "@2 <", "LRANGE s 0 -1",
		}},
	})
}

func TestCompatBlockingRESP3(t *testing.T) {
	diffScripts(t, []compatScript{
		{name: "resp3-blocking", resp3: true, steps: []string{
			"BLPOP q 0.02", "BLMOVE q d LEFT LEFT 0.02", "BLMPOP 0.02 1 q LEFT", "BRPOPLPUSH q d 0.02",
			"@1 >BLPOP q 0", "!wait 1", "RPUSH q a", "@1 <",
			"@1 >BLMPOP 0 1 q LEFT COUNT 3", "!wait 1", "RPUSH q a b", "@1 <",
			"@1 >BLMOVE q d LEFT LEFT 0", "!wait 1", "RPUSH q a b", "@1 <",
			"MULTI", "BLPOP nosuch 0", "BLMOVE nosuch d LEFT LEFT 0", "EXEC",
		}},
	})
}

func TestCompatClientUnblock(t *testing.T) {
	var scripts []compatScript
	for _, resp3 := range []bool{false, true} {
		for _, cmd := range []string{"BLPOP q 0", "BRPOP q 5", "BLMOVE q d LEFT RIGHT 0", "BRPOPLPUSH q d 0", "BLMPOP 0 2 q r LEFT COUNT 2"} {
			scripts = append(scripts, compatScript{name: fmt.Sprintf("unblock resp3=%v %s", resp3, cmd), resp3: resp3, steps: []string{
				"@1 !id", "@1 >" + cmd, "!wait 1", "!unblock 1", "@1 <", "!unblock 1",
				"@1 >" + cmd, "!wait 1", "!unblock 1 ERROR", "@1 <",
				"@1 >" + cmd, "!wait 1", "!unblock 1 TIMEOUT", "@1 <", "!unblock 1 FOO", "!unblock 999999",
				"RPUSH q after", "LLEN q", "EXISTS d",
			}})
		}
	}
	diffScripts(t, scripts)
}

func TestCompatHello(t *testing.T) {
	diffScripts(t, []compatScript{{name: "hello", steps: []string{
		"#HELLO", "#HELLO 3", "LPOP nosuch", "#HELLO 2", "LPOP nosuch", "#HELLO 3 SETNAME myname", "#HELLO 2 AUTH default x",
		"#HELLO 3 AUTH", "HELLO 3 AUTH default", "#hello 3 setname a setname b",
	}}})
}

func TestCompatBlockedKeyExpires(t *testing.T) {
	diffScripts(t, []compatScript{{name: "expires-while-blocked", steps: []string{
		"RPUSH other x", "@1 >BLPOP q 0", "!wait 1", "RPUSH q a", "@1 <", "@1 >BLPOP q 0", "!wait 1",
		"RPUSH tmp x", "!expire tmp 20", "!sleep 60ms", "EXISTS tmp", "RPUSH q b", "@1 <",
	}}})
}

// Scenarios of Redis's own tests/unit/type/list.tcl, run against both.
func TestCompatListTclScenarios(t *testing.T) {
	diffScripts(t, []compatScript{
		{name: "unblock fairness while pipelining", steps: []string{
			"@1 >BLPOP mylist 0", "!wait 1", `@2 !raw "LPUSH mylist 1\r\nBLPOP mylist 0\r\n"`, "@1 <", "@2 <", "!wait 1",
			"LPUSH mylist 2", "!wait 0", "@2 <",
		}},
		{name: "unblock fairness during nested unblock", steps: []string{
			"@1 >BRPOPLPUSH l1 l3 0", "!wait 1", "@2 >BLPOP l2 0", "!wait 2", "@3 >BLMPOP 0 2 l2 l3 LEFT COUNT 1", "!wait 3",
			"MULTI", "LPUSH l1 1", "LPUSH l2 2", "EXEC", "!wait 0", "@1 <", "@2 <", "@3 <",
		}},
		{name: "two pipelined BLPOPs", steps: []string{
			`@1 !raw "*3\r\n$5\r\nBLPOP\r\n$6\r\nnolist\r\n$1\r\n0\r\n*3\r\n$5\r\nBLPOP\r\n$6\r\nnolist\r\n$1\r\n0\r\n"`,
			"!wait 1", "RPUSH nolist a", "@1 <", "!wait 1", "RPUSH nolist a", "@1 <",
		}},
		{name: "push from BRPOPLPUSH affects WATCH", steps: []string{
			"SET somekey somevalue", "@1 >BRPOPLPUSH srclist dstlist 0", "!wait 1", "@2 WATCH dstlist", "@2 MULTI",
			"@2 GET somekey", "LPUSH srclist element", "@1 <", "@2 EXEC",
		}},
		{name: "BRPOPLPUSH does not affect WATCH while still blocked", steps: []string{
			"SET somekey somevalue", "@1 >BRPOPLPUSH srclist dstlist 0", "!wait 1", "@2 WATCH dstlist", "@2 MULTI",
			"@2 GET somekey", "@2 EXEC",
		}},
		{name: "BRPOPLPUSH wrong destination keeps order", steps: []string{
			"SET target nolist", "@1 >BRPOPLPUSH blist target 0", "!wait 1", "RPUSH blist a b c", "@1 <", "LRANGE blist 0 -1",
			"DEL blist", "SET target1 nolist", "@1 >BRPOPLPUSH blist target1 0", "!wait 1", "@2 >BRPOPLPUSH blist target2 0", "!wait 2",
			"LPUSH blist foo", "@1 <", "@2 <", "LRANGE target2 0 -1",
		}},
		{name: "lmpop illegal arguments", steps: []string{
			"LMPOP", "LMPOP 1", "LMPOP 1 mylist", "LMPOP 0 mylist LEFT", "LMPOP a mylist LEFT", "LMPOP -1 mylist RIGHT",
			"LMPOP 1 mylist bad_where", "LMPOP 1 mylist LEFT bar_arg", "LMPOP 1 mylist RIGHT LEFT", "LMPOP 1 mylist COUNT",
			"LMPOP 1 mylist LEFT COUNT 1 COUNT 2", "LMPOP 2 mylist mylist2 bad_arg", "LMPOP 1 mylist LEFT COUNT 0",
			"LMPOP 1 mylist RIGHT COUNT a", "LMPOP 1 mylist LEFT COUNT -1", "LMPOP 2 mylist mylist2 RIGHT",
			"BLMPOP", "BLMPOP 0", "BLMPOP 0 1", "BLMPOP 0 1 mylist", "BLMPOP 0 0 mylist LEFT", "BLMPOP 0 1 mylist bad_where",
			"BLMPOP -1 1 mylist LEFT", "BLMPOP a 1 mylist LEFT", "BLMPOP 0 1 mylist LEFT COUNT 0",
		}},
		{name: "multi exec isolated from blpop", steps: []string{
			"@1 >BLPOP blist 0", "!wait 1", "MULTI", "LPUSH blist a", "LPUSH blist b", "LPUSH blist c", "EXEC", "@1 <",
		}},
	})
}

func TestCompatWatchStale(t *testing.T) {
	diffScripts(t, []compatScript{
		{name: "stale watched then recreated", steps: []string{
			"RPUSH x a", "!expire x 10", "!sleep 40ms", "WATCH x", "@1 RPUSH x b", "MULTI", "PING", "EXEC",
		}},
		{name: "stale watched untouched", steps: []string{
			"RPUSH x a", "!expire x 10", "!sleep 40ms", "WATCH x", "MULTI", "PING", "EXEC",
		}},
		{name: "stale watched deleted", steps: []string{
			"RPUSH x a", "!expire x 10", "!sleep 40ms", "WATCH x", "@1 DEL x", "MULTI", "PING", "EXEC",
		}},
		{name: "stale watched by two, deleted then recreated", steps: []string{
			"RPUSH x a", "!expire x 10", "!sleep 40ms", "WATCH x", "@1 WATCH x", "@2 LLEN x", "@2 RPUSH x new",
			"MULTI", "PING", "EXEC", "@1 MULTI", "@1 PING", "@1 EXEC",
		}},
		{name: "live watched expires", steps: []string{
			"RPUSH x a", "!expire x 300", "WATCH x", "!sleep 400ms", "MULTI", "PING", "EXEC",
		}},
	})
}
