package config

import (
	"errors"
	"fmt"
	"maps"
	"mullet/internal/resp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// These tests run the same input through mullet's config and a live
// redis-server 7.0 and require the same answer: CONFIG GET's names and
// values, CONFIG SET's replies and errors, and the config file's fatal
// errors. Differences mullet makes on purpose are listed in the test
// that pins them (TestMulletDivergence), not here.

// mulletLike loads the overrides the Redis under comparison started with.
func mulletLike(t *testing.T, args []string) *Config {
	t.Helper()
	_, ov, err := ParseArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	c := New()
	if err := c.Load("", ov); err != nil {
		t.Fatal(err)
	}
	return c
}

func ourPairs(c *Config, pattern string) map[string]string {
	m := map[string]string{}
	for _, kv := range c.Match(pattern) {
		m[kv[0]] = kv[1]
	}
	return m
}

// diffGet reports every name of Redis's CONFIG GET reply that mullet
// lacks or shows differently.
func diffGet(redis, ours map[string]string) []string {
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(redis)) {
		if v, ok := ours[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: missing (redis %q)", k, redis[k]))
		} else if v != redis[k] {
			diffs = append(diffs, fmt.Sprintf("%s: mullet %q, redis %q", k, v, redis[k]))
		}
	}
	return diffs
}

// TestRedisConfigGetAll: CONFIG GET * on mullet is a superset of Redis's,
// with every shared value formatted identically.
func TestRedisConfigGetAll(t *testing.T) {
	rc, args := startRedis(t)
	c := mulletLike(t, args)
	redis := rc.configGet(t, "*")
	if len(redis) < 150 {
		t.Fatalf("CONFIG GET * on redis returned only %d pairs", len(redis))
	}
	ours := ourPairs(c, "*")
	for _, d := range diffGet(redis, ours) {
		t.Error(d)
	}
	t.Logf("redis: %d names, mullet: %d names", len(redis), len(ours))

	// Patterns, case and aliases are matched the same way.
	for _, p := range []string{"PORT", "Port*", "list-max-*", "*slave*", "maxmemory-po[l]icy",
		"[^b]ind", `b\ind`, "", "*-max-*-entries", "?ind", "tls-*", "lua-time-limit", "[a-c]*"} {
		if d := diffGet(rc.configGet(t, p), ourPairs(c, p)); d != nil {
			t.Errorf("CONFIG GET %q: %v", p, d)
		}
		if r, o := rc.configGet(t, p), ourPairs(c, p); len(r) != len(o) && !strings.Contains(p, "*") {
			t.Errorf("CONFIG GET %q: redis %v, mullet %v", p, r, o)
		}
	}
	// Several patterns: the union, each name once.
	r := rc.configGet(t, "port", "PORT", "p*rt", "list-max-l*", "list-max-ziplist-size")
	o := map[string]string{}
	for _, kv := range c.MatchAll("port", "PORT", "p*rt", "list-max-l*", "list-max-ziplist-size") {
		o[kv[0]] = kv[1]
	}
	if !maps.Equal(r, o) {
		t.Errorf("CONFIG GET with several patterns: redis %v, mullet %v", r, o)
	}
}

