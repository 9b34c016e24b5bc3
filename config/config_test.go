package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTable(t *testing.T) {
	if defaultErr != nil {
		t.Fatal(defaultErr)
	}
	for _, d := range Directives() {
		if d.Help == "" {
			t.Errorf("%s has no help text", d.Name)
		}
		if d.Name != asciiLower(d.Name) || strings.ContainsAny(d.Name, " \t") {
			t.Errorf("bad name %q", d.Name)
		}
	}
	// The brief's list of directives that only change at start-up.
	for _, n := range []string{"bind", "port", "databases", "dir", "appenddirname", "appendfilename",
		"tls-port", "tls-cert-file", "tls-key-file", "tls-ca-cert-file", "tls-auth-clients",
		"consumer-route", "consumer-mysql-dsn", "consumer-postgres-dsn", "consumer-pool-size", "metrics-addr", "daemonize", "logfile"} {
		if d, ok := Describe(n); !ok || d.Mutable {
			t.Errorf("%s should be immutable (%+v)", n, d)
		}
	}
	for _, n := range []string{"maxmemory", "appendfsync", "loglevel", "timeout", "requirepass",
		"consumer-batch-size", "consumer-linger", "consumer-retry-min", "consumer-retry-max", "consumer-enabled"} {
		if d, ok := Describe(n); !ok || !d.Mutable {
			t.Errorf("%s should be mutable", n)
		}
	}
	// Every Redis knob the brief lists is known, with its alias.
	for _, n := range strings.Fields(`save list-max-listpack-size list-max-ziplist-size list-compress-depth hz
		dynamic-hz activerehashing lazyfree-lazy-eviction lazyfree-lazy-expire lazyfree-lazy-server-del
		lazyfree-lazy-user-del lazyfree-lazy-user-flush replica-lazy-flush aof-use-rdb-preamble
		aof-rewrite-incremental-fsync aof-timestamp-enabled no-appendfsync-on-rewrite rdbcompression
		rdbchecksum dbfilename stop-writes-on-bgsave-error rdb-save-incremental-fsync daemonize supervised
		pidfile always-show-logo io-threads io-threads-do-reads tcp-backlog unixsocket unixsocketperm
		latency-monitor-threshold latency-tracking notify-keyspace-events hash-max-listpack-entries
		hash-max-listpack-value hash-max-ziplist-entries hash-max-ziplist-value set-max-intset-entries
		zset-max-listpack-entries zset-max-listpack-value zset-max-ziplist-entries zset-max-ziplist-value
		stream-node-max-bytes stream-node-max-entries lua-time-limit busy-reply-threshold maxmemory-samples
		maxmemory-eviction-tenacity active-expire-effort lfu-log-factor lfu-decay-time jemalloc-bg-thread
		activedefrag crash-log-enabled crash-memcheck-enabled oom-score-adj oom-score-adj-values disable-thp
		enable-debug-command enable-protected-configs enable-module-command syslog-enabled syslog-ident
		syslog-facility set-proc-title proc-title-template replica-read-only replica-serve-stale-data
		repl-diskless-sync min-replicas-to-write min-replicas-max-lag cluster-enabled acllog-max-len aclfile
		masterauth masteruser tracking-table-max-keys propagation-error-behavior shutdown-timeout
		shutdown-on-sigint shutdown-on-sigterm slave-read-only slave-serve-stale-data slaveof
		client-output-buffer-limit metrics-addr consumer-strict-order`) {
		if _, ok := Describe(n); !ok {
			t.Errorf("%s is missing", n)
		}
	}
	if _, ok := Describe("locale-collate"); ok {
		t.Error("locale-collate is Redis 7.2; 7.0 has no such directive")
	}
}

