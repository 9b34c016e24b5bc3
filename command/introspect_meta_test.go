package command

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"reflect"
	"slices"
	"sort"
	"testing"

	"mullet/internal/e2e"
	"mullet/internal/resp"
)

var updateCommandMeta = flag.Bool("update-command-meta", false,
	"rewrite command/redis_commands.resp from the local redis-server 7.0")

// commandMetaGroups are the command groups whose Redis metadata is
// embedded: those of the commands a queue server implements, so other
// families (hashes, sets, streams...) do not weigh on the binary.
var (
	commandMetaGroups = []string{"connection", "generic", "list", "scripting", "server", "string", "transactions"}
	commandMetaExtra  = []string{"readonly", "readwrite"} // cluster group
)

// TestCommandMetaMatchesRedis checks the embedded metadata against a live
// redis-server, and every registered command's arity and key positions
// against Redis's. With -update-command-meta it rewrites the file instead:
//
//	go test ./command -run TestCommandMetaMatchesRedis -update-command-meta
func TestCommandMetaMatchesRedis(t *testing.T) {
	ref := dialRedis(t)
	ref.do("HELLO", "3")
	all, _, err := resp.Parse([]byte(ref.do("COMMAND", "DOCS")))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := 0; i+1 < len(all.Elems); i += 2 {
		name := all.Elems[i].Str
		group, _ := all.Elems[i+1].Field("group")
		if slices.Contains(commandMetaGroups, group.Str) || slices.Contains(commandMetaExtra, name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	info := ref.do(append([]string{"COMMAND", "INFO"}, names...)...)
	docs := ref.do(append([]string{"COMMAND", "DOCS"}, names...)...)
	live, err := parseCommandMeta([]byte(info + docs))
	if err != nil {
		t.Fatal(err)
	}
	if *updateCommandMeta {
		if err := os.WriteFile("redis_commands.resp", []byte(info+docs), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote redis_commands.resp: %d commands, %d bytes", len(names), len(info)+len(docs))
		return
	}
	stored, err := redisCommandMeta()
	if err != nil {
		t.Fatalf("embedded metadata: %v", err)
	}
	for name, want := range live {
		if got := stored[name]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: embedded metadata differs from redis-server's; rerun with -update-command-meta", name)
		}
	}
	if len(stored) != len(live) {
		t.Errorf("embedded metadata has %d commands, redis-server %d", len(stored), len(live))
	}

	// Registered arity and key positions must be Redis's: the dispatcher
	// and COMMAND INFO both use them.
	infos, _, _ := resp.Parse([]byte(ref.do("COMMAND", "INFO")))
	check := func(cmd *command, e resp.Value) {
		f := e.Elems
		got := []int64{int64(cmd.arity), int64(cmd.firstKey), int64(cmd.lastKey), int64(cmd.step)}
		want := []int64{f[1].Num, f[3].Num, f[4].Num, f[5].Num}
		if !slices.Equal(got, want) {
			t.Errorf("%s: registered arity, first, last, step = %v; redis-server has %v", cmd.name, got, want)
		}
	}
	for _, e := range infos.Elems {
		cmd := commands[e.Elems[0].Str]
		if cmd == nil {
			continue
		}
		check(cmd, e)
		for _, se := range e.Elems[9].Elems {
			if sub := cmd.sub[se.Elems[0].Str[len(cmd.name)+1:]]; sub != nil {
				check(sub, se)
			}
		}
	}
}

// redisConn is a connection to a reference redis-server whose replies are
// returned as raw RESP text.
type redisConn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

// dialRedis starts a redis-server 7.0 and connects to it.
func dialRedis(t testing.TB) *redisConn {
	t.Helper()
	addr := e2e.StartRedisWith(t, e2e.RedisOptions{Args: []string{"--appendonly", "no"}}).Addr
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &redisConn{t: t, c: c, br: bufio.NewReader(c)}
}

// do sends a command and returns its reply's bytes.
func (r *redisConn) do(args ...string) string {
	r.t.Helper()
	var b []byte
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
	var out bytes.Buffer
	if err := resp.ReadRaw(r.br, &out); err != nil {
		r.t.Fatal(err)
	}
	return out.String()
}
