package persist

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mullet/aof"
	"mullet/config"
	"mullet/queue"
)

// TestConfigSetDuringLoad: while the AOF loads, CONFIG SET appendonly is
// refused (Redis's DENY_LOADING_CONFIG), and the AOF directives that may
// change (appendfsync, auto-aof-rewrite-*) take effect on the AOF once it
// is loaded, although no AOF existed when their hooks ran. The change is
// made from inside the replay, so it happens during the load for sure.
func TestConfigSetDuringLoad(t *testing.T) {
	dir := t.TempDir()
	ad := filepath.Join(dir, "appendonlydir")
	var incr strings.Builder
	for i := range 100 {
		fmt.Fprintf(&incr, "*3\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$2\r\n%02d\r\n", i)
	}
	for name, data := range map[string]string{
		"appendonly.aof.manifest":   "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
		"appendonly.aof.1.base.aof": "",
		"appendonly.aof.1.incr.aof": incr.String(),
	} {
		if err := os.MkdirAll(ad, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ad, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set := config.New()
	if err := set.Load("", [][]string{{"dir", dir}, {"appendonly", "yes"}, {"appendfsync", "everysec"}}); err != nil {
		t.Fatal(err)
	}
	ks := queue.New(queue.Config{Databases: 16})
	p := New(ks, set, slog.New(slog.DiscardHandler), dir)
	set.SetLoading(true) // what server.SetLoading does
	p.Watch()
	replayed := 0
	err := p.Open(func(argv [][]byte) error {
		if replayed++; replayed == 50 {
			if err := set.Set("appendonly", "no"); !errors.Is(err, config.ErrLoading) {
				t.Errorf("CONFIG SET appendonly no while loading: %v, want ErrLoading", err)
			}
			if err := set.Set("appendfsync", "always", "auto-aof-rewrite-percentage", "0"); err != nil {
				t.Errorf("CONFIG SET appendfsync while loading: %v", err)
			}
		}
		tx := ks.Begin()
		defer tx.End()
		_, err := tx.Push(0, argv[1], argv[2:], true, false)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	set.SetLoading(false)
	defer p.Close()
	a := p.current()
	if a == nil || set.String("appendonly") != "yes" {
		t.Fatalf("after the load: AOF %v, appendonly %s", a, set.String("appendonly"))
	}
	if got := a.Policy(); got != aof.FsyncAlways {
		t.Errorf("the AOF's fsync policy is %v after CONFIG SET appendfsync always during the load", got)
	}
	if err := set.Set("appendonly", "no"); err != nil {
		t.Errorf("CONFIG SET appendonly no after the load: %v", err)
	}
	if p.current() != nil {
		t.Errorf("CONFIG SET appendonly no after the load left the AOF open")
	}
}
