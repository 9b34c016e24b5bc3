package e2e

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestCompressedListsMatchRedis: with list-compress-depth 1 on both
// servers, a backlog of JSON orders is read and edited in the middle
// (LINDEX, LRANGE, LPOS, LSET, LINSERT, LREM, LTRIM), copied (COPY), and
// DUMPed and RESTOREd across servers, and mullet answers every command as
// redis-server does.
func TestCompressedListsMatchRedis(t *testing.T) {
	m := Start(t, t.TempDir(), "--appendonly", "no", "--list-compress-depth", "1")
	r := StartRedis(t, t.TempDir(), "--appendonly", "no", "--list-compress-depth", "1")
	mc := redis.NewClient(&redis.Options{Addr: m.Addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	rc := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer mc.Close()
	defer rc.Close()
	both := func(args ...any) {
		t.Helper()
		mv, merr := mc.Do(Ctx, args...).Result()
		rv, rerr := rc.Do(Ctx, args...).Result()
		if fmt.Sprint(merr) != fmt.Sprint(rerr) || !reflect.DeepEqual(mv, rv) {
			t.Fatalf("%v:\nmullet %.300v %v\nredis  %.300v %v", args, mv, merr, rv, rerr)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	order := func(i int) string {
		return fmt.Sprintf(`{"order_id":%d,"sku":"SKU-%05d","email":"user%d@example.com","note":"leave at the door"}`, i, rng.IntN(20000), i%113)
	}
	for batch := range 20 {
		args := []any{"LPUSH", "q"}
		for i := range 1000 {
			args = append(args, order(batch*1000+i))
		}
		both(args...)
	}
	both("LLEN", "q")
	for range 30 {
		i := rng.IntN(20000)
		both("LINDEX", "q", i)
		both("LRANGE", "q", i, i+rng.IntN(300))
		both("LRANGE", "q", -i-50, -i)
	}
	mid, _ := rc.LIndex(Ctx, "q", 9000).Result()
	both("LPOS", "q", mid)
	both("LPOS", "q", mid, "RANK", -1)
	both("LSET", "q", 9000, "replaced")
	both("LINSERT", "q", "BEFORE", "replaced", "inserted")
	both("LREM", "q", 0, "inserted")
	both("LRANGE", "q", 8990, 9010)
	both("COPY", "q", "q2")
	both("LRANGE", "q2", 0, -1)
	for range 5000 {
		mc.RPop(Ctx, "q2")
		rc.RPop(Ctx, "q2")
	}
	both("LRANGE", "q2", 0, -1)
	both("LTRIM", "q", 100, -100)
	both("LRANGE", "q", 0, -1)

	// DUMP from mullet, RESTORE into redis-server, and the reverse.
	dump, err := mc.Dump(Ctx, "q").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Restore(Ctx, "from-mullet", 0, dump).Err(); err != nil {
		t.Fatal(err)
	}
	rdump, err := rc.Dump(Ctx, "q").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.Restore(Ctx, "from-redis", 0, rdump).Err(); err != nil {
		t.Fatal(err)
	}
	want, _ := rc.LRange(Ctx, "q", 0, -1).Result()
	for _, c := range []struct {
		c   *redis.Client
		key string
	}{{rc, "from-mullet"}, {mc, "from-redis"}, {mc, "q"}} {
		got, err := c.c.LRange(Ctx, c.key, 0, -1).Result()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %d items (%v), want %d", c.key, len(got), err, len(want))
		}
	}
	// Drain to empty from the tail, as a consumer does.
	for {
		mv, merr := mc.RPop(Ctx, "q").Result()
		rv, rerr := rc.RPop(Ctx, "q").Result()
		if mv != rv || fmt.Sprint(merr) != fmt.Sprint(rerr) {
			t.Fatalf("RPOP: mullet %q %v, redis %q %v", mv, merr, rv, rerr)
		}
		if merr == redis.Nil {
			break
		}
	}
}
