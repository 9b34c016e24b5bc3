package server

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mullet/internal/resp"
	"mullet/internal/testutil"
)

// infoBody returns the text of an INFO reply (RESP2 bulk or RESP3
// verbatim), checking the framing.
func infoBody(t testing.TB, reply string) string {
	t.Helper()
	v, rest, err := resp.Parse([]byte(reply))
	if err != nil || len(rest) != 0 || v.Kind != '$' {
		// parseRV does not know '=': check the verbatim frame here.
		if strings.HasPrefix(reply, "=") {
			i := strings.Index(reply, "\r\n")
			n, _ := strconv.Atoi(reply[1:i])
			body := reply[i+2:]
			if len(body) != n+2 || !strings.HasPrefix(body, "txt:") || !strings.HasSuffix(body, "\r\n") {
				t.Fatalf("bad verbatim reply %q", reply)
			}
			return body[4:n]
		}
		t.Fatalf("INFO reply %q is not a bulk string", reply)
	}
	return v.Str
}

// sectionsOf returns an INFO text's section titles and, by title, its
// field names in order.
func sectionsOf(info string) (titles []string, fields map[string][]string) {
	fields = map[string][]string{}
	cur := ""
	for _, line := range strings.Split(info, "\r\n") {
		switch {
		case strings.HasPrefix(line, "# "):
			cur = line[2:]
			titles = append(titles, cur)
		case line != "":
			name, _, _ := strings.Cut(line, ":")
			fields[cur] = append(fields[cur], name)
		}
	}
	return titles, fields
}

// The node_redis 3 ready check: INFO must be a bulk reply holding
// loading:0, and while the AOF loads INFO must still answer, with
// loading:1, while data commands get -LOADING.
func TestInfoReadyCheck(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	reply := r.do("INFO")
	if !strings.HasPrefix(reply, "$") || !strings.Contains(reply, "\r\nloading:0\r\n") {
		t.Fatalf("INFO = %.200q..., want a bulk string with loading:0", reply)
	}
	ts.s.SetLoading(true)
	if got := infoValue(infoBody(t, r.do("INFO")), "loading"); got != "1" {
		t.Errorf("while loading, loading:%s", got)
	}
	if got := r.do("LPUSH", "q", "a"); got != "-LOADING Redis is loading the dataset in memory\r\n" {
		t.Errorf("LPUSH while loading = %q", got)
	}
	ts.s.SetLoading(false)
	if got := infoValue(infoBody(t, r.do("INFO", "persistence")), "loading"); got != "0" {
		t.Errorf("after loading, loading:%s", got)
	}
}