func TestDefaults(t *testing.T) {
	c := New()
	cwd, _ := os.Getwd()
	cwd, _ = filepath.EvalSymlinks(cwd)
	want := map[string]string{
		"bind": "127.0.0.1 -::1", "port": "6379", "dir": cwd, "appendonly": "yes",
		"appendfsync": "everysec", "maxmemory": "0", "maxmemory-policy": "noeviction",
		"save":                       "3600 1 300 100 60 10000",
		"client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
		"proto-max-bulk-len":         "536870912", "client-query-buffer-limit": "1073741824",
		"metrics-addr": "", "consumer-route": "", "consumer-mysql-dsn": "", "consumer-postgres-dsn": "", "consumer-pool-size": "10",
		"consumer-batch-size": "500", "consumer-linger": "5", "consumer-retry-min": "100",
		"consumer-retry-max": "30000", "consumer-strict-order": "no", "consumer-enabled": "yes",
		"tls-auth-clients": "yes", "tls-port": "0", "unixsocketperm": "0", "replicaof": "",
		"latency-tracking-info-percentiles": "50 99 99.9", "oom-score-adj-values": "0 200 800",
		"shutdown-on-sigint": "default", "list-max-ziplist-size": "-2", "lua-time-limit": "5000",
	}
	for k, v := range want {
		if got, ok := c.Get(k); !ok || got != v {
			t.Errorf("default %s = %q, %v; want %q", k, got, ok, v)
		}
	}
	var zero Config // the zero value holds the defaults too
	if got := zero.String("port"); got != "6379" {
		t.Errorf("zero Config port = %q", got)
	}
}

func TestArticleConf(t *testing.T) {
	c := New()
	if err := c.Load("testdata/article.conf", nil); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"bind": "127.0.0.1", "appendonly": "yes", "appendfsync": "everysec",
		"maxmemory": "4294967296", "maxmemory-policy": "noeviction", "tcp-keepalive": "300"} {
		if got := c.String(k); got != v {
			t.Errorf("%s = %q; want %q", k, got, v)
		}
	}
	if c.Size("maxmemory") != 4<<30 {
		t.Errorf("Size(maxmemory) = %d", c.Size("maxmemory"))
	}
	if abs, _ := filepath.Abs("testdata/article.conf"); c.File() != abs {
		t.Errorf("File() = %q", c.File())
	}
}

// TestSetErrors pins every CONFIG SET reply text mullet produces; the
// ones Redis also has are compared with redis-server in
// TestRedisConfigSet, the mullet-only ones are pinned here.
func TestSetErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "wrong number of arguments for 'config|set' command"},
		{[]string{"port"}, "syntax error"},
		{[]string{"a", "1", "b"}, "syntax error"},
		{[]string{"foo", "1"}, "Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{[]string{"daemonize", "yes"}, "CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"},
		{[]string{"maxmemory", "abc"}, "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{[]string{"timeout", "abc"}, "CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"},
		{[]string{"maxmemory", "1", "MAXMEMORY", "2"}, "CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"},
		{[]string{"appendfsync", "sometimes"}, "CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no"},
		{[]string{"loglevel", "x"}, "CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"},
		{[]string{"appendonly", "1"}, "CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'"},
		{[]string{"consumer-batch-size", "0"}, "CONFIG SET failed (possibly related to argument 'consumer-batch-size') - argument must be between 1 and 1000000 inclusive"},
		{[]string{"slowlog-log-slower-than", "-2"}, "CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be between -1 and 9223372036854775807 inclusive"},
		{[]string{"maxclients", "0"}, "CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive"},
		{[]string{"maxmemory-clients", "101%"}, "CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"},
		{[]string{"maxmemory-clients", "x"}, "CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value"},
		{[]string{"save", "1"}, "CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"},
		// mullet's own refusals.
		{[]string{"port", "7000"}, "CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"},
		{[]string{"bind", "0.0.0.0"}, "CONFIG SET failed (possibly related to argument 'bind') - can't set immutable config"},
		{[]string{"dir", "/"}, "CONFIG SET failed (possibly related to argument 'dir') - can't set immutable config"},
		{[]string{"tls-cert-file", "x"}, "CONFIG SET failed (possibly related to argument 'tls-cert-file') - can't set immutable config"},
		{[]string{"consumer-route", "q t"}, "CONFIG SET failed (possibly related to argument 'consumer-route') - can't set immutable config"},
		{[]string{"consumer-pool-size", "5"}, "CONFIG SET failed (possibly related to argument 'consumer-pool-size') - can't set immutable config"},
		{[]string{"consumer-postgres-dsn", "host=127.0.0.1"}, "CONFIG SET failed (possibly related to argument 'consumer-postgres-dsn') - can't set immutable config"},
		{[]string{"dbfilename", "x.rdb"}, "CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"},
		{[]string{"maxmemory-policy", "allkeys-lru"}, "CONFIG SET failed (possibly related to argument 'maxmemory-policy') - mullet never evicts: maxmemory-policy must be noeviction"},
		{[]string{"maxmemory-policy", "lru"}, "CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"},
		{[]string{"consumer-retry-min", "40000"}, "CONFIG SET failed (possibly related to argument 'consumer-retry-min') - consumer-retry-min (40000) must not exceed consumer-retry-max (30000)"},
		{[]string{"consumer-retry-max", "50"}, "CONFIG SET failed (possibly related to argument 'consumer-retry-max') - consumer-retry-min (100) must not exceed consumer-retry-max (50)"},
	}
	for _, tc := range tests {
		c := New()
		err := c.Set(tc.args...)
		var se *SetError
		if !errors.As(err, &se) || err.Error() != tc.want {
			t.Errorf("Set(%q) = %v;\n want %s", tc.args, err, tc.want)
		}
		if got := c.Match("*"); !slices.Equal(got, New().Match("*")) {
			t.Errorf("Set(%q) failed but changed the configuration", tc.args)
		}
	}
}

