package server

import "testing"

// MULTI/EXEC/DISCARD/WATCH against redis-server.

func TestCompatMulti(t *testing.T) {
	diffScripts(t, []compatScript{
		{name: "basic", steps: []string{
			"MULTI", "EXEC", "MULTI", "LPUSH q a", "LLEN q", "LRANGE q 0 -1", "EXEC", "EXEC", "DISCARD",
			"MULTI", "LPUSH q b", "DISCARD", "LLEN q", "MULTI", "PING", "ECHO hi", "EXEC",
			"multi", "exec", "MULTI x", "EXEC x", "DISCARD x", "MULTI", "EXEC x", "DISCARD x", "EXEC",
		}},
		{name: "nested", steps: []string{
			"MULTI", "MULTI", "LPUSH q a", "EXEC", "LLEN q",
		}},
		{name: "queue-errors-abort", steps: []string{
			"MULTI", "LPUSH q a", "LPUSH", "EXEC", "LLEN q",
			"MULTI", "NOSUCH a b", "LPUSH q a", "EXEC", "LLEN q",
			"MULTI", "LPUSH q a", "LRANGE q 0", "DISCARD", "LLEN q",
			"MULTI", "LPOP q 1 2", "LPUSH q a", "EXEC", "LLEN q",
			"MULTI", "GET", "EXEC",
		}},
		{name: "runtime-errors-in-array", steps: []string{
			"SET s v", "MULTI", "LPUSH s a", "LPUSH q a", "LINDEX q x", "LSET nosuch 0 v", "LPOP q -1", "LLEN q",
			"BLPOP q abc", "LMPOP 0 q LEFT", "LPOS q a RANK 0", "LINSERT q MIDDLE a b", "EXEC", "LRANGE q 0 -1",
		}},
		{name: "watch", steps: []string{
			"WATCH q", "@1 LPUSH q x", "MULTI", "LPOP q", "EXEC", "LLEN q",
			"WATCH q", "MULTI", "LPOP q", "EXEC",
			"WATCH q", "LPUSH q mine", "MULTI", "PING", "EXEC",
			"WATCH q other", "@1 LPUSH other x", "MULTI", "PING", "EXEC",
			"WATCH q", "UNWATCH", "@1 LPUSH q x", "MULTI", "PING", "EXEC",
			"WATCH q", "MULTI", "DISCARD", "@1 LPUSH q y", "MULTI", "PING", "EXEC",
			"WATCH", "UNWATCH x", "MULTI", "WATCH q", "UNWATCH", "EXEC",
			"WATCH q", "MULTI", "UNWATCH", "@1 LPUSH q z", "EXEC",
			"WATCH q q q", "@1 DEL q", "MULTI", "PING", "EXEC",
			"WATCH nosuch", "@1 DEL nosuch", "MULTI", "PING", "EXEC",
			"WATCH q", "@1 SET q str", "MULTI", "PING", "EXEC", "DEL q",
			"@1 SELECT 1", "WATCH q", "@1 LPUSH q db1", "MULTI", "PING", "EXEC",
			"SELECT 1", "WATCH q", "SELECT 0", "@1 LPUSH q again", "MULTI", "PING", "EXEC",
		}},
		{name: "watch-list-ops", steps: watchSteps(
			[]string{"RPUSH k a b c"},
			"LPUSH k x", "RPUSH k x", "LPUSHX k x", "RPUSHX k x", "LPOP k", "RPOP k", "LPOP k 0", "RPOP k 0",
			"LSET k 0 x", "LINSERT k BEFORE b x", "LINSERT k BEFORE nope x", "LREM k 0 a", "LREM k 0 nope",
			"LTRIM k 0 -1", "LTRIM k 1 -1", "LTRIM k 5 10", "LMOVE k k LEFT RIGHT", "LMOVE k other LEFT RIGHT",
			"LMOVE other k LEFT RIGHT", "RPOPLPUSH k k", "LMPOP 1 k LEFT", "LMPOP 2 nosuch k LEFT COUNT 9",
			"BLPOP k 0", "BLMOVE k d LEFT LEFT 0", "BLMPOP 0 1 k RIGHT", "DEL k", "LRANGE k 0 -1", "LLEN k",
			"LINDEX k 0", "LPOS k a", "LMOVE nosuch k LEFT LEFT", "LPUSHX nosuch x", "SET k v", "DEL nosuch",
			"LPOP nosuch", "LSET k 9 x",
		)},
		{name: "watch-missing-then-created", steps: []string{
			"WATCH k", "@1 RPUSH k a", "MULTI", "PING", "EXEC",
			"DEL k", "WATCH k", "@1 RPUSH k a", "@1 LPOP k", "MULTI", "PING", "EXEC",
		}},
		{name: "watch-blocked-served", steps: []string{
			"@2 >BLPOP k 0", "!wait 1", "WATCH k", "@1 RPUSH k a", "@2 <", "EXISTS k", "MULTI", "PING", "EXEC",
		}},
		{name: "watch-expired", steps: []string{
			"RPUSH k a", "!expire k 300", "WATCH k", "!sleep 400ms", "MULTI", "PING", "EXEC",
			"RPUSH k2 a", "!expire k2 10", "!sleep 50ms", "WATCH k2", "MULTI", "PING", "EXEC",
			"RPUSH k3 a", "!expire k3 10", "!sleep 50ms", "WATCH k3", "EXISTS k3", "MULTI", "PING", "EXEC",
			"RPUSH k4 a", "!expire k4 5000", "WATCH k4", "MULTI", "PING", "EXEC",
		}},
		{name: "exec-discards-watch", steps: []string{
			"WATCH k", "MULTI", "EXEC", "@1 RPUSH k a", "MULTI", "PING", "EXEC",
			"WATCH k", "MULTI", "NOSUCH", "EXEC", "@1 RPUSH k a", "MULTI", "PING", "EXEC",
		}},
		{name: "multi-reset-quit", steps: []string{
			"WATCH k", "MULTI", "LPUSH k a", "RESET", "EXEC", "LLEN k",
			"MULTI", "SELECT 1", "LPUSH k db1", "SELECT 0", "EXEC", "LLEN k", "SELECT 1", "LLEN k", "SELECT 0",
			"MULTI", "LPUSH k a", "@0 !raw \"QUIT\\r\\n\"", "<", "!closed", "LLEN k",
		}},
		{name: "multi-arity-inside", steps: []string{
			"MULTI", "LLEN", "LLEN a b", "EXEC", "MULTI", "BLPOP q", "EXEC", "MULTI", "WATCH", "EXEC",
		}},
	})
}

