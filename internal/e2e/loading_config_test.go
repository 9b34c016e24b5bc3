package e2e

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestConfigSetAppendonlyWhileLoading: while a big AOF loads, CONFIG SET
// appendonly answers -LOADING as in Redis 7.0 (the first refused pair
// decides the error, as in Redis's configSetCommand) and changes nothing,
// while CONFIG SET appendfsync is allowed; once loaded, the AOF is on.
// The replies are redis-server 7.0.15's, loading a 3M-command AOF.
func TestConfigSetAppendonlyWhileLoading(t *testing.T) {
	dir := t.TempDir()
	n := 1_000_000
	if testing.Short() {
		n = 300_000
	}
	size := WriteLPushAOF(t, dir, n, 10, 20)
	s := Spawn(t, dir, "--appendonly", "yes", "--appendfsync", "everysec")
	deadline := time.Now().Add(30 * time.Second)
	var conn net.Conn
	for conn == nil {
		if time.Now().After(deadline) {
			t.Fatal("could not connect")
		}
		conn, _ = net.Dial("tcp", s.Addr)
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	do := func(args ...string) string {
		var b strings.Builder
		b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
		for _, a := range args {
			b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimRight(line, "\r\n")
	}
	const loading = "-LOADING Redis is loading the dataset in memory"
	if got := do("PING"); got != loading {
		t.Fatalf("first PING = %q, want %q (the %d MB AOF loaded too fast?)", got, loading, size>>20)
	}
	steps := []struct{ args, want string }{
		{"CONFIG SET appendonly no", loading},
		{"CONFIG SET appendonly no nosuch 1", loading},
		{"CONFIG SET nosuch 1 appendonly no", "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"},
		{"CONFIG SET daemonize no appendonly no", "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"},
		{"CONFIG SET appendfsync always", "+OK"},
	}
	for _, st := range steps {
		if got := do(strings.Fields(st.args)...); got != st.want {
			t.Errorf("%s while loading = %q, want %q", st.args, got, st.want)
		}
	}
	if got := do("PING"); got != loading {
		t.Fatalf("PING after the CONFIG SETs = %q: the load ended too soon to tell", got)
	}
	for do("PING") != "+PONG" {
	}
	if got := do("CONFIG", "SET", "appendonly", "yes"); got != "+OK" {
		t.Errorf("CONFIG SET appendonly yes after loading = %q", got)
	}
	info := s.Client(t).Info(Ctx, "persistence").Val()
	if !strings.Contains(info, "aof_enabled:1\r\n") {
		t.Errorf("the AOF is off after loading:\n%s", info)
	}
}