// setCases are CONFIG SET argument lists on which mullet and Redis must
// agree exactly, reply and resulting values. They run in order on both
// servers, so state carries over.
var setCases = [][]string{
	// Unknown names, arity, duplicates, immutables.
	{"foo", "1"},
	{"a", "1", "b"},
	{"maxmemory", "1", "foo", "2"},
	{"foo", "1", "daemonize", "yes"},
	{"daemonize", "yes", "foo", "1"},
	{"maxmemory", "1", "maxmemory", "2"},
	{"maxmemory", "1", "MAXMEMORY", "2"},
	{"daemonize", "yes"},
	{"databases", "4"},
	{"appenddirname", "x"},
	{"appendfilename", "x"},
	{"unixsocketperm", "700"},
	{"enable-protected-configs", "yes"},
	{"socket-mark-id", "1"},
	{"replicaof", "no one"},
	{"slaveof", "no one"},
	{"dbfilename", "x.rdb"},
	// Integers: strict parsing and bounds.
	{"timeout", "abc"}, {"timeout", "007"}, {"timeout", "+5"}, {"timeout", "-0"}, {"timeout", " 5"},
	{"timeout", "9999999999"}, {"timeout", "60"}, {"TIMEOUT", "0"},
	{"list-max-listpack-size", "-9999999999"}, {"list-max-listpack-size", "-5"},
	{"list-max-ziplist-size", "7"}, {"list-max-ziplist-size", "1", "list-max-listpack-size", "2"},
	{"list-max-listpack-size", "-2"},
	{"slowlog-log-slower-than", "-2"}, {"slowlog-log-slower-than", "-1"}, {"slowlog-log-slower-than", "10000"},
	{"slowlog-max-len", "-1"}, {"slowlog-max-len", "1000"},
	{"maxclients", "0"}, {"maxclients", "-1"}, {"maxclients", "abc"},
	{"hash-max-listpack-entries", "-1"}, {"hash-max-ziplist-entries", "1024"},
	{"hz", "abc"}, {"hz", "-1"}, {"hz", "1000"}, {"hz", "0"}, {"hz", "10"},
	{"hz", "abc", "timeout", "99999999999"},
	{"active-expire-effort", "11"}, {"maxmemory-eviction-tenacity", "101"},
	{"tcp-keepalive", "60"}, {"lua-time-limit", "100"}, {"busy-reply-threshold", "5000"},
	{"tracking-table-max-keys", "-1"}, {"active-defrag-cycle-min", "0"},
	// Sizes.
	{"maxmemory", "abc"}, {"maxmemory", "1.5gb"}, {"maxmemory", " 1"}, {"maxmemory", "-1"},
	{"maxmemory", "+1"}, {"maxmemory", ""}, {"maxmemory", "kb"}, {"maxmemory", "1KB"},
	{"maxmemory", "1k"}, {"maxmemory", "2M"}, {"maxmemory", "3mb"}, {"maxmemory", "1g"},
	{"maxmemory", "4Gb"}, {"maxmemory", "7b"}, {"maxmemory", "99999999999999999999999"},
	{"maxmemory", "20000000000gb"}, {"maxmemory", "1x"}, {"maxmemory", "0"},
	{"proto-max-bulk-len", "99999999999999999999999"}, {"proto-max-bulk-len", "9223372036854775808"},
	{"proto-max-bulk-len", "1000"}, {"proto-max-bulk-len", "1mb"}, {"proto-max-bulk-len", "512mb"},
	{"client-query-buffer-limit", "1k"}, {"client-query-buffer-limit", "2gb"}, {"client-query-buffer-limit", "1gb"},
	{"auto-aof-rewrite-min-size", "128mb"}, {"auto-aof-rewrite-min-size", "-1"},
	{"hash-max-listpack-value", "1kb"}, {"repl-backlog-size", "0"}, {"repl-backlog-size", "2mb"},
	{"maxmemory-clients", "200%"}, {"maxmemory-clients", "abc"}, {"maxmemory-clients", "10%"},
	{"maxmemory-clients", "-1%"}, {"maxmemory-clients", "%"}, {"maxmemory-clients", "1mb"}, {"maxmemory-clients", "0"},
	// Booleans.
	{"appendonly", "maybe"}, {"appendonly", "1"}, {"aof-load-truncated", "NO"}, {"aof-load-truncated", "Yes"},
	{"protected-mode", "no"}, {"protected-mode", "yes"}, {"replica-ignore-disk-write-errors", "1"},
	{"slave-read-only", "no"}, {"replica-read-only", "yes"},
	{"lazyfree-lazy-user-flush", "yes"}, {"rdbcompression", "no"}, {"rdbcompression", "yes"},
	// Enums.
	{"appendfsync", "foo"}, {"appendfsync", "ALWAYS"}, {"appendfsync", "no"}, {"appendfsync", "everysec"},
	{"appendfsync", ""}, {"loglevel", "loud"}, {"loglevel", "warning"}, {"loglevel", "notice"},
	{"maxmemory-policy", "foo"}, {"maxmemory-policy", "noeviction"}, {"maxmemory-policy", "NoEviction"},
	{"propagation-error-behavior", "x"}, {"propagation-error-behavior", "panic"},
	{"repl-diskless-load", "swapdb"}, {"repl-diskless-load", "disabled"},
	{"acl-pubsub-default", "allchannels"}, {"sanitize-dump-payload", "clients"},
	{"cluster-preferred-endpoint-type", "hostname"},
	{"oom-score-adj", "maybe"},
	{"shutdown-on-sigint", "save now"}, {"shutdown-on-sigint", "save nosave"}, {"shutdown-on-sigint", "bogus"},
	{"shutdown-on-sigint", ""}, {"shutdown-on-sigint", "force now save"}, {"shutdown-on-sigint", "default"},
	{"shutdown-on-sigterm", "NOW"}, {"shutdown-on-sigterm", "now  force"},
	// Strings.
	{"requirepass", "s3cret pass"}, {"requirepass", ""}, {"masterauth", "x"}, {"masteruser", "u"},
	{"proc-title-template", "{bad}"}, {"proc-title-template", "{title}"}, {"proc-title-template", "x{{"},
	{"proc-title-template", "{title"}, {"proc-title-template", "{title} {listen-addr} {server-mode}"},
	{"cluster-announce-hostname", "a_b"}, {"cluster-announce-hostname", "host-1.example"},
	{"cluster-announce-hostname", ""}, {"ignore-warnings", "ARM64-COW-BUG"}, {"replica-announce-ip", "10.0.0.1"},
	// Specials.
	{"save", "1"}, {"save", "a b"}, {"save", "0 1"}, {"save", "3600 1 300 100"}, {"save", "1 -0"},
	{"save", "+1 1"}, {"save", "1 1 "}, {"save", "1  1"}, {"save", "0x10 1"}, {"save", `"1 1`},
	{"save", "99999999999999999999 1"}, {"save", "1 99999999999"}, {"save", " "}, {"save", ""},
	{"client-output-buffer-limit", "normal 1 2"}, {"client-output-buffer-limit", "master 1 2 3"},
	{"client-output-buffer-limit", "normal 1x 2 3"}, {"client-output-buffer-limit", "pubsub 1 1 -1"},
	{"client-output-buffer-limit", "pubsub 1 1 x"}, {"client-output-buffer-limit", "pubsub 1 1 01"},
	{"client-output-buffer-limit", "replica 1mb 2k 3"}, {"client-output-buffer-limit", "SLAVE 1 2 3 Normal 4 5 6"},
	{"client-output-buffer-limit", ""}, {"client-output-buffer-limit", "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60"},
	{"oom-score-adj-values", "1 2"}, {"oom-score-adj-values", "1 2 3000"}, {"oom-score-adj-values", ""},
	{"oom-score-adj-values", "0  200 800"}, {"oom-score-adj-values", "0 200 800"},
	{"notify-keyspace-events", "Q"}, {"notify-keyspace-events", "KEA"}, {"notify-keyspace-events", "nlgxK"},
	{"notify-keyspace-events", "A A"}, {"notify-keyspace-events", "$shzxetdmE"}, {"notify-keyspace-events", ""},
	{"latency-tracking-info-percentiles", "a"}, {"latency-tracking-info-percentiles", "101"},
	{"latency-tracking-info-percentiles", "50.5 99 0"}, {"latency-tracking-info-percentiles", "1  2"},
	{"latency-tracking-info-percentiles", "-1"}, {"latency-tracking-info-percentiles", "1e-400"},
	{"latency-tracking-info-percentiles", "0x10"}, {"latency-tracking-info-percentiles", "inf"},
	{"latency-tracking-info-percentiles", "99.99999 1e1"}, {"latency-tracking-info-percentiles", ""},
	{"latency-tracking-info-percentiles", "50 99 99.9"},
	// Several at once: checked together, applied together.
	{"maxmemory", "1mb", "timeout", "abc"},
	{"maxmemory", "1mb", "timeout", "30", "appendfsync", "always"},
	{"maxmemory", "0", "timeout", "0", "appendfsync", "everysec"},
}