func TestInfoFormat(t *testing.T) {
	ts := startServerWith(t, serverOpts{configure: func(c *Config) {
		c.Sections = []InfoSection{{Name: "consumer", Info: func(add func(string, string)) {
			add("consumer_running", "1")
			add("consumer_batches", "7")
		}}}
	}})
	r := ts.raw(t)
	for _, tc := range []struct {
		args   []string
		titles []string
	}{
		{nil, []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats", "Cluster", "Keyspace", "Consumer"}},
		{[]string{"default"}, []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats", "Cluster", "Keyspace", "Consumer"}},
		{[]string{"all"}, []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace", "Consumer"}},
		{[]string{"EVERYTHING"}, []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace", "Consumer"}},
		{[]string{"keyspace", "SERVER"}, []string{"Server", "Keyspace"}},
		{[]string{"consumer"}, []string{"Consumer"}},
		{[]string{"commandstats", "bogus", "cpu"}, []string{"CPU", "Commandstats"}},
	} {
		info := infoBody(t, r.do(append([]string{"INFO"}, tc.args...)...))
		titles, _ := sectionsOf(info)
		if !slices.Equal(titles, tc.titles) {
			t.Errorf("INFO %v sections = %v, want %v", tc.args, titles, tc.titles)
		}
		if strings.HasSuffix(info, "\r\n\r\n") || !strings.HasSuffix(info, "\r\n") || strings.Contains(strings.ReplaceAll(info, "\r\n", ""), "\n") {
			t.Errorf("INFO %v: lines must end in CRLF, sections be separated by one blank line: %q", tc.args, info)
		}
	}
	if got := r.do("INFO", "consumer"); got != "$52\r\n# Consumer\r\nconsumer_running:1\r\nconsumer_batches:7\r\n\r\n" {
		t.Errorf("INFO consumer = %q", got)
	}
	r.do("HELLO", "3")
	if got := r.do("INFO", "consumer"); got != "=56\r\ntxt:# Consumer\r\nconsumer_running:1\r\nconsumer_batches:7\r\n\r\n" {
		t.Errorf("INFO consumer in RESP3 = %q", got)
	}
	if got := r.do("INFO", "nosuch"); got != "=4\r\ntxt:\r\n" {
		t.Errorf("INFO nosuch in RESP3 = %q", got)
	}
	info := infoBody(t, r.do("INFO", "server"))
	if infoValue(info, "mullet_version") != "test" || infoValue(info, "redis_version") != "7.0.15" ||
		infoValue(info, "process_id") != strconv.Itoa(os.Getpid()) || len(infoValue(info, "run_id")) != 40 {
		t.Errorf("INFO server = %q", info)
	}
	if port := infoValue(info, "tcp_port"); !strings.HasSuffix(ts.addr, ":"+port) {
		t.Errorf("tcp_port:%s, server on %s", port, ts.addr)
	}
}

func TestInfoCounters(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	// Command statistics live in the command table, which every server in
	// this test binary shares: start from zero.
	r.do("CONFIG", "RESETSTAT")
	r.do("RPUSH", "q", "a", "b")
	r.do("SET", "s", "v")
	r.do("LPUSH", "s", "x") // WRONGTYPE
	r.do("CLIENT", "LIST")
	r.do("CLIENT", "NOSUCH")
	r.do("LPUSH")
	r.do("SELECT", "3")
	r.do("RPUSH", "q3", "x")
	r.do("SELECT", "0")
	r.do("SET", "t", "v")
	tx := ts.ks.Begin()
	tx.Expire(0, []byte("t"), tx.NowMs()+100000, 0)
	tx.End()

	info := infoBody(t, r.do("INFO", "everything"))
	cmdstat := regexp.MustCompile(`^calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,failed_calls=\d+$`)
	for _, tc := range []struct{ name, want string }{
		{"cmdstat_rpush", "calls=2,"},
		{"cmdstat_lpush", "calls=1,"},
		{"cmdstat_client|list", "calls=1,"},
		{"errorstat_ERR", "count=2"},
		{"errorstat_WRONGTYPE", "count=1"},
		{"db0", "keys=3,expires=1,avg_ttl="},
		{"db3", "keys=1,expires=0,avg_ttl=0"},
		{"connected_clients", "1"},
		{"total_error_replies", "3"},
		{"role", "master"},
		{"aof_enabled", "0"},
		{"maxmemory_policy", "noeviction"},
	} {
		if got := infoValue(info, tc.name); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s:%s, want %s...", tc.name, got, tc.want)
		}
	}
	if got := infoValue(info, "cmdstat_lpush"); !strings.HasSuffix(got, ",rejected_calls=1,failed_calls=1") || !cmdstat.MatchString(got) {
		t.Errorf("cmdstat_lpush:%s", got)
	}
	ttl, _ := strconv.Atoi(strings.TrimPrefix(infoValue(info, "db0"), "keys=3,expires=1,avg_ttl="))
	if ttl <= 90000 || ttl > 100000 {
		t.Errorf("avg_ttl %d, want about 100000", ttl)
	}
	if n, _ := strconv.Atoi(infoValue(info, "used_memory")); int64(n) != ts.ks.UsedMemory() || n == 0 {
		t.Errorf("used_memory:%d, keyspace accounts %d", n, ts.ks.UsedMemory())
	}
	if n, _ := strconv.Atoi(infoValue(info, "used_memory_rss")); n < 1<<20 {
		t.Errorf("used_memory_rss:%d", n)
	}
	if !regexp.MustCompile(`^\d+\.\d{6}$`).MatchString(infoValue(info, "used_cpu_user")) {
		t.Errorf("used_cpu_user:%s", infoValue(info, "used_cpu_user"))
	}

	// The rates are sampled every 100 ms.
	for i := 0; i < 200; i++ {
		r.cmd("PING")
	}
	for i := 0; i < 200; i++ {
		r.reply()
	}
	testutil.WaitFor(t, 5*time.Second, "instantaneous_ops_per_sec > 0", func() bool {
		return infoValue(infoBody(t, r.do("INFO", "stats")), "instantaneous_ops_per_sec") != "0"
	})

	if got := r.do("CONFIG", "RESETSTAT"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	info = infoBody(t, r.do("INFO", "all"))
	for _, name := range []string{"cmdstat_rpush", "cmdstat_lpush", "errorstat_ERR", "errorstat_WRONGTYPE"} {
		if got := infoValue(info, name); got != "" {
			t.Errorf("after RESETSTAT %s:%s", name, got)
		}
	}
	// RESETSTAT itself is counted once it has run, as in Redis.
	for name, want := range map[string]string{"total_commands_processed": "1", "total_error_replies": "0",
		"total_connections_received": "0", "keyspace_hits": "0"} {
		if got := infoValue(info, name); got != want {
			t.Errorf("after RESETSTAT %s:%s", name, got)
		}
	}
	if got := infoValue(info, "db0"); !strings.HasPrefix(got, "keys=3,") {
		t.Errorf("RESETSTAT must keep the data: db0:%s", got)
	}
}

// blocked_clients counts clients blocked on keys exactly, and INFO inside
// EXEC, which already holds the keyspace, must not deadlock reading it.
func TestInfoBlockedClients(t *testing.T) {
	ts := startServer(t)
	blocker, r := ts.raw(t), ts.raw(t)
	blocker.cmd("BLPOP", "q", "0")
	testutil.WaitFor(t, 5*time.Second, "blocked_clients:1", func() bool {
		return infoValue(infoBody(t, r.do("INFO", "clients")), "blocked_clients") == "1"
	})
	r.do("MULTI")
	r.do("INFO", "clients")
	r.do("CLIENT", "LIST")
	exec := r.do("EXEC")
	if !strings.Contains(exec, "blocked_clients:1\r\n") || !strings.Contains(exec, "flags=b ") {
		t.Errorf("EXEC of INFO and CLIENT LIST = %q", exec)
	}
	r.do("LPUSH", "q", "x")
	if got := blocker.reply(); got != "*2\r\n$1\r\nq\r\n$1\r\nx\r\n" {
		t.Fatal(got)
	}
	if got := infoValue(infoBody(t, r.do("INFO")), "blocked_clients"); got != "0" {
		t.Errorf("blocked_clients:%s after the pop", got)
	}
}

func TestInfoPersistence(t *testing.T) {
	p := &fakePersistence{}
	ts := startServerWith(t, serverOpts{configure: func(c *Config) { c.Persistence = p }})
	_, fields := sectionsOf(infoBody(t, ts.raw(t).do("INFO", "persistence")))
	got := fields["Persistence"]
	i := slices.Index(got, "rdb_last_load_keys_loaded")
	if i < 0 || !slices.Equal(got[i+1:], []string{"aof_enabled", "aof_rewrite_in_progress", "aof_current_size",
		"module_fork_in_progress", "module_fork_last_cow_size"}) {
		t.Errorf("persistence fields = %v", got)
	}
}

// TestInfoFieldsMatchRedis compares INFO everything's sections and field
// names with redis-server's: the same sections in the same order, every
// field Redis shows present in the same relative order, and nothing more
// but mullet_version. Per-command and per-error lines depend on what ran.
func TestInfoFieldsMatchRedis(t *testing.T) {
	ts := startServer(t)
	ours, theirs := ts.raw(t), dialRaw(t, startRedis(t))
	for _, r := range []*raw{ours, theirs} {
		r.do("RPUSH", "q", "a")
		r.do("LPUSH")
	}
	for _, section := range []string{"", "default", "all", "everything"} {
		args := []string{"INFO"}
		if section != "" {
			args = append(args, section)
		}
		ourTitles, ourFields := sectionsOf(infoBody(t, ours.do(args...)))
		redisTitles, redisFields := sectionsOf(infoBody(t, theirs.do(args...)))
		if !slices.Equal(ourTitles, redisTitles) {
			t.Errorf("INFO %s sections: mullet %v, redis-server %v", section, ourTitles, redisTitles)
		}
		if section != "everything" {
			continue
		}
		variable := regexp.MustCompile(`^(cmdstat_|errorstat_|latency_percentiles_usec_|db\d+$)`)
		for _, title := range redisTitles {
			var want, got []string
			for _, f := range redisFields[title] {
				if !variable.MatchString(f) {
					want = append(want, f)
				}
			}
			for _, f := range ourFields[title] {
				if !variable.MatchString(f) && f != "mullet_version" {
					got = append(got, f)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("INFO %s fields:\n mullet       %v\n redis-server %v", title, got, want)
			}
		}
	}
}

// TestInfoKeyspaceMatchesRedis pins the keyspace line and the stats
// counters after the same commands on both servers.
func TestInfoKeyspaceMatchesRedis(t *testing.T) {
	ts := startServer(t)
	ours, theirs := ts.raw(t), dialRaw(t, startRedis(t))
	for _, r := range []*raw{ours, theirs} {
		r.do("RPUSH", "q", "a", "b")
		r.do("SET", "s", "v")
		r.do("GET", "s")
		r.do("GET", "nosuch")
		r.do("SELECT", "5")
		r.do("RPUSH", "q", "a")
		r.do("SELECT", "0")
	}
	for _, name := range []string{"db0", "db5", "keyspace_hits", "keyspace_misses", "expired_keys"} {
		o, r := infoValue(infoBody(t, ours.do("INFO", "everything")), name), infoValue(infoBody(t, theirs.do("INFO", "everything")), name)
		if o != r {
			t.Errorf("%s: mullet %q, redis-server %q", name, o, r)
		}
	}
}

// TestCommandStatsPerServer: two servers in one process keep their own
// command statistics (they share only the command table's definitions).
func TestCommandStatsPerServer(t *testing.T) {
	a, b := startServer(t), startServer(t)
	ra, rb := a.raw(t), b.raw(t)
	for range 3 {
		ra.do("LPUSH", "q", "x")
	}
	if got := ra.do("INFO", "commandstats"); !strings.Contains(got, "cmdstat_lpush:calls=3,") {
		t.Errorf("the server that ran LPUSH shows %q", got)
	}
	if got := rb.do("INFO", "commandstats"); strings.Contains(got, "cmdstat_lpush") {
		t.Errorf("the other server shows %q", got)
	}
}
