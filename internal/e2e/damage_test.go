package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const incrFile = "appendonly.aof.1.incr.aof"

// fillAndStop starts mullet on a fresh dir, RPUSHes n items to q one
// command at a time (one write and checksum span each), stops it cleanly
// and returns the dir and the items.
func fillAndStop(t *testing.T, n int) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	s := Start(t, dir, "--appendonly", "yes")
	c := s.Client(t)
	var items []string
	for i := range n {
		v := fmt.Sprintf("item-%03d", i)
		if err := c.RPush(Ctx, "q", v).Err(); err != nil {
			t.Fatal(err)
		}
		items = append(items, v)
	}
	s.Stop(t)
	return dir, items
}

func lrange(t *testing.T, s *Server, key string) []string {
	t.Helper()
	v, err := s.Client(t).LRange(Ctx, key, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStartTruncatedTail: the last incr file cut in the middle of its
// last command (a crash mid-write(2)) loads with aof-load-truncated yes:
// the server starts with every whole command, logs the file and the
// offset it cut at, and cuts the file there.
func TestStartTruncatedTail(t *testing.T) {
	dir, items := fillAndStop(t, 50)
	path := filepath.Join(dir, "appendonlydir", incrFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	last := bytes.LastIndex(data, []byte("*3\r\n$5\r\nRPUSH"))
	if last < 0 {
		t.Fatal("no RPUSH in the incr file")
	}
	cut := last + 17 // inside the key or value of the last command
	if err := os.Truncate(path, int64(cut)); err != nil {
		t.Fatal(err)
	}

	s := Start(t, dir, "--appendonly", "yes", "--aof-load-truncated", "yes")
	if err := s.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got, want := lrange(t, s, "q"), items[:len(items)-1]; !slices.Equal(got, want) {
		t.Fatalf("after loading a torn tail: %d items, want %d\n got: %q", len(got), len(want), got)
	}
	logged := regexp.MustCompile(`truncating it at the last whole command.*file=` + regexp.QuoteMeta(incrFile) +
		` offset=` + strconv.Itoa(last) + `\b`)
	if !logged.MatchString(s.Output()) {
		t.Fatalf("the log does not name %s and offset %d:\n%s", incrFile, last, s.Output())
	}
	// The tail is gone for good, and new writes follow the last whole command.
	if err := s.Client(t).RPush(Ctx, "q", "after").Err(); err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	s = Start(t, dir, "--appendonly", "yes", "--aof-load-truncated", "no")
	if err := s.WaitReady(30 * time.Second); err != nil {
		t.Fatalf("second start with aof-load-truncated no: %v", err)
	}
	if got := lrange(t, s, "q"); len(got) != len(items) || got[len(got)-1] != "after" {
		t.Fatalf("after restart: %q", got)
	}
}

// TestStartRefusesMidFileCorruption: one flipped byte inside a value in
// the middle of the incr file still parses as RESP; the checksum
// annotation catches it and the server refuses to start, naming the file,
// the offset of the damaged span and the repair command.
func TestStartRefusesMidFileCorruption(t *testing.T) {
	dir, _ := fillAndStop(t, 50)
	path := filepath.Join(dir, "appendonlydir", incrFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, []byte("item-025"))
	if at < 0 {
		t.Fatal("item-025 not in the incr file")
	}
	flip := at + 5 // the '0' of "025"
	data[flip] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// The damaged span starts after the annotation line before it.
	spanStart := bytes.LastIndex(data[:flip], []byte("#crc32c:"))
	spanStart += bytes.Index(data[spanStart:], []byte("\r\n")) + 2

	s := Spawn(t, dir, "--appendonly", "yes", "--aof-load-truncated", "yes")
	select {
	case <-s.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not refuse to start")
	}
	if s.ExitErr() == nil {
		t.Fatal("the server exited with status 0")
	}
	out := s.Output()
	t.Logf("refused:\n%s", out)
	for _, want := range []string{incrFile, fmt.Sprintf("offset %d", spanStart), "mullet aof check --fix"} {
		if !strings.Contains(out, want) {
			t.Errorf("start-up error does not say %q:\n%s", want, out)
		}
	}
}

// TestAofCheckFix: the repair the refusal names works. `mullet aof check`
// reports the damage and exits 1; with --fix it cuts the last incr file
// at the damaged span, after which the server starts with every command
// before it.
func TestAofCheckFix(t *testing.T) {
	dir, items := fillAndStop(t, 50)
	path := filepath.Join(dir, "appendonlydir", incrFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, []byte("item-025"))
	data[at+5] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(args ...string) (string, error) {
		out, err := exec.Command(Binary(t), append([]string{"aof", "check"}, args...)...).CombinedOutput()
		return string(out), err
	}
	out, err := check(dir)
	if err == nil || !strings.Contains(out, incrFile) {
		t.Fatalf("mullet aof check on a damaged directory: %v\n%s", err, out)
	}
	if out, err := check("--fix", dir); err != nil {
		t.Fatalf("mullet aof check --fix: %v\n%s", err, out)
	}
	if out, err := check(dir); err != nil {
		t.Fatalf("mullet aof check after --fix: %v\n%s", err, out)
	}
	s := Start(t, dir, "--appendonly", "yes")
	if got, want := lrange(t, s, "q"), items[:25]; !slices.Equal(got, want) {
		t.Fatalf("after --fix: %q, want the 25 items before the damage", got)
	}
}
