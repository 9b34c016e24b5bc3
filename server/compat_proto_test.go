package server

import (
	"fmt"
	"strings"
	"testing"
)

// The wire protocol against redis-server: inline commands, malformed
// requests, limits, pipelining, split writes, RESP3.

func TestCompatInline(t *testing.T) {
	var scripts []compatScript
	for i, line := range []string{
		`PING`, `ping`, `PING hello`, `ECHO "a b"`, `ECHO 'a b'`, `ECHO "\x41\x4a"`, `ECHO "\xZZ"`, `ECHO "\x4"`,
		`ECHO "a\nb\r\tc\bd\ae\\f\"g"`, `ECHO 'it\'s'`, `ECHO 'a\nb'`, `ECHO "a"b`, `ECHO 'a'b`, `ECHO "unterminated`,
		`ECHO 'unterminated`, `ECHO ""`, `ECHO ''`, `RPUSH q "" '' x`, "ECHO \t tabbed", "   PING   ", `ECHO "\"`,
		`ECHO "a\"`, `ECHO \x41`, `ECHO a"b"`, `ECHO "a" "b"`, `ECHO "é"`, `NOSUCH a b`, `"PING"`,
		`'PING'`, `ECHO`, "ECHO a\rb",
	} {
		scripts = append(scripts, compatScript{name: fmt.Sprintf("inline %d %q", i, line), steps: []string{
			rawStep(0, []byte(line+"\r\n")), "<", "PING",
		}})
	}
	// Redis finds the end of an inline line with strchr: after a NUL byte
	// the line never ends, and the client waits forever.
	for _, line := range []string{"ECHO a\x00b", "\x00PING"} {
		scripts = append(scripts, compatScript{name: fmt.Sprintf("inline NUL %q", line), steps: []string{
			rawStep(0, []byte(line+"\r\nPING\r\n")), "!closed",
		}})
	}
	scripts = append(scripts,
		compatScript{name: "inline LF only", steps: []string{rawStep(0, []byte("PING\nECHO x\n")), "<2"}},
		compatScript{name: "inline empty lines", steps: []string{rawStep(0, []byte("\r\n\r\n\n  \r\nPING\r\n")), "<", "PING"}},
		compatScript{name: "inline CR inside", steps: []string{rawStep(0, []byte("ECHO a\rb c\r\n")), "<", "PING"}},
		compatScript{name: "inline then multibulk", steps: []string{rawStep(0, []byte("PING\r\n*1\r\n$4\r\nPING\r\nPING\r\n")), "<3"}},
		compatScript{name: "inline RPUSH then LRANGE", steps: []string{rawStep(0, []byte("RPUSH q \"a b\" 'c\\'d' \"\\x41\\n\"\r\nLRANGE q 0 -1\r\n")), "<2"}},
		compatScript{name: "inline unbalanced closes", steps: []string{rawStep(0, []byte("PING\r\nECHO \"x\r\nPING\r\n")), "<", "!closed"}},
		compatScript{name: "inline too big", steps: []string{rawStep(0, []byte(strings.Repeat("a", 70*1024))), "!closed"}},
		compatScript{name: "inline just under limit", steps: []string{rawStep(0, []byte("ECHO "+strings.Repeat("a", 60*1024)+"\r\n")), "<", "PING"}},
		compatScript{name: "inline arity", steps: []string{rawStep(0, []byte("LPUSH\r\nLPUSH q\r\n")), "<2"}},
	)
	diffScripts(t, scripts)
}

