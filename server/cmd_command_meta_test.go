package server

import (
	"flag"
	"os"
	"reflect"
	"slices"
	"sort"
	"testing"
)

var updateCommandMeta = flag.Bool("update-command-meta", false,
	"rewrite server/redis_commands.resp from the local redis-server 7.0")

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
//	go test ./server -run TestCommandMetaMatchesRedis -update-command-meta
func TestCommandMetaMatchesRedis(t *testing.T) {
	ref := dialRaw(t, startRedis(t))
	ref.do("HELLO", "3")
	all, _, err := parseRV([]byte(ref.do("COMMAND", "DOCS")))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := 0; i+1 < len(all.elems); i += 2 {
		name := all.elems[i].str
		group, _ := all.elems[i+1].field("group")
		if slices.Contains(commandMetaGroups, group.str) || slices.Contains(commandMetaExtra, name) {
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
	infos, _, _ := parseRV([]byte(ref.do("COMMAND", "INFO")))
	check := func(cmd *command, e rv) {
		f := e.elems
		got := []int64{int64(cmd.arity), int64(cmd.firstKey), int64(cmd.lastKey), int64(cmd.step)}
		want := []int64{f[1].num, f[3].num, f[4].num, f[5].num}
		if !slices.Equal(got, want) {
			t.Errorf("%s: registered arity, first, last, step = %v; redis-server has %v", cmd.name, got, want)
		}
	}
	for _, e := range infos.elems {
		cmd := commands[e.elems[0].str]
		if cmd == nil {
			continue
		}
		check(cmd, e)
		for _, se := range e.elems[9].elems {
			if sub := cmd.sub[se.elems[0].str[len(cmd.name)+1:]]; sub != nil {
				check(sub, se)
			}
		}
	}
}
