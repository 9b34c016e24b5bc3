package server

import (
	"strings"
	"testing"

	"mullet/command"
	"mullet/internal/resp"
)

func TestCommandDocsCoversTheTable(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	for _, proto := range []string{"2", "3"} {
		r.do("HELLO", proto)
		docs, rest, err := resp.Parse([]byte(r.do("COMMAND", "DOCS")))
		if err != nil || len(rest) != 0 {
			t.Fatalf("COMMAND DOCS in RESP%s does not parse: %v", proto, err)
		}
		if want := byte('*'); proto == "3" {
			want = '%'
			if docs.Kind != want {
				t.Errorf("COMMAND DOCS in RESP3 is a %q", docs.Kind)
			}
		}
		if table := command.Commands(); len(docs.Elems) != 2*len(table) {
			t.Errorf("COMMAND DOCS has %d entries, the table %d", len(docs.Elems)/2, len(table))
		}
		for i := 0; i+1 < len(docs.Elems); i += 2 {
			name, d := docs.Elems[i].Str, docs.Elems[i+1]
			cmd, ok := command.Lookup(name)
			if !ok {
				t.Errorf("COMMAND DOCS has %q, not a command", name)
				continue
			}
			for _, key := range []string{"summary", "since", "group"} { // MONITOR has no complexity
				if v, ok := d.Field(key); !ok || v.Str == "" {
					t.Errorf("%s: no %s", name, key)
				}
			}
			subs, ok := d.Field("subcommands")
			if ok != (len(cmd.Subcommands) > 0) || len(subs.Elems) != 2*len(cmd.Subcommands) {
				t.Errorf("%s: %d subcommands documented, %d registered", name, len(subs.Elems)/2, len(cmd.Subcommands))
			}
		}
	}
}

// Commands Redis 7.0 does not have are described from their
// registration.
func TestCommandInfoDerived(t *testing.T) {
	ts := startServer(t)
	runSteps(t, ts, []step{
		{"COMMAND INFO waitaof", "*1\r\n*10\r\n$7\r\nwaitaof\r\n:4\r\n*2\r\n+noscript\r\n+blocking\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@keyspace\r\n+@slow\r\n+@blocking\r\n*0\r\n*0\r\n*0\r\n"},
		{"COMMAND DOCS client|setinfo", "*2\r\n$14\r\nclient|setinfo\r\n*8\r\n$7\r\nsummary\r\n$38\r\nSet client or connection specific info\r\n$5\r\nsince\r\n$5\r\n7.2.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"},
		{"COMMAND GETKEYS waitaof 0 0 0", "-ERR The command has no key arguments\r\n"},
		{"COMMAND GETKEYS client setinfo lib-name x", "-ERR The command has no key arguments\r\n"},
		{"COMMAND LIST FILTERBY pattern client|s*", "*2\r\n$14\r\nclient|setinfo\r\n$14\r\nclient|setname\r\n"},
	})
}

// FuzzCommandGetKeys: any command line given to GETKEYS and
// GETKEYSANDFLAGS gets a well-formed reply and never a panic.
func FuzzCommandGetKeys(f *testing.F) {
	for _, s := range []string{"lmpop 2 a b left", "blmpop 0 9 a", "lmove a b left left", "sort k by x store d",
		"client list", "memory usage k", "set k v get", "migrate h p k 0 1 keys a b", "eval s 2 a b", "del"} {
		f.Add(s)
	}
	ts := startServer(f)
	conn := ts.raw(f)
	f.Fuzz(func(t *testing.T, line string) {
		r := &raw{t: t, c: conn.c, br: conn.br}
		args := strings.Fields(line)
		if len(args) == 0 || len(args) > 64 {
			return
		}
		for _, sub := range []string{"GETKEYS", "GETKEYSANDFLAGS"} {
			reply := r.do(append([]string{"COMMAND", sub}, args...)...)
			if _, rest, err := resp.Parse([]byte(reply)); reply[0] != '-' && (err != nil || len(rest) != 0) {
				t.Fatalf("COMMAND %s %q = %q", sub, line, reply)
			}
		}
	})
}
