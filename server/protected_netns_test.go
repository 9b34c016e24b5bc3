package server

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestProtectedModeNetns connects to mullet and to redis-server from a
// non-loopback address, over real sockets, and requires the same bytes.
// The address lives in a network namespace the test creates (root and
// iproute2's ip are needed; CI runs as root), on that namespace's lo, so
// nothing is reachable from outside the test.
func TestProtectedModeNetns(t *testing.T) {
	ns := newTestNetns(t, "10.77.0.1")
	ts := startServer(t)
	ln := ns.listen(t, "10.77.0.1:0")
	go ts.s.Serve(ln)
	ref := startRefRedisIn(t, []string{"ip", "netns", "exec", ns.name},
		"--bind", "10.77.0.1 127.0.0.1", "--protected-mode", "yes")
	addrs := map[string]string{"mullet": ln.Addr().String(), "redis": ref}

	try := func(name, in string) (string, bool) {
		return exchange(t, func() (net.Conn, error) { return ns.dial(addrs[name]) }, in, 500*time.Millisecond)
	}
	compare := func(what, want string) {
		t.Helper()
		got, closed := try("mullet", "PING\r\n")
		ref, refClosed := try("redis", "PING\r\n")
		if got != ref || closed != refClosed {
			t.Errorf("%s: mullet %q (closed %v), redis %q (closed %v)", what, got, closed, ref, refClosed)
		}
		if got != want {
			t.Errorf("%s: got %.100q, want %.100q", what, got, want)
		}
	}
	compare("protected, no password", "-"+msgDenied+"\r\n")

	// Redis is configured over its namespace's loopback.
	refPort := ref[len("10.77.0.1:"):]
	refDo := func(cmds ...[]string) {
		c, err := ns.dial("127.0.0.1:" + refPort)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r := &raw{t: t, c: c, br: bufio.NewReader(c)}
		for _, args := range cmds {
			if got := r.do(args...); got != "+OK\r\n" {
				t.Fatalf("redis %q: %q", args, got)
			}
		}
	}

	if err := ts.set.Set("requirepass", "pw"); err != nil {
		t.Fatal(err)
	}
	refDo([]string{"CONFIG", "SET", "requirepass", "pw"})
	compare("with a password", "-NOAUTH Authentication required.\r\n")

	if err := ts.set.Set("requirepass", "", "protected-mode", "no"); err != nil {
		t.Fatal(err)
	}
	refDo([]string{"AUTH", "pw"}, []string{"CONFIG", "SET", "requirepass", "", "protected-mode", "no"})
	compare("protected-mode no", "+PONG\r\n")
}

// testNetns is a network namespace with addr on its loopback interface.
type testNetns struct {
	name string
	path string
}

func newTestNetns(t *testing.T, addr string) *testNetns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("creating a network namespace needs root, as CI runs; TestProtectedRefusal covers the logic without")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("iproute2's ip is not installed (apt-get install iproute2; .ci/run does)")
	}
	ns := &testNetns{name: fmt.Sprintf("mullet-test-%d", os.Getpid())}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	run("netns", "add", ns.name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns.name).Run() })
	run("-n", ns.name, "link", "set", "lo", "up")
	run("-n", ns.name, "addr", "add", addr+"/32", "dev", "lo")
	ns.path = "/run/netns/" + ns.name
	if _, err := os.Stat(ns.path); err != nil {
		ns.path = "/var/run/netns/" + ns.name
	}
	return ns
}

// do runs fn on an OS thread switched into the namespace: sockets fn
// creates belong to it for good. The thread is switched back afterwards;
// only if that fails is it thrown away (the goroutine exits locked). A
// thread that exits would also kill every process it once forked with
// Pdeathsig (the reference redis-servers, the MariaDB of other tests), so
// the normal path must not end threads.
func (ns *testNetns) do(fn func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer home.Close()
		f, err := os.Open(ns.path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		fn()
		if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
			// Still in the namespace: stay locked, so the runtime ends
			// this thread instead of reusing it in the wrong namespace.
			errc <- fmt.Errorf("setns back: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- nil
	}()
	return <-errc
}

func (ns *testNetns) listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	if derr := ns.do(func() { ln, err = net.Listen("tcp", addr) }); derr != nil {
		t.Fatal(derr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func (ns *testNetns) dial(addr string) (net.Conn, error) {
	var c net.Conn
	var err error
	if derr := ns.do(func() { c, err = net.DialTimeout("tcp", addr, 5*time.Second) }); derr != nil {
		return nil, derr
	}
	return c, err
}