// TestRedisConfigSet replays setCases on both and compares every reply,
// then the whole CONFIG GET * they end up with.
func TestRedisConfigSet(t *testing.T) {
	rc, args := startRedis(t)
	c := mulletLike(t, args)
	for _, tc := range setCases {
		redis := rc.do(t, append([]string{"CONFIG", "SET"}, tc...)...)
		err := c.Set(tc...)
		switch r := redis.(type) {
		case resp.Error:
			want := strings.TrimPrefix(string(r), "ERR ")
			if err == nil {
				t.Errorf("CONFIG SET %q: mullet OK, redis %q", tc, want)
			} else if err.Error() != want {
				t.Errorf("CONFIG SET %q:\n mullet %q\n redis  %q", tc, err.Error(), want)
			}
		default:
			if err != nil {
				t.Errorf("CONFIG SET %q: mullet %q, redis %v", tc, err, r)
				continue
			}
			for i := 0; i < len(tc); i += 2 {
				if d := diffGet(rc.configGet(t, tc[i]), ourPairs(c, tc[i])); d != nil {
					t.Errorf("after CONFIG SET %q: %v", tc, d)
				}
			}
		}
	}
	for _, d := range diffGet(rc.configGet(t, "*"), ourPairs(c, "*")) {
		t.Error("at the end:", d)
	}
}

