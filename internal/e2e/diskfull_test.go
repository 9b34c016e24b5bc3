package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// misconfENOSPC is Redis's reply to a write while the AOF cannot be
// written for lack of space: "-MISCONF Errors writing to the AOF file: %s"
// with strerror(ENOSPC) (server.c, writeCommandsGetDiskErrorMessage).
const misconfENOSPC = "MISCONF Errors writing to the AOF file: No space left on device"

// mountTmpfs mounts a tmpfs of the given size (mount -o size=...) under a
// temp dir and unmounts it at cleanup. As root (CI) a failure to mount
// fails the test; otherwise it is skipped: the aof package's injected
// file layer covers the same paths (TestDiskFull).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
		// CI runs as root: a test that cannot mount fails rather than
		// pass unexercised.
		t.Fatalf("mount a %s tmpfs (needs root): %v %s", size, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	})
	return mnt
}

// fill writes a file until the filesystem is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
}

// TestDiskFull runs mullet on a real 2 MB tmpfs: once the disk is full,
// writes that add data get -MISCONF with strerror's text, nothing that
// failed was acknowledged, reads and pops keep working, and writes resume
// once space is freed; a restart shows exactly the acknowledged state.
func TestDiskFull(t *testing.T) {
	for _, policy := range []string{"everysec", "always"} {
		t.Run(policy, func(t *testing.T) { diskFull(t, policy) })
	}
}

func diskFull(t *testing.T, policy string) {
	mnt := mountTmpfs(t, "2m")
	directives := []string{"--appendonly", "yes", "--appendfsync", policy}
	s := Start(t, mnt, directives...)
	c := s.Client(t)
	var acked []string // RPUSHed to q and acknowledged
	push := func(v string) error {
		err := c.RPush(Ctx, "q", v).Err()
		if err == nil {
			acked = append(acked, v)
		}
		return err
	}
	for i := range 100 {
		if err := push(fmt.Sprint("before-", i)); err != nil {
			t.Fatal(err)
		}
	}
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)

	// Push until refused. A push in flight when the log failed may end
	// with a broken connection (outcome unknown, never acknowledged).
	var unknown []string
	refused := 0
	for i := 0; i < 100000 && refused < 3; i++ {
		v := fmt.Sprint("during-", i)
		err := push(v)
		switch {
		case err == nil:
		case IsConnErr(err):
			unknown = append(unknown, v)
		case err.Error() == misconfENOSPC:
			refused++
		default:
			t.Fatalf("push while the disk is full: %q, want %q", err, misconfENOSPC)
		}
	}
	if refused == 0 {
		t.Fatal("the disk never filled up")
	}
	t.Logf("%d pushes acknowledged in all, %d of unknown outcome before the refusals", len(acked), len(unknown))

	// Reads and pops keep working.
	if n, err := c.LLen(Ctx, "q").Result(); err != nil || n < int64(len(acked)) {
		t.Fatalf("LLEN while full = %d, %v (acknowledged %d)", n, err, len(acked))
	}
	if v, err := c.LRange(Ctx, "q", 0, 0).Result(); err != nil || len(v) != 1 || v[0] != acked[0] {
		t.Fatalf("LRANGE while full = %q, %v", v, err)
	}
	var popped []string
	for range 5 {
		v, err := c.LPop(Ctx, "q").Result()
		if err != nil {
			t.Fatalf("LPOP while the disk is full: %v", err)
		}
		popped = append(popped, v)
	}
	if !slices.Equal(popped, acked[:5]) {
		t.Fatalf("popped %q, want %q", popped, acked[:5])
	}
	if err := c.Set(Ctx, "k", "v", 0).Err(); err == nil || err.Error() != misconfENOSPC {
		t.Fatalf("SET while full = %v, want %s", err, misconfENOSPC)
	}

	// Free the space: writes resume.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := push("after")
		if err == nil {
			break
		}
		var re redis.Error
		if !errors.As(err, &re) || !strings.HasPrefix(err.Error(), "MISCONF") || time.Now().After(deadline) {
			t.Fatalf("push after freeing space: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // the log retries with backoff; poll
	}

	s.Stop(t)
	s = Start(t, mnt, directives...)
	got := lrange(t, s, "q")
	// got must be acked[5:] with, possibly, some unknown-outcome pushes
	// in their place; nothing refused.
	var gotAcked []string
	for _, v := range got {
		switch {
		case slices.Contains(acked, v):
			gotAcked = append(gotAcked, v)
		case slices.Contains(unknown, v):
		default:
			t.Errorf("%q is present but was refused or never sent", v)
		}
	}
	if !slices.Equal(gotAcked, acked[5:]) {
		t.Fatalf("after restart: %d acknowledged items, want %d", len(gotAcked), len(acked)-5)
	}
}
