package testutil

import (
	"testing"
	"time"
)

// WaitFor polls cond every few milliseconds until it returns true, and
// fails the test if that takes longer than timeout. what names the
// awaited condition in the failure ("the route to drain"). It is for
// state another goroutine changes (a client becoming blocked, a route
// draining), never for letting time pass.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