func TestCompatMultibulk(t *testing.T) {
	cases := []struct{ name, payload string }{
		{"star0", "*0\r\nPING\r\n"},
		{"star-1", "*-1\r\nPING\r\n"},
		{"star-5", "*-5\r\nPING\r\n"},
		{"star-empty", "*\r\nPING\r\n"},
		{"star-x", "*x\r\n"},
		{"star-plus", "*+1\r\n$4\r\nPING\r\n"},
		{"star-leading-zero", "*01\r\n$4\r\nPING\r\n"},
		{"star-space", "* 1\r\n$4\r\nPING\r\n"},
		{"star-huge", "*2147483648\r\n"},
		{"star-int-max", "*2147483647\r\n$4\r\nPING\r\n"},
		{"star-1M", "*1048576\r\n$4\r\nPING\r\n"},
		{"star-1M+1", "*1048577\r\n$4\r\nPING\r\n"},
		{"star-overflow", "*99999999999999999999\r\n"},
		{"bulk-missing-dollar", "*1\r\nPING\r\n"},
		{"bulk-colon", "*1\r\n:5\r\n"},
		{"bulk-neg", "*1\r\n$-1\r\n"},
		{"bulk-neg5", "*1\r\n$-5\r\n"},
		{"bulk-empty-len", "*1\r\n$\r\n"},
		{"bulk-plus", "*1\r\n$+4\r\nPING\r\n"},
		{"bulk-x", "*1\r\n$x\r\n"},
		{"bulk-over-max", "*1\r\n$536870913\r\n"},
		{"bulk-at-max", "*1\r\n$536870912\r\nPING\r\n"},
		{"bulk-huge", "*1\r\n$999999999999\r\n"},
		{"bulk-overflow", "*1\r\n$99999999999999999999\r\n"},
		{"bulk-zero", "*1\r\n$0\r\n\r\nPING\r\n"},
		{"bulk-no-crlf-check", "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"},
		{"bulk-lf-only-header", "*1\n$4\r\nPING\r\n"},
		{"bulk-lf-only-len", "*1\r\n$4\nPING\r\n"},
		{"two-args", "*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n"},
		{"extra-bulks", "*1\r\n$4\r\nPING\r\n$4\r\nPING\r\n"},
		{"too-big-count-line", "*" + strings.Repeat("1", 70*1024)},
		{"too-big-bulk-line", "*1\r\n$" + strings.Repeat("1", 70*1024)},
		{"count-line-cr-in-the-middle", "*1\rx\r\n$4\r\nPING\r\n"},
		{"unknown-empty-name", "*1\r\n$0\r\n\r\n"},
		{"unknown-long-args", "*3\r\n$3\r\nFOO\r\n$200\r\n" + strings.Repeat("a", 200) + "\r\n$1\r\nb\r\n"},
	}
	var scripts []compatScript
	for _, tc := range cases {
		// Whatever comes back, then the connection's fate.
		scripts = append(scripts, compatScript{name: tc.name, steps: []string{rawStep(0, []byte(tc.payload)), "!closed"}})
	}
	diffScripts(t, scripts)
}

func TestCompatUnknownCommand(t *testing.T) {
	diffScripts(t, []compatScript{{name: "unknown", steps: []string{
		"NOSUCH", "NOSUCH a", "NOSUCH " + strings.Repeat("x", 200), "NOSUCH " + strings.Repeat("ab ", 100),
		strings.Repeat("Z", 200) + " a", "NOSUCH \"a\\r\\nb\"", "NOSUCH \"\"", "\"\"", "\"\" a",
		"CLIENTX", "CLIENT NOSUCHSUB", "CLIENT", "CLIENT ID x",
	}}})
}

func TestCompatPipelines(t *testing.T) {
	var payload []byte
	for i := 0; i < 10000; i++ {
		switch i % 4 {
		case 0:
			payload = append(payload, encodeCmd([]string{"RPUSH", "q", fmt.Sprint(i)})...)
		case 1:
			payload = append(payload, encodeCmd([]string{"LPOP", "q"})...)
		case 2:
			payload = append(payload, "LLEN q\r\n"...)
		case 3:
			payload = append(payload, encodeCmd([]string{"LPUSH", "q2", strings.Repeat("v", i%97)})...)
		}
	}
	var bigArgs []string
	bigArgs = append(bigArgs, "RPUSH", "big")
	for i := 0; i < 100000; i++ {
		bigArgs = append(bigArgs, fmt.Sprint(i))
	}
	diffScripts(t, []compatScript{
		{name: "10k-one-write", steps: []string{rawStep(0, payload), "<10000", "LLEN q", "LLEN q2"}},
		{name: "100k-args", steps: []string{rawStep(0, encodeCmd(bigArgs)), "<", "LLEN big", "LINDEX big 77777", "LRANGE big 99998 -1"}},
		{name: "pipeline-with-error-middle", steps: []string{
			rawStep(0, []byte("PING\r\nLPUSH\r\nNOSUCH\r\n*1\r\n$4\r\nPING\r\n*1\r\n$x\r\nPING\r\n")), "!closed",
		}},
		{name: "bytewise", steps: []string{
			"!bytewise RPUSH q a \"b c\" \"\"", "!bytewise LRANGE q 0 -1", "!bytewise BLPOP q 0", "!bytewise LPOS q \"b c\"",
			"!bytewise MULTI", "!bytewise LPUSH q x", "!bytewise EXEC",
		}},
		{name: "bytewise-inline", steps: []string{
			"!rawbytes P", "!rawbytes I", "!rawbytes N", "!rawbytes G", "!rawbytes \r", "!rawbytes \n", "<",
		}},
	})
}

