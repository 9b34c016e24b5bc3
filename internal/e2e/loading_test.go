package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// WriteLPushAOF lays out a Redis 7 AOF directory under dir (appendonlydir,
// an empty base, one incr file) holding n LPUSH commands of valueLen-byte
// values spread over keys lists, as redis-server would write them (no
// checksum annotations). It returns the directory's total size.
func WriteLPushAOF(t testing.TB, dir string, n, keys, valueLen int) int64 {
	t.Helper()
	ad := filepath.Join(dir, "appendonlydir")
	if err := os.MkdirAll(ad, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
	if err := os.WriteFile(filepath.Join(ad, "appendonly.aof.manifest"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ad, "appendonly.aof.1.base.aof"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(ad, "appendonly.aof.1.incr.aof"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
	val := strings.Repeat("v", valueLen)
	for i := range n {
		key := fmt.Sprint("q", i%keys)
		fmt.Fprintf(w, "*3\r\n$5\r\nLPUSH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(key), key, len(val), val)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return st.Size()
}

// TestLoadingReplies: while a big AOF loads, the server accepts
// connections and answers -LOADING with Redis's exact text, to PING and to
// writes; then it serves the data.
func TestLoadingReplies(t *testing.T) {
	dir := t.TempDir()
	n := 1_000_000
	if testing.Short() {
		n = 300_000
	}
	size := WriteLPushAOF(t, dir, n, 10, 20)
	s := Spawn(t, dir, "--appendonly", "yes")
	const want = "-LOADING Redis is loading the dataset in memory"
	deadline := time.Now().Add(30 * time.Second)
	var conn net.Conn
	for conn == nil {
		if time.Now().After(deadline) {
			t.Fatal("could not connect")
		}
		conn, _ = net.Dial("tcp", s.Addr) // the listener opens before loading starts
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	do := func(cmd string) string {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte(cmd)); err != nil {
			t.Fatal(err)
		}
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimRight(line, "\r\n")
	}
	first := do("*1\r\n$4\r\nPING\r\n")
	if first != want {
		t.Fatalf("first PING during start-up = %q, want %q (the %d MB AOF loaded too fast?)", first, want, size>>20)
	}
	if got := do("*3\r\n$5\r\nLPUSH\r\n$1\r\nx\r\n$1\r\ny\r\n"); got != want {
		t.Fatalf("LPUSH while loading = %q, want %q", got, want)
	}
	loading := 0
	for {
		got := do("*1\r\n$4\r\nPING\r\n")
		if got == "+PONG" {
			break
		}
		if got != want {
			t.Fatalf("PING while loading = %q", got)
		}
		loading++
	}
	t.Logf("%d more PINGs answered -LOADING for a %d MB AOF", loading, size>>20)
	if got := do("*2\r\n$4\r\nLLEN\r\n$2\r\nq0\r\n"); got != fmt.Sprint(":", n/10) {
		t.Fatalf("LLEN q0 after loading = %q, want :%d", got, n/10)
	}
	if got := do("*2\r\n$4\r\nLLEN\r\n$1\r\nx\r\n"); got != ":0" {
		t.Fatalf("the LPUSH refused while loading was applied: LLEN x = %q", got)
	}
}
