package aof

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mullet/internal/e2e"
	respc "mullet/internal/resp"
)

// redisProc is a redis-server started by a test (through internal/e2e,
// which every package's comparisons use) on a free loopback port, with a
// connection to it; it is stopped by PID.
type redisProc struct {
	t    testing.TB
	srv  *e2e.Server
	addr string
	conn *respc.Conn
}

// needRedis fails the test unless redis-server 7.0 and redis-check-aof are
// installed (CI installs both).
func needRedis(t testing.TB) {
	t.Helper()
	e2e.RedisBin(t)
	if _, err := exec.LookPath("redis-check-aof"); err != nil {
		t.Fatalf("redis-check-aof not installed (apt-get install redis-tools; CI does): %v", err)
	}
}

// startRedis runs redis-server with appendonly on dir and waits until it
// has loaded its data.
func startRedis(t testing.TB, dir string, extra ...string) *redisProc {
	t.Helper()
	needRedis(t)
	srv := e2e.StartRedisWith(t, e2e.RedisOptions{Dir: dir,
		Args: append([]string{"--appendonly", "yes", "--aof-use-rdb-preamble", "no"}, extra...)})
	c, err := respc.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &redisProc{t: t, srv: srv, addr: srv.Addr, conn: c}
	t.Cleanup(r.stop)
	return r
}

// stop sends SIGTERM (redis flushes and fsyncs its AOF) and waits.
func (r *redisProc) stop() {
	if r.srv == nil {
		return
	}
	r.conn.Close()
	r.srv.Stop(r.t)
	r.srv = nil
}

// do sends one command and reads the reply: string, int64, nil, []any, or
// a resp.Error for -ERR replies.
func (r *redisProc) do(a ...string) (any, error) {
	r.conn.SetDeadline(time.Now().Add(20 * time.Second))
	return r.conn.Do(respc.Args(a...)...)
}

func (r *redisProc) must(a ...string) any {
	r.t.Helper()
	v, err := r.do(a...)
	if err != nil {
		r.t.Fatalf("%v: %v", a, err)
	}
	return v
}

// state reads every key of dbs 0..3 in the form model.String prints.
func (r *redisProc) state() string {
	m := newModel()
	for db := range 4 {
		r.must("SELECT", strconv.Itoa(db))
		keys := r.must("KEYS", "*").([]any)
		for _, k := range keys {
			key := k.(string)
			switch r.must("TYPE", key) {
			case "list":
				for _, v := range r.must("LRANGE", key, "0", "-1").([]any) {
					m.list(db)[key] = append(m.list(db)[key], v.(string))
				}
			case "string":
				if m.strs[db] == nil {
					m.strs[db] = map[string]string{}
				}
				m.strs[db][key] = r.must("GET", key).(string)
			}
		}
	}
	r.must("SELECT", "0")
	return m.String()
}

func redisCheckAOF(t testing.TB, manifest string) (string, error) {
	out, err := exec.Command("redis-check-aof", manifest).CombinedOutput()
	return string(out), err
}

