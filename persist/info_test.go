package persist

import (
	"log/slog"
	"strings"
	"testing"

	"mullet/config"
	"mullet/internal/e2e"
	"mullet/queue"
)

// infoNames returns the field names of redis-server 7.0's INFO
// persistence from aof_enabled on.
func redisInfoNames(t *testing.T, appendonly string) []string {
	t.Helper()
	r := e2e.StartRedis(t, t.TempDir(), "--appendonly", appendonly)
	info, err := r.Client(t).Info(e2e.Ctx, "persistence").Result()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(info, "\r\n") {
		name, _, ok := strings.Cut(line, ":")
		if ok && (strings.HasPrefix(name, "aof_") || strings.HasPrefix(name, "module_fork_") || len(names) > 0) {
			names = append(names, name)
		}
	}
	return names
}

// TestInfoFieldsMatchRedis: the AOF part of INFO persistence has
// redis-server 7.0's field names in its order, with appendonly on and off.
func TestInfoFieldsMatchRedis(t *testing.T) {
	for _, on := range []string{"yes", "no"} {
		t.Run("appendonly-"+on, func(t *testing.T) {
			want := redisInfoNames(t, on)
			set := config.New()
			if err := set.Load("", [][]string{{"dir", t.TempDir()}}); err != nil {
				t.Fatal(err)
			}
			ks := queue.New(queue.Config{})
			p := New(ks, set, slog.New(slog.DiscardHandler), set.String("dir"))
			if on == "yes" {
				if err := p.Open(func([][]byte) error { return nil }); err != nil {
					t.Fatal(err)
				}
				defer p.Close()
			}
			var got []string
			p.Info(func(name, _ string) { got = append(got, name) })
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("INFO persistence AOF fields differ from redis-server's\n got: %q\nwant: %q", got, want)
			}
		})
	}
}
