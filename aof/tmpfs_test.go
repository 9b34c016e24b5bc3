package aof

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDiskFullTmpfs fills a real 4 MiB tmpfs: the log first reports
// ENOSPC through Err while Waits still succeed (the reserve, see
// preallocate), then, the reserve used up, must fail with
// ENOSPC, acknowledge nothing it could not write, and recover with every
// record once space is freed. It needs root to mount (CI runs as root);
// without it the test fails rather than pass unexercised. Under always
// the writer pads instead of fallocate, until padding meets ENOSPC.
func TestDiskFullTmpfs(t *testing.T) {
	for _, tc := range []struct {
		p    FsyncPolicy
		size string
	}{
		{FsyncEverySec, "4m"},
		{FsyncAlways, "4m"},  // padding fails at once
		{FsyncAlways, "12m"}, // padding works until the filler takes the space
	} {
		t.Run(tc.p.String()+"/"+tc.size, func(t *testing.T) { diskFullTmpfs(t, tc.p, tc.size) })
	}
}

func diskFullTmpfs(t *testing.T, p FsyncPolicy, size string) {
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("cannot mount a tmpfs (the test needs root, as CI runs): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })

	pad := strings.Repeat("x", 1000)
	opts := testOptions(t, mnt)
	opts.Fsync = p
	a, _ := mustOpen(t, opts)
	var acked, appended int
	for range 10 {
		appendWait(t, a, 0, "RPUSH", "q", fmt.Sprint("item-", appended, pad))
		appended++
		acked++
	}
	// Fill the filesystem, then append until the log fails.
	filler, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := filler.Write(chunk); err != nil {
			break
		}
	}
	filler.Close()
	var last uint64
	lowFirst := false
	for appended < 10000 {
		if a.Err() != nil && !lowFirst {
			lowFirst = true
			if !errors.Is(a.Err(), syscall.ENOSPC) {
				t.Fatalf("Err = %v, want ENOSPC", a.Err())
			}
		}
		last = a.Append(0, args("RPUSH", "q", fmt.Sprint("item-", appended, pad)))
		appended++
		if err := a.Wait(last); err != nil {
			if !errors.Is(err, syscall.ENOSPC) || !errors.Is(a.Err(), syscall.ENOSPC) {
				t.Fatalf("Wait = %v, Err = %v; want ENOSPC", err, a.Err())
			}
			break
		}
		acked++
	}
	if appended == 10000 {
		t.Fatal("the tmpfs never filled up")
	}
	if !lowFirst {
		t.Fatal("a write failed before Err reported the lack of space")
	}
	// More records while failed: refused at once, kept in memory.
	for range 5 {
		last = a.Append(0, args("RPUSH", "q", fmt.Sprint("item-", appended, pad)))
		appended++
		if err := a.Wait(last); err == nil {
			t.Fatal("Wait succeeded while the disk is full")
		}
	}
	os.Remove(filepath.Join(mnt, "filler"))
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	if err := a.Sync(ctx, last); err != nil {
		t.Fatalf("Sync after freeing space = %v", err)
	}
	if err := a.Err(); err != nil {
		t.Fatalf("Err after recovery = %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	m := replayModel(t, testOptions(t, mnt))
	if got := len(m.lists[0]["q"]); got != appended {
		t.Fatalf("replayed %d items, appended %d (%d acknowledged)", got, appended, acked)
	}
	t.Logf("%d records acknowledged before the disk filled, %d in all", acked, appended)
}