// TestRedisLoadsOurAOF: a directory we wrote (with a rewrite, SELECTs,
// MULTI/EXEC, checksum annotations) passes redis-check-aof and loads into
// redis-server 7.0 with the same state.
func TestRedisLoadsOurAOF(t *testing.T) {
	needRedis(t)
	for _, fileName := range []string{DefaultFileName, "my queue.aof"} {
		t.Run(fileName, func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions(t, dir)
			opts.FileName = fileName
			a, _ := mustOpen(t, opts)
			ks := &fakeKeyspace{log: a, m: newModel()}
			for i := range 300 {
				ks.do(i%3, "LPUSH", fmt.Sprint("q", i%4), fmt.Sprint("job-", i))
			}
			ks.do(0, "RPOP", "q0")
			ks.do(2, "SET", "k", "v")
			if err := a.Rewrite(ks); err != nil {
				t.Fatal(err)
			}
			a.wg.Wait()
			ks.do(1, "RPOP", "q1")
			ks.mu.Lock()
			for _, c := range [][]string{{"MULTI"}, {"LPUSH", "q3", "in-multi"}, {"RPUSH", "q3", "tail"}, {"EXEC"}} {
				ks.m.db = 3
				ks.m.exec(args(c...))
				a.Append(3, args(c...))
			}
			ks.mu.Unlock()
			ks.do(0, "SET", "ttl", "x")
			a.Wait(ks.do(0, "PEXPIREAT", "ttl", strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)))
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}

			out, err := redisCheckAOF(t, filepath.Join(a.Dir(), fileName+".manifest"))
			if err != nil || !strings.Contains(out, "All AOF files and manifest are valid") {
				t.Fatalf("redis-check-aof: %v\n%s", err, out)
			}
			r := startRedis(t, dir, "--appendfilename", fileName)
			if got, want := r.state(), ks.m.String(); got != want {
				t.Fatalf("redis-server state differs\n got: %s\nwant: %s", got, want)
			}
			if ttl := r.must("PTTL", "ttl").(int64); ttl <= 0 {
				t.Fatalf("PTTL = %d, the PEXPIREAT was lost", ttl)
			}
		})
	}
}

// TestWeLoadRedisAOF: a directory redis-server 7.0 wrote (with
// aof-use-rdb-preamble no, a BGREWRITEAOF in the middle) replays to the
// same state; we then append to it and redis-server reads that back.
func TestWeLoadRedisAOF(t *testing.T) {
	needRedis(t)
	dir := t.TempDir()
	r := startRedis(t, dir)
	r.must("LPUSH", "q", "a", "b", "c")
	r.must("RPOP", "q")
	r.must("SET", "k", "v")
	r.must("EXPIRE", "k", "1000")
	r.must("SELECT", "2")
	r.must("LPUSH", "q2", "x")
	r.must("MULTI")
	r.must("LPUSH", "q2", "y")
	r.must("RPUSH", "q3", "z")
	r.must("EXEC")
	r.must("SELECT", "0")
	r.must("BGREWRITEAOF")
	deadline := time.Now().Add(20 * time.Second)
	for {
		info := r.must("INFO", "persistence").(string)
		if strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") &&
			strings.Contains(info, "aof_rewrites:1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("BGREWRITEAOF did not finish:\n%s", info)
		}
		time.Sleep(20 * time.Millisecond) // polling an external process
	}
	r.must("LPUSH", "q", "d")
	r.must("MULTI")
	r.must("RPUSH", "q", "e")
	r.must("SET", "k2", "v2")
	r.must("EXEC")
	r.must("SELECT", "2")
	r.must("RPOP", "q2")
	r.must("DEL", "q3")
	r.must("SELECT", "1")
	for i := range 100 {
		r.must("RPUSH", "big", fmt.Sprint(i))
	}
	want := r.state()
	r.stop()

	ad := filepath.Join(dir, DefaultDirName)
	if m := readManifest(t, ad); !strings.Contains(m, "appendonly.aof.2.base.aof seq 2 type b") {
		t.Fatalf("redis did not rewrite: %q", m)
	}
	opts := testOptions(t, dir)
	a, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	m := newModel()
	var cmds []string
	if err := a.Load(func(argv [][]byte) error {
		cmds = append(cmds, strings.ToUpper(string(argv[0])))
		return m.exec(argv)
	}); err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != want {
		t.Fatalf("replayed state differs\n got: %s\nwant: %s", got, want)
	}
	t.Logf("replayed %d commands: %v", len(cmds), cmds)
	a.Wait(a.Append(0, args("LPUSH", "q", "from-mullet")))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := redisCheckAOF(t, filepath.Join(ad, "appendonly.aof.manifest"))
	if err != nil {
		t.Fatalf("redis-check-aof: %v\n%s", err, out)
	}
	r = startRedis(t, dir)
	if got := fmt.Sprint(r.must("LRANGE", "q", "0", "-1")); got != "[from-mullet d c b e]" {
		t.Fatalf("LRANGE q = %s", got)
	}
	if got := r.must("DBSIZE").(int64); got != 3 {
		t.Fatalf("DBSIZE = %d", got)
	}
}