// fileCases are config files both must refuse with the same line, text
// and reason.
var fileCases = []string{
	"port 6379\nfoo bar\n",
	"# hi\n\nport abc\n",
	"appendonly maybe\n",
	"bind \"127.0.0.1\n",
	"bind \"127.0.0.1\"x\n",
	"bind '127.0.0.1\n",
	"requirepass 'a'b\n",
	"timeout 1 2\n",
	"timeout\n",
	"port\n",
	"maxmemory-policy bogus\n",
	"maxmemory 1x\n",
	"maxmemory\n",
	"save 1\n",
	"save 100 1\nsave 0 1\n",
	"dir /nonexistent-mullet-dir\n",
	"dir /etc/passwd\n",
	"  PORT   \"abc\"  \n",
	"\tloglevel\tloud\r\n",
	"include\n",
	"list-max-ziplist-entries 1 2\n",
	"unixsocketperm 999\n",
	"unixsocketperm abc\n",
	"socket-mark-id -1\n",
	"databases 0\n",
	"io-threads 129\n",
	"appendfilename \"\"\n",
	"appendfilename a/b\n",
	"appenddirname a/b\n",
	"dbfilename a/b\n",
	"replicaof 127.0.0.1\n",
	"replicaof 127.0.0.1 abc\n",
	"replicaof 127.0.0.1 70000\n",
	"client-output-buffer-limit normal 1 2\n",
	"oom-score-adj-values 1 2\n",
	"notify-keyspace-events Q\n",
	"notify-keyspace-events\n",
	"bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
	"shutdown-on-sigterm save nosave\n",
	"latency-tracking-info-percentiles 200\n",
	"port 6379 # a trailing comment is an argument\n",
	"enable-debug-command maybe\n",
	"syslog-facility local9\n",
	"supervised upstart systemd\n",
	"maxclients 0\n",
	"tls-port 65536\n",
	"hash-max-ziplist-value -1\n",
}