func TestSetErrorIs(t *testing.T) {
	c := New()
	for err, target := range map[error]error{
		c.Set("port", "1"):                        ErrImmutable,
		c.Set("nope", "1"):                        ErrUnknownDirective,
		c.Set("maxmemory-policy", "volatile-lru"): ErrEviction,
	} {
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(%v, %v) = false", err, target)
		}
	}
	if errors.Is(c.Set("timeout", "x"), ErrImmutable) {
		t.Error("a parse error is not ErrImmutable")
	}
}

func TestSetAtomic(t *testing.T) {
	c := New()
	before := c.Match("*")
	// The last pair is bad: the first two must not be applied.
	err := c.Set("maxmemory", "1mb", "appendfsync", "always", "timeout", "x")
	if err == nil || !strings.Contains(err.Error(), "'timeout'") {
		t.Fatalf("Set = %v", err)
	}
	if !slices.Equal(c.Match("*"), before) {
		t.Fatal("a failed Set changed values")
	}
	// An unknown name anywhere refuses everything.
	if err := c.Set("maxmemory", "1mb", "nope", "1"); !errors.Is(err, ErrUnknownDirective) {
		t.Fatalf("Set = %v", err)
	}
	if c.String("maxmemory") != "0" {
		t.Fatal("maxmemory changed")
	}
	// Several good pairs apply together; alias and name both apply, in order.
	if err := c.Set("maxmemory", "1mb", "list-max-ziplist-size", "5", "list-max-listpack-size", "7"); err != nil {
		t.Fatal(err)
	}
	if c.Size("maxmemory") != 1<<20 || c.Int("list-max-ziplist-size") != 7 {
		t.Fatalf("maxmemory %d, list-max-ziplist-size %d", c.Size("maxmemory"), c.Int("list-max-ziplist-size"))
	}
}

func TestHooks(t *testing.T) {
	c := New()
	var calls []string
	c.OnChange("maxmemory", func(v string) error { calls = append(calls, "maxmemory="+v); return nil })
	c.OnChange("slave-read-only", func(v string) error { calls = append(calls, "replica-read-only="+v); return nil })
	c.OnChange("appendfsync", func(v string) error {
		calls = append(calls, "appendfsync="+v)
		if v == "always" {
			return errors.New("cannot fsync that often")
		}
		return nil
	})

	if err := c.Set("maxmemory", "2mb", "replica-read-only", "no", "timeout", "5"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"maxmemory=2097152", "replica-read-only=no"}; !slices.Equal(calls, want) {
		t.Fatalf("hooks ran %q; want %q", calls, want)
	}

	// Unchanged values run no hook.
	calls = nil
	if err := c.Set("maxmemory", "2mb"); err != nil || calls != nil {
		t.Fatalf("Set = %v, hooks %q", err, calls)
	}

	// A failing hook rolls everything back and re-applies the old values.
	calls = nil
	err := c.Set("maxmemory", "3mb", "appendfsync", "always", "timeout", "9")
	want := "CONFIG SET failed (possibly related to argument 'appendfsync') - cannot fsync that often"
	if err == nil || err.Error() != want {
		t.Fatalf("Set = %v; want %s", err, want)
	}
	var se *SetError
	if !errors.As(err, &se) || se.Err == nil || se.Err.Error() != "cannot fsync that often" {
		t.Fatalf("the hook's error is not wrapped: %#v", err)
	}
	for k, v := range map[string]string{"maxmemory": "2097152", "appendfsync": "everysec", "timeout": "5"} {
		if got := c.String(k); got != v {
			t.Errorf("after rollback %s = %q; want %q", k, got, v)
		}
	}
	if want := []string{"maxmemory=3145728", "appendfsync=always", "maxmemory=2097152", "appendfsync=everysec"}; !slices.Equal(calls, want) {
		t.Errorf("hooks ran %q; want %q", calls, want)
	}

	func() {
		defer func() {
			if recover() == nil {
				t.Error("OnChange on an unknown directive did not panic")
			}
		}()
		c.OnChange("no-such-directive", func(string) error { return nil })
	}()
}