// TestCheckAgreesWithRedisCheckAOF: on a torn last incr file both tools
// report the same ok_up_to, and after our fix redis-check-aof is happy.
func TestCheckAgreesWithRedisCheckAOF(t *testing.T) {
	needRedis(t)
	dir := t.TempDir()
	opts := testOptions(t, dir)
	a, _ := mustOpen(t, opts)
	for i := range 20 {
		appendWait(t, a, 0, "LPUSH", "q", fmt.Sprint(i))
	}
	a.Close()
	incr := filepath.Join(a.Dir(), "appendonly.aof.1.incr.aof")
	size := fileSize(t, incr)
	os.Truncate(incr, size-30)
	manifest := filepath.Join(a.Dir(), "appendonly.aof.manifest")
	theirs, _ := redisCheckAOF(t, manifest)
	var ours strings.Builder
	err := Check(dir, opts, false, &ours)
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("Check = %v\n%s", err, ours.String())
	}
	okUpTo := func(s string) string {
		i := strings.Index(s, "ok_up_to=")
		if i < 0 {
			return "<none>"
		}
		return strings.Fields(s[i:])[0]
	}
	if okUpTo(theirs) != okUpTo(ours.String()) {
		t.Fatalf("ok_up_to differs:\nredis-check-aof:\n%s\nours:\n%s", theirs, ours.String())
	}
	ours.Reset()
	if err := Check(a.Dir(), opts, true, &ours); err != nil {
		t.Fatalf("Check --fix = %v\n%s", err, ours.String())
	}
	if out, err := redisCheckAOF(t, manifest); err != nil {
		t.Fatalf("after our fix, redis-check-aof: %v\n%s", err, out)
	}
}

// TestRedisLoadsCrashedPaddedAOF: what a crash under always leaves (the
// incr file padded ahead of its data) is valid for redis-check-aof and
// loads in redis-server; what redis-server then appends after the padding
// loads in redis-server and in mullet.
func TestRedisLoadsCrashedPaddedAOF(t *testing.T) {
	needRedis(t)
	dir, incr, want := crashedPadded(t, 30)
	if fileSize(t, incr) == dataSize(t, incr) {
		t.Fatal("the crash copy has no padding")
	}
	manifest := filepath.Join(filepath.Dir(incr), "appendonly.aof.manifest")
	if out, err := redisCheckAOF(t, manifest); err != nil {
		t.Fatalf("redis-check-aof on a padded directory: %v\n%s", err, out)
	}
	var items []string
	for _, c := range want[1:] {
		items = append([]string{strings.TrimPrefix(c, "LPUSH q ")}, items...)
	}
	r := startRedis(t, dir)
	if got := fmt.Sprint(r.must("LRANGE", "q", "0", "-1")); got != fmt.Sprint(items) {
		t.Fatalf("redis-server LRANGE q = %s, want %s", got, fmt.Sprint(items))
	}
	r.must("LPUSH", "q", "from-redis")
	r.stop()
	items = append([]string{"from-redis"}, items...)
	r = startRedis(t, dir)
	if got := fmt.Sprint(r.must("LRANGE", "q", "0", "-1")); got != fmt.Sprint(items) {
		t.Fatalf("after redis-server appended and restarted, LRANGE q = %s", got)
	}
	r.stop()
	got, err := loadDir(t, testOptions(t, dir))
	if err != nil {
		t.Fatalf("mullet loading what redis-server appended after the padding: %v", err)
	}
	if last := got[len(got)-1]; last != "LPUSH q from-redis" {
		t.Fatalf("mullet's last command = %q", last)
	}
}