// TestRedisFileErrors loads each of fileCases on both.
func TestRedisFileErrors(t *testing.T) {
	for _, content := range fileCases {
		line, text, reason := redisFileError(t, content)
		path := writeTemp(t, content)
		err := New().Load(path, nil)
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Errorf("%q: mullet %v, redis line %d %q: %s", content, err, line, text, reason)
			continue
		}
		if fe.Line != line || fe.Text != text || fe.Reason != reason || fe.File != path {
			t.Errorf("%q:\n mullet %s:%d %q: %s\n redis  %d %q: %s", content, fe.File, fe.Line, fe.Text, fe.Reason, line, text, reason)
		}
	}
}

// flagCases are command lines both must refuse with the same reason.
var flagCases = [][]string{
	{"--port", "abc"},
	{"--port", "6379", "extra"},
	{"--port"},
	{"--requirepass", "--port", "6379"},
	{"--timeout", "1", "2"},
	{"--bogus-directive", "1"},
	{"--save", "1"},
	{"--save", "60", "1", "--save", "0", "1"},
	{"--bind", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17"},
	{"--maxmemory 1x"},
	{"--appendonly", "yes", "--appendfsync", "sometimes"},
}

// TestRedisFlagErrors runs each of flagCases through ParseArgs and Load
// and through redis-server.
func TestRedisFlagErrors(t *testing.T) {
	for _, args := range flagCases {
		_, _, reason := redisFileError(t, "", args...)
		_, ov, err := ParseArgs(args)
		if err == nil {
			err = New().Load("", ov)
		}
		var fe *FlagError
		if !errors.As(err, &fe) || fe.Reason != reason {
			t.Errorf("%q: mullet %v, redis %q", args, err, reason)
		}
	}
}

// TestRedisFileAccepted loads files both accept and compares every value.
func TestRedisFileAccepted(t *testing.T) {
	for _, content := range []string{
		"save 100 1\nsave 200 2\n",
		"save 100 1\nsave \"\"\nsave 200 2\n",
		"save \"100 1 200 2\"\n",
		"save\n",
		"bind 127.0.0.1\nbind 127.0.0.1\n",
		"client-output-buffer-limit normal 1 2 3\nclient-output-buffer-limit pubsub 4 5 6\n",
		"oom-score-adj-values 1 2 3\nlatency-tracking-info-percentiles 1.5\nslave-read-only no\nreplicaof no one\n",
		"masterauth \"a b\\x41\\n\\\"\"\nmasteruser 'x\\'y'\nnotify-keyspace-events \"Elg\"\nunixsocketperm 755\nhz 0\n",
		"list-max-ziplist-entries 5\nlist-max-ziplist-value 6\nlua-replicate-commands yes\n",
		"MaxMemory 1GB\nmaxmemory-policy NOEVICTION\nappendfsync ALWAYS\n",
		"shutdown-on-sigint \"save now\"\nshutdown-on-sigterm force now\n",
		"# comment\n   # indented comment\n\n\t\nport 7777\nport 7778\n",
		"proc-title-template \"{title}-{port}\"\nignore-warnings \"\"\nbind-source-addr \"\"\n",
		"daemonize no\nsupervised no\nsyslog-ident mullet\nsyslog-facility local3\nio-threads 2\ntcp-backlog 128\n" +
			"databases 4\nrdbchecksum no\ndisable-thp no\nset-proc-title no\nalways-show-logo yes\n" +
			"enable-debug-command local\nenable-module-command yes\nenable-protected-configs local\naclfile \"\"\n" +
			"unixsocketperm 700\nsocket-mark-id 0\ncluster-config-file n.conf\ncluster-port 0\n",
		"appenddirname aof\nappendfilename q.aof\ndbfilename q.rdb\nclient-query-buffer-limit 2gb\n" +
			"hash-max-ziplist-entries 1\nzset-max-ziplist-value 1kb\nmin-slaves-to-write 0\nrepl-ping-slave-period 5\n",
	} {
		rc, args := startRedisWithFile(t, content)
		c := New()
		path := writeTemp(t, content)
		_, ov, _ := ParseArgs(args)
		if err := c.Load(path, ov); err != nil {
			t.Errorf("%q: %v", content, err)
			continue
		}
		for _, d := range diffGet(rc.configGet(t, "*"), ourPairs(c, "*")) {
			t.Errorf("%q: %s", content, d)
		}
	}
}

// TestRedisRewrite runs CONFIG REWRITE on both after the same changes and
// compares the files: identical in place, and the same appended lines
// (Redis appends them in hash-table order, so those compare as a set).
func TestRedisRewrite(t *testing.T) {
	const content = `# top comment
port 6379
save 100 1
save 200 2

# memory
maxmemory 1gb
slave-read-only no
hz 20
timeout 0


loglevel notice
appendfsync everysec
`
	rc, args := startRedisWithFile(t, content)
	path := writeTemp(t, content)
	c := New()
	_, ov, _ := ParseArgs(args)
	if err := c.Load(path, ov); err != nil {
		t.Fatal(err)
	}
	sets := [][]string{
		{"maxmemory", "2mb"}, {"timeout", "30"}, {"appendfsync", "always"},
		{"notify-keyspace-events", "KEA"}, {"client-output-buffer-limit", "pubsub 1mb 2mb 3"},
		{"save", "10 1"}, {"requirepass", `pa ss"`}, {"maxmemory-clients", "5%"},
		{"shutdown-on-sigterm", "now force"}, {"hash-max-ziplist-entries", "100"},
	}
	for _, s := range sets {
		if r := rc.do(t, append([]string{"CONFIG", "SET"}, s...)...); r != "OK" {
			t.Fatalf("redis CONFIG SET %q: %v", s, r)
		}
		if err := c.Set(s...); err != nil {
			t.Fatal(err)
		}
	}
	if r := rc.do(t, "CONFIG", "REWRITE"); r != "OK" {
		t.Fatalf("redis CONFIG REWRITE: %v", r)
	}
	if err := c.Rewrite(""); err != nil {
		t.Fatal(err)
	}
	redisFile := readFile(t, rc.configGet(t, "dir")["dir"], "redis.conf")
	ourFile := readFile(t, filepath.Dir(path), "test.conf")
	split := func(s string) (head, tail []string) {
		lines := strings.Split(s, "\n")
		i := slices.Index(lines, rewriteSignature)
		if i < 0 {
			i = len(lines)
		}
		for _, l := range lines[i:] {
			// Redis writes its ACL users, mullet has none; and mullet's
			// appendonly default is yes, so "no" is not a default there.
			if !strings.HasPrefix(l, "user ") && l != "appendonly no" {
				tail = append(tail, l)
			}
		}
		slices.Sort(tail)
		return lines[:i], tail
	}
	rh, rt := split(redisFile)
	oh, ot := split(ourFile)
	if !slices.Equal(rh, oh) {
		t.Errorf("rewritten in place:\nmullet:\n%s\nredis:\n%s", strings.Join(oh, "\n"), strings.Join(rh, "\n"))
	}
	if !slices.Equal(rt, ot) {
		t.Errorf("appended:\nmullet:\n%s\nredis:\n%s", strings.Join(ot, "\n"), strings.Join(rt, "\n"))
	}
	// And the rewritten file loads back to the same configuration.
	back := New()
	if err := back.Load(path, nil); err != nil {
		t.Fatal(err)
	}
	if d := diffGet(ourPairs(c, "*"), ourPairs(back, "*")); d != nil {
		t.Errorf("reloaded: %v", d)
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