func TestProtected(t *testing.T) {
	for _, tc := range []struct {
		enable string
		local  bool
		ok     bool
	}{{"no", false, false}, {"no", true, false}, {"local", false, false}, {"local", true, true}, {"yes", false, true}} {
		c := New()
		if err := c.Load("", [][]string{{"enable-protected-configs", tc.enable}}); err != nil {
			t.Fatal(err)
		}
		set := c.Set
		if tc.local {
			set = c.SetLocal
		}
		err := set("dbfilename", "q.rdb")
		if (err == nil) != tc.ok {
			t.Errorf("enable-protected-configs %s, local %v: %v", tc.enable, tc.local, err)
		}
	}
	c := New()
	_ = c.Load("", [][]string{{"enable-protected-configs", "yes"}})
	if err := c.Set("dbfilename", "a/b.rdb"); err == nil || !strings.HasSuffix(err.Error(), "dbfilename can't be a path, just a filename") {
		t.Errorf("Set(dbfilename a/b.rdb) = %v", err)
	}
}

func TestNoEviction(t *testing.T) {
	for _, p := range []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "ALLKEYS-LRU"} {
		err := New().Load(writeTemp(t, "maxmemory 1gb\nmaxmemory-policy "+p+"\n"), nil)
		var fe *FileError
		if !errors.As(err, &fe) || fe.Line != 2 || fe.Reason != reasonEviction || !errors.Is(err, ErrEviction) {
			t.Errorf("file maxmemory-policy %s: %v", p, err)
		}
		err = New().Load("", [][]string{{"maxmemory-policy", p}})
		var ge *FlagError
		if !errors.As(err, &ge) || ge.Reason != reasonEviction || !errors.Is(err, ErrEviction) {
			t.Errorf("--maxmemory-policy %s: %v", p, err)
		}
		if err := New().Set("maxmemory-policy", p); !errors.Is(err, ErrEviction) {
			t.Errorf("CONFIG SET maxmemory-policy %s: %v", p, err)
		}
	}
	c := New()
	if err := c.Set("maxmemory-policy", "NOEVICTION"); err != nil || c.String("maxmemory-policy") != "noeviction" {
		t.Errorf("noeviction: %v", err)
	}
}

// TestMulletDivergence pins where mullet answers differently from
// redis-server 7.0, on purpose.
func TestMulletDivergence(t *testing.T) {
	c := New()
	if c.String("appendonly") != "yes" || c.String("bind") != "127.0.0.1 -::1" {
		t.Error("mullet's defaults: appendonly yes, bind 127.0.0.1 -::1")
	}
	for _, line := range []struct{ line, reason string }{
		{"cluster-enabled yes", "mullet does not support cluster mode: cluster-enabled must be no"},
		{"replicaof 10.0.0.1 6379", "mullet does not support replication: replicaof must be 'no one'"},
		{"slaveof 10.0.0.1 6379", "mullet does not support replication: replicaof must be 'no one'"},
		{"rename-command FLUSHALL \"\"", "rename-command is not supported by mullet"},
		{"user alice on >pw ~* +@all", "ACL users are not supported by mullet; use requirepass"},
		{"loadmodule /x.so", "modules are not supported by mullet"},
		{"sentinel monitor m 1 2 3", "sentinel mode is not supported by mullet"},
		{"mymodule.opt 1", "module configuration is not supported by mullet"},
		{"consumer-route q", "wrong number of arguments"},
		{"consumer-route q t x", "wrong number of arguments"},
		{"consumer-route \"\" t", "consumer-route needs a queue and a table name, both non-empty"},
		{"consumer-route q t`x", "consumer-route table name \"t`x\" contains a backtick or NUL byte"},
		{"consumer-pool-size 0", "argument must be between 1 and 1000 inclusive"},
		{"consumer-pool-size 1001", "argument must be between 1 and 1000 inclusive"},
		{"consumer-linger -1", "argument must be between 0 and 3600000 inclusive"},
		{"consumer-enabled maybe", "argument must be 'yes' or 'no'"},
		{"a\x00b", "NUL byte in configuration line"},
	} {
		err := New().Load(writeTemp(t, line.line+"\n"), nil)
		var fe *FileError
		if !errors.As(err, &fe) || fe.Reason != line.reason || fe.Line != 1 {
			t.Errorf("%q: %v; want reason %q", line.line, err, line.reason)
		}
	}
	// Redis refuses activedefrag yes when built without its own jemalloc
	// (Debian's is not); mullet has no allocator to defragment and accepts it.
	if err := New().Set("activedefrag", "yes"); err != nil {
		t.Error(err)
	}
}