func TestCompatRequirepass(t *testing.T) {
	p := newPair(t, []string{"requirepass", "secret"})
	p.run(t, []compatScript{
		{name: "noauth", unauthed: true, steps: []string{
			"PING", "LPUSH q a", "NOSUCH", "LPUSH", "MULTI", "EXEC", "AUTH", "AUTH wrong", "AUTH default wrong",
			"AUTH a b c", "HELLO 3 AUTH default wrong", "ECHO x", "QUIT",
		}},
		{name: "auth-ok", unauthed: true, steps: []string{"AUTH secret", "PING", "LPUSH q a", "AUTH wrong", "PING", "AUTH default secret", "RESET", "PING"}},
		{name: "unauth-multibulk-10", unauthed: true, steps: []string{rawStep(0, encodeCmd(strings.Fields("a b c d e f g h i j"))), "<", "PING"}},
		{name: "unauth-multibulk-11", unauthed: true, steps: []string{rawStep(0, encodeCmd(strings.Fields("a b c d e f g h i j k"))), "!closed"}},
		{name: "unauth-bulk-16384", unauthed: true, steps: []string{rawStep(0, encodeCmd([]string{"ECHO", strings.Repeat("x", 16384)})), "<", "PING"}},
		{name: "unauth-bulk-16385", unauthed: true, steps: []string{rawStep(0, encodeCmd([]string{"ECHO", strings.Repeat("x", 16385)})), "!closed"}},
		{name: "unauth-inline-long", unauthed: true, steps: []string{rawStep(0, []byte("ECHO "+strings.Repeat("x", 20000)+"\r\n")), "<", "PING"}},
		{name: "authed-big", unauthed: true, steps: []string{
			"AUTH secret", rawStep(0, encodeCmd(strings.Fields("RPUSH q a b c d e f g h i j k l"))), "<",
			rawStep(0, encodeCmd([]string{"ECHO", strings.Repeat("x", 20000)})), "<",
		}},
		{name: "multi-then-noauth", unauthed: true, steps: []string{"MULTI", "PING", "EXEC", "DISCARD"}},
		{name: "hello-auth", unauthed: true, steps: []string{"?HELLO 2 AUTH default secret", "PING", "HELLO 3 AUTH default nope", "PING"}},
	})
}

func TestCompatRESP3(t *testing.T) {
	diffScripts(t, []compatScript{
		{name: "resp3-shapes", resp3: true, steps: []string{
			"LPOP nosuch", "LPOP nosuch 2", "RPOP nosuch 0", "LINDEX nosuch 0", "LPOS nosuch a", "LPOS nosuch a COUNT 0",
			"LRANGE nosuch 0 -1", "LMPOP 1 nosuch LEFT", "LMOVE nosuch d LEFT LEFT", "RPOPLPUSH nosuch d",
			"RPUSH q a b c", "LPOP q 2", "LPOS q c COUNT 0", "LMPOP 1 q LEFT", "GET nosuch", "EXISTS q",
			"MULTI", "LPOP nosuch", "LPUSH q a", "EXEC", "WATCH q", "@1 LPUSH q b", "MULTI", "PING", "EXEC",
			"ECHO x", "PING", "PING x", "NOSUCH", "LPUSH", "SET s v", "LPUSH s a",
			"?HELLO 2", "LPOP nosuch", "LPOP nosuch 1", "?HELLO 3", "LPOP nosuch",
			"HELLO 4", "HELLO x", "HELLO 1", "HELLO 3 SETNAME", "HELLO 3 FOO",
		}},
	})
}

// Redis's protocol.tcl "Protocol desync regression test": garbage after a
// NUL byte must end in a protocol error, not a buffer growing forever.
func TestCompatProtocolDesync(t *testing.T) {
	var scripts []compatScript
	for _, seq := range []string{"\x00", "*\x00", "$\x00", "*1\r\n$\x00", "*\x001\r\n$4\r\nPING\r\n"} {
		payload := seq + strings.Repeat("payload", 10000)
		scripts = append(scripts, compatScript{name: fmt.Sprintf("desync %q", seq), steps: []string{rawStep(0, []byte(payload)), "!closed"}})
	}
	scripts = append(scripts, compatScript{name: "nul in count line", steps: []string{rawStep(0, []byte("*\x001\r\n$4\r\nPING\r\n")), "!closed"}},
		compatScript{name: "nul in bulk header", steps: []string{rawStep(0, []byte("*1\r\n$\x004\r\nPING\r\n")), "!closed"}},
		compatScript{name: "nul in bulk data", steps: []string{rawStep(0, []byte("*2\r\n$4\r\nECHO\r\n$3\r\na\x00b\r\n")), "<", "PING"}},
		compatScript{name: "protocol.tcl set quotes", steps: []string{rawStep(0, []byte("set \"\"\"test-key\"\"\" test-value\r\nping\r\n")), "!closed"}},
		compatScript{name: "protocol.tcl payload header", steps: []string{rawStep(0, []byte("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n")), "!closed"}},
		compatScript{name: "protocol.tcl ping arity", steps: []string{"PING x y z"}},
	)
	diffScripts(t, scripts)
}