// watchSteps builds, for each op, a script fragment: set up, WATCH k, run
// op on another connection, then MULTI/EXEC, so the EXEC reply says whether
// op touched the watched key.
func watchSteps(setup []string, ops ...string) []string {
	var steps []string
	for _, op := range ops {
		steps = append(steps, "DEL k other d", "SET str v")
		steps = append(steps, setup...)
		steps = append(steps, "WATCH k", "@1 "+op, "MULTI", "PING", "EXEC")
	}
	return steps
}

// Past maxmemory (noeviction): commands that add data are refused, and
// inside MULTI everything is, since queueing takes memory too; EXEC is
// refused only if it holds a command that adds data. (mullet's used
// memory is not Redis's, so the scripts create data, then set the limit
// to 1 byte, which both are past.) LMOVE, RPOPLPUSH and BLMOVE are left
// out on purpose: mullet lets them run past the limit (cmd_list.go).
func TestCompatOOM(t *testing.T) {
	diffScripts(t, []compatScript{
		{name: "oom", steps: []string{
			"RPUSH k a b c", "SET x value", "!maxmemory 1", "LPUSH k z", "RPUSH new z", "LPUSHX k z", "LINSERT k BEFORE a z",
			"LSET k 0 z", "LPOP k", "RPOP k 1", "LLEN k", "LRANGE k 0 -1", "LREM k 0 nope", "LTRIM k 0 -1", "DEL nosuch",
			"BLPOP k 0", "LMPOP 1 k LEFT", "PING", "MULTI", "LLEN k", "PING", "DISCARD",
		}},
		{name: "exec read-only under oom", steps: []string{
			"SET x value", "MULTI", "GET x", "PING", "!maxmemory 1", "EXEC",
		}},
		{name: "exec with a write under oom", steps: []string{
			"RPUSH k a", "MULTI", "RPUSH k b", "LLEN k", "!maxmemory 1", "EXEC", "LLEN k", "MULTI", "EXEC",
		}},
		{name: "exec with a pop under oom", steps: []string{
			"RPUSH k a", "MULTI", "LPOP k", "!maxmemory 1", "EXEC",
		}},
		{name: "multi refused under oom", steps: []string{
			"RPUSH k a", "!maxmemory 1", "MULTI", "LPOP k", "EXEC", "WATCH k", "MULTI", "WATCH k", "QUIT",
		}},
	})
}