func TestConsumerRoutes(t *testing.T) {
	path := writeTemp(t, "consumer-route order_queue orders\nconsumer-route \"audit queue\" audit_log\n")
	c := New()
	err := c.Load(path, [][]string{{"consumer-route", "q3", "t3"}, {"consumer-route", "q4 t4"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{{"order_queue", "orders"}, {"audit queue", "audit_log"}, {"q3", "t3"}, {"q4", "t4"}}
	if got := c.Routes(); !slices.Equal(got, want) {
		t.Errorf("Routes() = %v; want %v", got, want)
	}
	if got := c.String("consumer-route"); got != "order_queue orders audit queue audit_log q3 t3 q4 t4" {
		t.Errorf("CONFIG GET consumer-route = %q", got)
	}
	if got := c.Strings("consumer-route"); !slices.Equal(got, []string{"order_queue orders", "audit queue audit_log", "q3 t3", "q4 t4"}) {
		t.Errorf("Strings = %q", got)
	}
	// A second Load starts the list afresh; a queue routed twice is refused.
	if err := c.Load("", [][]string{{"consumer-route", "a", "b"}}); err != nil || len(c.Routes()) != 1 {
		t.Errorf("reload: %v, %v", err, c.Routes())
	}
	err = New().Load("", [][]string{{"consumer-route", "a", "b"}, {"consumer-route", "a", "c"}})
	if err == nil || !strings.Contains(err.Error(), `queue "a" is already routed to table "b"`) {
		t.Errorf("duplicate queue: %v", err)
	}
}

func TestAccessors(t *testing.T) {
	c := New()
	err := c.Load("", [][]string{
		{"maxmemory", "18446744073709551615"}, {"timeout", "30"}, {"consumer-linger", "7"},
		{"slowlog-log-slower-than", "250"}, {"save", "900", "1", "300", "10"}, {"bind", "127.0.0.1 ::1"},
		{"client-output-buffer-limit", "pubsub 1mb 2k 9"}, {"maxmemory-clients", "10%"},
		{"appendfsync", "always"}, {"requirepass", "007"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Size("maxmemory") != math.MaxInt64 || c.Int("maxmemory") != -1 || c.String("maxmemory") != "18446744073709551615" {
		t.Errorf("maxmemory: Size %d Int %d String %s", c.Size("maxmemory"), c.Int("maxmemory"), c.String("maxmemory"))
	}
	if c.Size("maxmemory-clients") != -10 || c.String("maxmemory-clients") != "10%" {
		t.Errorf("maxmemory-clients %d", c.Size("maxmemory-clients"))
	}
	if c.Duration("timeout") != 30*time.Second || c.Duration("consumer-linger") != 7*time.Millisecond ||
		c.Duration("slowlog-log-slower-than") != 250*time.Microsecond || c.Duration("consumer-retry-max") != 30*time.Second {
		t.Error("Duration")
	}
	if !c.Bool("appendonly") || c.Bool("consumer-strict-order") || !c.Bool("tls-auth-clients") {
		t.Error("Bool")
	}
	if c.Int("appendfsync") != 1 || c.Int("consumer-pool-size") != 10 || c.Int("requirepass") != 0 {
		t.Error("Int")
	}
	if got := c.Strings("bind"); !slices.Equal(got, []string{"127.0.0.1", "::1"}) {
		t.Errorf("Strings(bind) = %q", got)
	}
	if got := c.Strings("save"); !slices.Equal(got, []string{"900 1", "300 10"}) {
		t.Errorf("Strings(save) = %q", got)
	}
	if got := c.SavePoints(); !slices.Equal(got, []SavePoint{{900, 1}, {300, 10}}) {
		t.Errorf("SavePoints = %v", got)
	}
	if got := c.Strings("loglevel"); !slices.Equal(got, []string{"notice"}) || c.Strings("logfile") != nil {
		t.Errorf("Strings(loglevel) = %q", got)
	}
	if l, ok := c.ClientOutputBufferLimit("pubsub"); !ok || l != (OutputBufferLimit{1 << 20, 2000, 9}) {
		t.Errorf("pubsub limit %+v", l)
	}
	if l, ok := c.ClientOutputBufferLimit("replica"); !ok || l.Hard != 256<<20 {
		t.Errorf("replica limit %+v", l)
	}
	if _, ok := c.ClientOutputBufferLimit("master"); ok {
		t.Error("master has no limit")
	}
	for _, fn := range []func(){
		func() { c.String("nope") },
		func() { c.Duration("maxmemory") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			fn()
		}()
	}
	if _, ok := c.Get("nope"); ok {
		t.Error("Get(nope)")
	}
	if v, ok := c.Get("SLAVE-READ-ONLY"); !ok || v != "yes" {
		t.Error("Get is case-insensitive and knows aliases")
	}
}

func TestConcurrentReadsAndSets(t *testing.T) {
	c := New()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				// maxmemory and timeout change together: one read must
				// never see one without the other.
				var m, tmo string
				for _, kv := range c.MatchAll("maxmemory", "timeout") {
					switch kv[0] {
					case "maxmemory":
						m = kv[1]
					case "timeout":
						tmo = kv[1]
					}
				}
				if n, _ := strconv.Atoi(tmo); m != strconv.Itoa(n*1024) {
					t.Errorf("torn read: maxmemory %s, timeout %s", m, tmo)
					return
				}
				_ = c.Size("maxmemory") + c.Int("timeout")
			}
		})
	}
	for i := range 500 {
		if err := c.Set("maxmemory", fmt.Sprintf("%dkb", i), "timeout", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		file string
		ov   [][]string
		err  error
	}{
		{"nothing", nil, "", nil, nil},
		{"file", []string{"/etc/mullet.conf"}, "/etc/mullet.conf", nil, nil},
		{"file and flag", []string{"mullet.conf", "--port", "7000"}, "mullet.conf", [][]string{{"port", "7000"}}, nil},
		{"multi-value flag", []string{"--port", "7000", "--save", "3600", "1", "300", "100"}, "",
			[][]string{{"port", "7000"}, {"save", "3600", "1", "300", "100"}}, nil},
		{"repeated routes", []string{"f.conf", "--consumer-route", "q", "t", "--consumer-route", "q2", "t2"}, "f.conf",
			[][]string{{"consumer-route", "q", "t"}, {"consumer-route", "q2", "t2"}}, nil},
		{"one arg with spaces", []string{"--bind", "127.0.0.1 ::1"}, "", [][]string{{"bind", "127.0.0.1 ::1"}}, nil},
		{"name and value in one arg", []string{"--port 7000", "--loglevel", "warning"}, "",
			[][]string{{"port", "7000"}, {"loglevel", "warning"}}, nil},
		{"quoted in one arg", []string{`--requirepass "a b"`}, "", [][]string{{"requirepass", "a b"}}, nil},
		{"value starting with --", []string{"--requirepass", "--secret", "--port", "1"}, "",
			[][]string{{"requirepass", "--secret"}, {"port", "1"}}, nil},
		{"negative value", []string{"--list-max-listpack-size", "-2"}, "", [][]string{{"list-max-listpack-size", "-2"}}, nil},
		{"save alone last", []string{"--port", "1", "--save"}, "", [][]string{{"port", "1"}, {"save", ""}}, nil},
		{"save alone before flag", []string{"--save", "--port", "1"}, "", [][]string{{"save", ""}, {"port", "1"}}, nil},
		{"save empty", []string{"--save", ""}, "", [][]string{{"save", ""}}, nil},
		{"flag without value", []string{"--port"}, "", [][]string{{"port"}}, nil},
		{"help", []string{"--help"}, "", nil, ErrHelp},
		{"short help", []string{"-h"}, "", nil, ErrHelp},
		{"stdin first", []string{"-"}, "", nil, ErrStdin},
		{"stdin last", []string{"f.conf", "--port", "1", "-"}, "", nil, ErrStdin},
		{"stray argument", []string{"f.conf", "extra"}, "", nil, &FlagError{}},
		{"empty name", []string{"--", "x"}, "", nil, &FlagError{}},
		{"unbalanced", []string{`--requirepass "x`}, "", nil, &FlagError{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file, ov, err := ParseArgs(tc.args)
			if tc.err != nil {
				var fe *FlagError
				if _, want := tc.err.(*FlagError); want && !errors.As(err, &fe) || !want && !errors.Is(err, tc.err) {
					t.Fatalf("ParseArgs(%q) error %v; want %v", tc.args, err, tc.err)
				}
				return
			}
			if err != nil || file != tc.file || !slices.EqualFunc(ov, tc.ov, slices.Equal) {
				t.Fatalf("ParseArgs(%q) = %q, %q, %v; want %q, %q", tc.args, file, ov, err, tc.file, tc.ov)
			}
		})
	}
}

func TestLoadOverridesWin(t *testing.T) {
	path := writeTemp(t, "port 7000\nsave 900 1\nloglevel debug\n")
	file, ov, err := ParseArgs([]string{path, "--port", "7001", "--save", "60", "5", "--bind", "127.0.0.1 ::1"})
	if err != nil {
		t.Fatal(err)
	}
	c := New()
	if err := c.Load(file, ov); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"port": "7001", "save": "900 1 60 5", "loglevel": "debug", "bind": "127.0.0.1 ::1"} {
		if got := c.String(k); got != v {
			t.Errorf("%s = %q; want %q", k, got, v)
		}
	}
	// A bad flag names itself and changes nothing.
	err = c.Load("", [][]string{{"timeout", "5"}, {"port", "x"}})
	var fe *FlagError
	if !errors.As(err, &fe) || err.Error() != `config: --port "x": argument couldn't be parsed into an integer` {
		t.Errorf("Load = %v", err)
	}
	if c.String("timeout") != "0" {
		t.Error("a failed Load changed timeout")
	}
	if err := c.Load("", [][]string{{"consumer-retry-min", "5000"}, {"consumer-retry-max", "1000"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("retry-min > retry-max: %v", err)
	}
	// One sink: MySQL or PostgreSQL, not both.
	err = c.Load("", [][]string{{"consumer-mysql-dsn", "u:p@tcp(127.0.0.1:3306)/shop"}, {"consumer-postgres-dsn", "postgres://u:p@127.0.0.1/shop"}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "consumer-mysql-dsn and consumer-postgres-dsn are both set") {
		t.Errorf("both DSNs: %v", err)
	}
	if c.String("consumer-postgres-dsn") != "" {
		t.Error("a refused Load set consumer-postgres-dsn")
	}
	if err := c.Load("", [][]string{{"consumer-postgres-dsn", "postgres://u:p@127.0.0.1/shop"}}); err != nil {
		t.Errorf("PostgreSQL DSN alone: %v", err)
	}
	if err := c.SetArgs("port", []string{"7002"}); err != nil || c.Int("port") != 7002 {
		t.Errorf("SetArgs: %v", err)
	}
}

func TestFileErrorPositions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	inner := write("inner.conf", "# inner\n\ntimeout 5\nappendfsync sometimes\n")
	outer := write("outer.conf", "port 7000\ninclude "+inner+"\nport 7001\n")
	err := New().Load(outer, nil)
	var fe *FileError
	if !errors.As(err, &fe) || fe.File != inner || fe.Line != 4 || fe.Text != "appendfsync sometimes" ||
		fe.Reason != "argument(s) must be one of the following: everysec, always, no" {
		t.Fatalf("error in an included file: %#v", err)
	}
	wantReport := "\n*** FATAL CONFIG FILE ERROR ***\nReading the configuration file " + inner +
		", at line 4\n>>> 'appendfsync sometimes'\nargument(s) must be one of the following: everysec, always, no\n"
	if fe.Report() != wantReport {
		t.Errorf("Report:\n%s", fe.Report())
	}
	if want := "config: " + inner + ", line 4: >>> 'appendfsync sometimes': argument(s) must be one of the following: everysec, always, no"; fe.Error() != want {
		t.Errorf("Error: %s", fe.Error())
	}

	// A missing include points at the include line; a missing file at the file.
	missing := write("missing.conf", "\ninclude "+filepath.Join(dir, "nope.conf")+"\n")
	err = New().Load(missing, nil)
	if !errors.As(err, &fe) || fe.File != missing || fe.Line != 2 || !errors.Is(err, fs.ErrNotExist) ||
		fe.Reason != "can't open config file '"+filepath.Join(dir, "nope.conf")+"': No such file or directory" {
		t.Errorf("missing include: %#v", err)
	}
	err = New().Load(filepath.Join(dir, "absent.conf"), nil)
	if !errors.As(err, &fe) || fe.Line != 0 || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %#v", err)
	}

	// An include loop stops instead of recursing forever.
	loop := write("loop.conf", "include "+filepath.Join(dir, "loop.conf")+"\n")
	if err := New().Load(loop, nil); !errors.As(err, &fe) || !strings.Contains(fe.Reason, "include loop") {
		t.Errorf("include loop: %v", err)
	}

	// Glob includes apply in lexical order; no match is fine.
	write("conf.d-a.conf", "timeout 1\n")
	write("conf.d-b.conf", "timeout 2\n")
	globbed := write("glob.conf", "include "+filepath.Join(dir, "conf.d-*.conf")+"\ninclude "+filepath.Join(dir, "none-*.conf")+"\n")
	c := New()
	if err := c.Load(globbed, []([]string){{"include", filepath.Join(dir, "conf.d-a.conf")}}); err != nil || c.Int("timeout") != 1 {
		t.Errorf("glob include: %v, timeout %d", err, c.Int("timeout"))
	}
	if err := New().Load("", [][]string{{"include", filepath.Join(dir, "nope.conf")}}); !errors.As(err, new(*FlagError)) {
		t.Errorf("--include of a missing file: %v", err)
	}

	// Line numbers count blank lines, comments and CRLF endings.
	crlf := write("crlf.conf", "# c\r\n\r\nport 1\r\n\r\n   timeout  x  \r\n")
	if err := New().Load(crlf, nil); !errors.As(err, &fe) || fe.Line != 5 || fe.Text != "timeout  x" {
		t.Errorf("CRLF: %#v", err)
	}
}

func TestUsage(t *testing.T) {
	u := Usage()
	for _, d := range Directives() {
		if !strings.Contains(u, "\n  --"+d.Name+" ") {
			t.Errorf("Usage lacks %s", d.Name)
		}
	}
	for _, s := range []string{"--consumer-pool-size 10  [start-up]\n", "--consumer-linger 5 (ms)\n",
		"Alias: slave-read-only.", "--proto-max-bulk-len 512mb\n", "--consumer-route \"\"  [start-up]\n"} {
		if !strings.Contains(u, s) {
			t.Errorf("Usage lacks %q", s)
		}
	}
}

func TestRewrite(t *testing.T) {
	const old = `# My mullet
port 7000
bogus-directive 1
include /nonexistent/extra.conf
save 900 1
save 300 10

# memory


maxmemory 1gb
slave-read-only no
consumer-route a b
bind "127.0.0.1 ::1"
`
	dir := t.TempDir()
	path := filepath.Join(dir, "mullet.conf")
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	c := New()
	if err := c.Load("", [][]string{{"port", "7000"}, {"consumer-route", "a", "b"}, {"consumer-route", "c", "d"},
		{"maxmemory", "2mb"}, {"save", "60", "1"}, {"requirepass", "x y"}, {"dir", dir}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(""); !errors.Is(err, ErrNoConfigFile) {
		t.Errorf("Rewrite without a file: %v", err)
	}
	if err := c.Rewrite(path); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, dir, "mullet.conf")
	want := `# My mullet
port 7000
# ??? bogus-directive 1
include /nonexistent/extra.conf
save 60 1

# memory

maxmemory 2mb
replica-read-only yes
consumer-route "a" "b"

# Generated by CONFIG REWRITE
requirepass "x y"
dir "` + dir + `"
consumer-route "c" "d"
latency-tracking-info-percentiles 50 99 99.9
`
	if got != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", got, want)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v", st.Mode(), err)
	}
	// A second rewrite changes nothing, and leaves no temporary files.
	if err := c.Rewrite(path); err != nil {
		t.Fatal(err)
	}
	if again := readFile(t, dir, "mullet.conf"); again != got {
		t.Errorf("second rewrite:\n%s", again)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	// A file that does not exist yet is created.
	fresh := filepath.Join(dir, "new.conf")
	if err := c.Rewrite(fresh); err != nil {
		t.Fatal(err)
	}
	back := New()
	if err := back.Load(fresh, nil); err != nil {
		t.Fatal(err)
	}
	if d := diffGet(ourPairs(c, "*"), ourPairs(back, "*")); d != nil {
		t.Errorf("reloaded: %v", d)
	}
}

func BenchmarkAccessors(b *testing.B) {
	c := New()
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Size("maxmemory")
		_ = c.Bool("appendonly")
		_ = c.Int("consumer-batch-size")
		_ = c.Duration("consumer-linger")
	}
}
