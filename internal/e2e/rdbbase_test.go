package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestRedisLoadsMulletRDBBase: after a BGREWRITEAOF, mullet's directory
// holds an RDB base named *.base.rdb (aof-use-rdb-preamble yes, the
// default) or a RESP one (no), listed in the manifest as Redis lists it;
// redis-check-aof accepts the directory, redis-server 7.0 loads it to the
// same data, and so does mullet. Lists long enough to be compressed
// (list-compress-depth 1) are written from their compressed chunks.
func TestRedisLoadsMulletRDBBase(t *testing.T) {
	for _, tc := range []struct{ preamble, depth, suffix string }{
		{"yes", "0", ".rdb"}, {"yes", "1", ".rdb"}, {"no", "1", ".aof"},
	} {
		t.Run("preamble-"+tc.preamble+"-depth-"+tc.depth, func(t *testing.T) {
			dir := t.TempDir()
			m := Start(t, dir, "--appendonly", "yes", "--aof-use-rdb-preamble", tc.preamble, "--list-compress-depth", tc.depth)
			interopWorkload(t, m.Addr, 21, 300)
			c := redis.NewClient(&redis.Options{Addr: m.Addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
			defer c.Close()
			// A backlog of many chunks, in db 0 and db 3.
			for _, db := range interopDBs {
				args := []any{}
				for i := range 4000 {
					args = append(args, fmt.Sprintf(`{"id":%d,"db":%d,"email":"user%d@example.com","note":"leave at the door"}`, i, db, i%97))
				}
				c.Do(Ctx, "SELECT", db)
				if err := c.Do(Ctx, append([]any{"LPUSH", "jobs"}, args...)...).Err(); err != nil {
					t.Fatal(err)
				}
			}
			c.Do(Ctx, "SELECT", 0)
			if err := c.Set(Ctx, "counter", "12345", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.BgRewriteAOF(Ctx).Err(); err != nil {
				t.Fatal(err)
			}
			waitRewrite(t, c)
			interopWorkload(t, m.Addr, 22, 100) // into the new incr file
			want := dataset(t, m.Addr)
			m.Stop(t)

			ad := filepath.Join(dir, "appendonlydir")
			man, err := os.ReadFile(filepath.Join(ad, "appendonly.aof.manifest"))
			if err != nil {
				t.Fatal(err)
			}
			if line := "file appendonly.aof.2.base" + tc.suffix + " seq 2 type b"; !strings.Contains(string(man), line) {
				t.Fatalf("manifest lacks %q:\n%s", line, man)
			}
			base, err := os.ReadFile(filepath.Join(ad, "appendonly.aof.2.base"+tc.suffix))
			if err != nil {
				t.Fatal(err)
			}
			if isRDB := strings.HasPrefix(string(base), "REDIS0010"); isRDB != (tc.suffix == ".rdb") {
				t.Fatalf("base starts %q", base[:min(len(base), 9)])
			}
			redisCheckAOF(t, filepath.Join(ad, "appendonly.aof.manifest"))

			r := StartRedis(t, dir, "--appendonly", "yes")
			if got := dataset(t, r.Addr); got != want {
				t.Fatalf("redis-server loaded a different state\n got:\n%.2000s\nwant:\n%.2000s", got, want)
			}
			r.Stop(t)
			m = Start(t, dir, "--appendonly", "yes", "--list-compress-depth", tc.depth)
			if got := dataset(t, m.Addr); got != want {
				t.Fatalf("mullet reloaded a different state\n got:\n%.2000s\nwant:\n%.2000s", got, want)
			}
			m.Stop(t)
		})
	}
}
