package e2e

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The interop workload: every list command a queue uses, in two
// databases, with empty, binary and long values, plus strings.
var (
	interopDBs   = []int{0, 3}
	interopLists = []string{"q", "jobs", "empty-then-refilled", "bin"}
	interopStrs  = []string{"counter", "lock"}
)

func interopWorkload(t *testing.T, addr string, seed uint64, ops int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, db := range interopDBs {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
		defer c.Close()
		val := func() string {
			switch rng.IntN(8) {
			case 0:
				return ""
			case 1:
				return "bin\x00\r\n\xff" + fmt.Sprint(rng.IntN(1000))
			case 2:
				return strings.Repeat("long", 300)
			}
			return fmt.Sprintf(`{"id":%d,"db":%d}`, rng.IntN(1e6), db)
		}
		for range ops {
			k := interopLists[rng.IntN(len(interopLists))]
			var err error
			switch rng.IntN(12) {
			case 0, 1, 2:
				err = c.LPush(Ctx, k, val(), val()).Err()
			case 3, 4:
				err = c.RPush(Ctx, k, val()).Err()
			case 5:
				err = c.RPop(Ctx, k).Err()
			case 6:
				err = c.LPop(Ctx, k).Err()
			case 7:
				err = c.LMove(Ctx, k, interopLists[rng.IntN(len(interopLists))], "LEFT", "RIGHT").Err()
			case 8:
				err = c.LSet(Ctx, k, 0, val()).Err()
			case 9:
				err = c.LTrim(Ctx, k, 0, 20).Err()
			case 10:
				err = c.LRem(Ctx, k, 1, "").Err()
			case 11:
				err = c.Set(Ctx, interopStrs[rng.IntN(len(interopStrs))], val(), 0).Err()
			}
			if err != nil && err != redis.Nil && !strings.HasPrefix(err.Error(), "ERR no such key") {
				t.Fatalf("db %d: %v", db, err)
			}
		}
	}
}

// dataset reads every key of the workload: "db key: value(s)" lines.
func dataset(t *testing.T, addr string) string {
	t.Helper()
	var lines []string
	for _, db := range interopDBs {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
		for _, k := range interopLists {
			v, err := c.LRange(Ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatalf("LRANGE %s: %v", k, err)
			}
			lines = append(lines, fmt.Sprintf("%d %s: %q", db, k, v))
		}
		for _, k := range interopStrs {
			v, err := c.Get(Ctx, k).Result()
			if err == redis.Nil {
				v = "<nil>"
			} else if err != nil {
				t.Fatalf("GET %s: %v", k, err)
			}
			lines = append(lines, fmt.Sprintf("%d %s: %q", db, k, v))
		}
		c.Close()
	}
	if !strings.Contains(strings.Join(lines, ""), `{\"id\"`) {
		t.Fatalf("the workload left no data to compare:\n%s", strings.Join(lines, "\n"))
	}
	return strings.Join(lines, "\n")
}

func redisCheckAOF(t *testing.T, manifest string) {
	t.Helper()
	out, err := exec.Command("redis-check-aof", manifest).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "is valid") {
		t.Fatalf("redis-check-aof %s: %v\n%s", manifest, err, out)
	}
}

// waitRewrite polls redis-server's INFO persistence until no AOF rewrite
// runs or is scheduled.
func waitRewrite(t *testing.T, c *redis.Client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := c.Info(Ctx, "persistence").Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server's rewrite did not finish:\n%s", info)
		}
		time.Sleep(10 * time.Millisecond) // polling another process
	}
}

// TestRedisLoadsMulletDir: a directory mullet wrote (with a custom
// appenddirname and appendfilename) loads in redis-server 7.0 to the same
// data, and redis-check-aof accepts it.
func TestRedisLoadsMulletDir(t *testing.T) {
	for _, policy := range []string{"always", "everysec"} {
		t.Run(policy, func(t *testing.T) {
			dir := t.TempDir()
			names := []string{"--appenddirname", "queue-aof", "--appendfilename", "q.aof"}
			m := Start(t, dir, append([]string{"--appendonly", "yes", "--appendfsync", policy}, names...)...)
			interopWorkload(t, m.Addr, 7, 400)
			want := dataset(t, m.Addr)
			m.Stop(t)
			redisCheckAOF(t, filepath.Join(dir, "queue-aof", "q.aof.manifest"))

			r := StartRedis(t, dir, append([]string{"--appendonly", "yes"}, names...)...)
			if got := dataset(t, r.Addr); got != want {
				t.Fatalf("redis-server loaded a different state\n got:\n%s\nwant:\n%s", got, want)
			}
			// And back: what redis-server appended after loading ours
			// loads in mullet.
			interopWorkload(t, r.Addr, 8, 100)
			want = dataset(t, r.Addr)
			r.Stop(t)
			m = Start(t, dir, append([]string{"--appendonly", "yes"}, names...)...)
			if got := dataset(t, m.Addr); got != want {
				t.Fatalf("mullet reloaded a different state\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestMulletLoadsRedisDir: directories redis-server 7.0 wrote, with an
// RESP base (aof-use-rdb-preamble no) and with its default RDB base, each
// after a BGREWRITEAOF and more writes into the incr file, load in mullet
// to the same data; mullet then appends to them and reloads.
func TestMulletLoadsRedisDir(t *testing.T) {
	for _, preamble := range []string{"no", "yes"} {
		t.Run("aof-use-rdb-preamble-"+preamble, func(t *testing.T) {
			dir := t.TempDir()
			r := StartRedis(t, dir, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
			c := r.Client(t)
			interopWorkload(t, r.Addr, 11, 300)
			if err := c.BgRewriteAOF(Ctx).Err(); err != nil {
				t.Fatal(err)
			}
			waitRewrite(t, c)
			interopWorkload(t, r.Addr, 12, 300)
			want := dataset(t, r.Addr)
			r.Stop(t)
			base, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.base.*"))
			if len(base) != 1 || (preamble == "yes") != strings.HasSuffix(base[0], ".rdb") {
				t.Fatalf("redis-server's base file: %v", base)
			}

			m := Start(t, dir, "--appendonly", "yes")
			if got := dataset(t, m.Addr); got != want {
				t.Fatalf("mullet loaded a different state\n got:\n%s\nwant:\n%s", got, want)
			}
			interopWorkload(t, m.Addr, 13, 100)
			want = dataset(t, m.Addr)
			m.Stop(t)
			redisCheckAOF(t, filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
			m = Start(t, dir, "--appendonly", "yes")
			if got := dataset(t, m.Addr); got != want {
				t.Fatalf("mullet reloaded a different state\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
