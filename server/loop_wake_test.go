//go:build linux

package server

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLoopPostWhileAwake: a message posted while the loop is awake (it
// will look at its inbox before it waits) writes no eventfd, and the loop
// does not go to sleep on it; once the loop says it sleeps, a post writes
// the eventfd once, however many messages follow.
func TestLoopPostWhileAwake(t *testing.T) {
	ts := startServer(t)
	l, err := newLoop(ts.s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Close(l.efd)
		l.epf.Close()
	})
	// writes returns how many eventfd writes are unread.
	writes := func() uint64 {
		var b [8]byte
		if n, _ := unix.Read(l.efd, b[:]); n != 8 {
			return 0
		}
		return binary.NativeEndian.Uint64(b[:])
	}
	l.wake()
	l.post(loopMsg{kind: msgCron})
	if n := writes(); n != 0 {
		t.Fatalf("a post to an awake loop wrote the eventfd (%d)", n)
	}
	if l.sleep() {
		t.Fatal("the loop would sleep with a message in its inbox")
	}
	if l.drainInbox() {
		t.Fatal("drainInbox says stop")
	}
	if !l.sleep() {
		t.Fatal("the loop would not sleep with an empty inbox")
	}
	l.post(loopMsg{kind: msgCron})
	l.post(loopMsg{kind: msgCron})
	if n := writes(); n != 1 {
		t.Fatalf("two posts to a sleeping loop wrote the eventfd %d times, want once", n)
	}
	l.wake()
	if l.drainInbox(); len(l.inbox) != 0 {
		t.Fatal("messages left in the inbox")
	}
}
