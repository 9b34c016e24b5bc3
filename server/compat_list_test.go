package server

import (
	"fmt"
	"strings"
	"testing"
)

// List commands, every option and error path, against redis-server.

func TestCompatListPush(t *testing.T) {
	diffScripts(t, []compatScript{
		{name: "push", steps: []string{
			"LPUSH q a b c", "RPUSH q d e", "LRANGE q 0 -1", "LLEN q",
			"LPUSHX q x", "RPUSHX q y z", "LPUSHX nosuch x", "RPUSHX nosuch x", "EXISTS nosuch",
			"LPUSH", "LPUSH q", "RPUSH q", "LPUSHX q", "RPUSHX q", "lpush", "LpUsH q",
			"LPUSH q \"\"", "RPUSH q \"\" \"\"", "LRANGE q 0 -1",
			"LPUSH bin \"\\x00\\x01\\xff\\r\\n\"", "LRANGE bin 0 -1", "LINDEX bin 0",
			"SET s v", "LPUSH s a", "RPUSH s a", "LPUSHX s a", "RPUSHX s a", "GET s",
			"LPUSH q " + strings.Repeat("v ", 300),
			"LLEN q",
		}},
		{name: "pop", steps: []string{
			"RPUSH q 1 2 3 4 5 6", "LPOP q", "RPOP q", "LPOP q 2", "RPOP q 0", "LPOP q 0",
			"LPOP q -1", "RPOP q -5", "LPOP q x", "LPOP q 1.5", "LPOP q 99999999999999999999",
			"LPOP q 1 2", "RPOP q 1 2", "LPOP", "RPOP",
			"LPOP q 100", "EXISTS q", "LPOP q", "RPOP q", "LPOP q 0", "RPOP q 3", "LPOP q -1",
			"SET s v", "LPOP s", "RPOP s 2", "LPOP s 0", "LPOP s -1",
			"RPUSH one x", "RPOP one 1", "EXISTS one",
			"RPUSH q a", "LPOP q 9223372036854775807", "RPUSH q a", "LPOP q 9223372036854775808",
			"LPOP q 01", "LPOP q +1", "LPOP q \" 1\"", "LPOP q -0",
		}},
		{name: "llen-lindex", steps: []string{
			"LLEN q", "RPUSH q a b c", "LLEN q", "LLEN q x", "LLEN",
			"LINDEX q 0", "LINDEX q 2", "LINDEX q 3", "LINDEX q -1", "LINDEX q -3", "LINDEX q -4",
			"LINDEX q x", "LINDEX q 1.0", "LINDEX nosuch 0", "LINDEX nosuch x", "LINDEX q",
			"LINDEX q 9223372036854775807", "LINDEX q -9223372036854775808", "LINDEX q 9223372036854775808",
			"SET s v", "LLEN s", "LINDEX s 0", "LINDEX s x",
		}},
		{name: "lrange", steps: []string{
			"RPUSH q a b c d e", "LRANGE q 0 -1", "LRANGE q 1 3", "LRANGE q -2 -1", "LRANGE q -100 100",
			"LRANGE q 3 1", "LRANGE q 5 10", "LRANGE q -1 -2", "LRANGE q 0 0", "LRANGE q -1 -1",
			"LRANGE q 9223372036854775807 -9223372036854775808", "LRANGE q -9223372036854775808 9223372036854775807",
			"LRANGE q 0 9223372036854775808", "LRANGE q x 1", "LRANGE q 1 y", "LRANGE q", "LRANGE q 1",
			"LRANGE nosuch 0 -1", "LRANGE nosuch x 1", "SET s v", "LRANGE s 0 -1", "LRANGE s x y",
		}},
		{name: "lset", steps: []string{
			"RPUSH q a b c", "LSET q 0 A", "LSET q -1 C", "LSET q -3 AA", "LSET q 3 x", "LSET q -4 x",
			"LRANGE q 0 -1", "LSET q x v", "LSET nosuch 0 v", "LSET nosuch x v", "LSET q 0", "LSET q",
			"SET s v", "LSET s 0 x", "LSET q 1 \"\"", "LRANGE q 0 -1",
			"LSET q 9223372036854775807 v", "LSET q -9223372036854775808 v",
		}},
		{name: "linsert", steps: []string{
			"RPUSH q a b c", "LINSERT q BEFORE a X", "LINSERT q after c Y", "LINSERT q AFTER nope Z",
			"LINSERT q BeFoRe b W", "LRANGE q 0 -1", "LINSERT nosuch BEFORE a X", "LINSERT q MIDDLE a X",
			"LINSERT nosuch MIDDLE a X", "LINSERT q BEFORE a", "LINSERT q", "SET s v", "LINSERT s BEFORE a X",
			"LINSERT s MIDDLE a X", "LINSERT q AFTER \"\" X", "RPUSH q \"\"", "LINSERT q AFTER \"\" E", "LRANGE q 0 -1",
		}},
		{name: "lrem", steps: []string{
			"RPUSH q a b a c a b a", "LREM q 2 a", "LRANGE q 0 -1", "LREM q -1 a", "LRANGE q 0 -1",
			"LREM q 0 b", "LRANGE q 0 -1", "LREM q 0 nope", "LREM q x a", "LREM nosuch 0 a", "LREM q 0",
			"LREM q 0 a", "LREM q 0 c", "EXISTS q", "SET s v", "LREM s 0 a", "LREM s x a",
			"RPUSH q a a a", "LREM q -9223372036854775808 a", "EXISTS q",
		}},
		{name: "ltrim", steps: []string{
			"RPUSH q a b c d e", "LTRIM q 1 -2", "LRANGE q 0 -1", "LTRIM q 0 -1", "LRANGE q 0 -1",
			"LTRIM q -100 100", "LTRIM q 2 1", "EXISTS q", "RPUSH q a b", "LTRIM q 5 10", "EXISTS q",
			"RPUSH q a b", "LTRIM q -1 -2", "EXISTS q", "LTRIM nosuch 0 1", "LTRIM q x 1", "LTRIM q 0",
			"SET s v", "LTRIM s 0 1", "LTRIM s x 1", "RPUSH q a b c", "LTRIM q -1 -1", "LRANGE q 0 -1",
			"LTRIM q 9223372036854775807 -9223372036854775808", "EXISTS q",
		}},
		{name: "lpos", steps: []string{
			"RPUSH q a b c 1 2 3 c c", "LPOS q c", "LPOS q c RANK 2", "LPOS q c RANK -1", "LPOS q c RANK -3",
			"LPOS q c RANK 4", "LPOS q c RANK -4", "LPOS q c COUNT 0", "LPOS q c COUNT 2", "LPOS q c COUNT 2 RANK -1",
			"LPOS q c RANK -1 COUNT 0", "LPOS q c MAXLEN 1", "LPOS q c MAXLEN 3", "LPOS q c COUNT 0 MAXLEN 7",
			"LPOS q c RANK -1 MAXLEN 1", "LPOS q c RANK -1 MAXLEN 2 COUNT 0", "LPOS q c RANK 2 COUNT 0 MAXLEN 8",
			"LPOS q c MAXLEN 0", "LPOS q c RANK 0", "LPOS q c COUNT -1", "LPOS q c MAXLEN -1",
			"LPOS q c RANK x", "LPOS q c COUNT x", "LPOS q c MAXLEN x", "LPOS q c RANK", "LPOS q c COUNT",
			"LPOS q c FOO 1", "LPOS q c rank 1 count 1 maxlen 1", "LPOS q c RANK 1 RANK 2",
			"LPOS q c RANK -9223372036854775808", "LPOS q c RANK 9223372036854775807",
			"LPOS q nope", "LPOS q nope COUNT 0", "LPOS q nope COUNT 5", "LPOS nosuch a", "LPOS nosuch a COUNT 0",
			"LPOS nosuch a RANK 0", "LPOS nosuch a COUNT -1", "LPOS q", "SET s v", "LPOS s a", "LPOS s a RANK 0",
			"LPOS q c COUNT 1 RANK 0", "LPOS q c RANK 0 COUNT -1", "LPOS q c MAXLEN -1 RANK 0",
		}},
		{name: "lmove", steps: []string{
			"RPUSH src 1 2 3", "LMOVE src dst LEFT RIGHT", "LMOVE src dst RIGHT LEFT", "LMOVE src dst left left",
			"LRANGE dst 0 -1", "EXISTS src", "LMOVE src dst LEFT RIGHT", "LMOVE dst dst LEFT RIGHT",
			"LRANGE dst 0 -1", "LMOVE dst dst RIGHT RIGHT", "LMOVE dst dst RIGHT LEFT", "LRANGE dst 0 -1",
			"LMOVE src dst UP LEFT", "LMOVE src dst LEFT DOWN", "LMOVE nosuch dst UP LEFT", "LMOVE src dst LEFT",
			"SET s v", "LMOVE s dst LEFT LEFT", "LMOVE dst s LEFT LEFT", "LRANGE dst 0 -1", "LMOVE nosuch s LEFT LEFT",
			"LMOVE s s LEFT LEFT", "RPOPLPUSH dst s", "RPOPLPUSH s dst", "RPOPLPUSH nosuch dst", "RPOPLPUSH dst",
			"RPUSH one x", "RPOPLPUSH one one", "LRANGE one 0 -1", "RPOPLPUSH one other", "EXISTS one", "LRANGE other 0 -1",
		}},
		{name: "lmpop", steps: []string{
			"RPUSH a 1 2 3", "RPUSH b 4 5", "LMPOP 2 a b LEFT", "LMPOP 2 nosuch b RIGHT", "LMPOP 2 a b LEFT COUNT 10",
			"LMPOP 2 a b LEFT COUNT 10", "LMPOP 2 a b RIGHT COUNT 1", "EXISTS a b",
			"RPUSH a 1 2", "LMPOP 1 a LEFT COUNT 0", "LMPOP 1 a LEFT COUNT -1", "LMPOP 1 a LEFT COUNT x",
			"LMPOP 1 a LEFT COUNT", "LMPOP 1 a LEFT COUNT 1 COUNT 1", "LMPOP 1 a LEFT FOO", "LMPOP 1 a MIDDLE",
			"LMPOP 0 a LEFT", "LMPOP -1 a LEFT", "LMPOP x a LEFT", "LMPOP 3 a LEFT", "LMPOP 2 a LEFT",
			"LMPOP 1 a", "LMPOP 1", "LMPOP", "LMPOP 9223372036854775807 a LEFT", "LMPOP 2147483648 a LEFT",
			"LMPOP 1 a b", "LMPOP 1 a left count 1", "SET s v", "LMPOP 2 s a LEFT", "LMPOP 2 a s LEFT",
			"LMPOP 2 nosuch s LEFT", "LMPOP 1 nosuch LEFT", "LMPOP 1 a LEFT COUNT 9223372036854775807",
			"RPUSH a 1", "LMPOP 1 a RIGHT COUNT 99999999999999999999",
		}},
	})
}

func TestCompatListBigValues(t *testing.T) {
	big := strings.Repeat("x", 512<<10)
	var bin strings.Builder
	for i := 0; i < 256; i++ {
		bin.WriteByte(byte(i))
	}
	var many []string
	many = append(many, "DEL m")
	for i := 0; i < 40; i++ {
		many = append(many, fmt.Sprintf("RPUSH m %s", strings.Repeat("y ", 100)+fmt.Sprint(i)))
	}
	many = append(many, "LLEN m", "LINDEX m 2049", "LINSERT m BEFORE 20 mid", "LSET m 4000 set",
		"LRANGE m 4000 4003", "LREM m 0 y", "LRANGE m 0 -1", "LPOS m 39")
	diffScripts(t, []compatScript{
		{name: "512KB", steps: []string{
			"RPUSH q " + big, "LPUSH q " + big + "z", "LLEN q", "LINDEX q 1", "LINDEX q 0",
			"LSET q 0 " + big + "w", "LRANGE q 0 -1", "LPOS q " + big, "LINSERT q BEFORE " + big + " small",
			"LREM q 0 " + big, "LRANGE q 0 -1", "RPOP q", "LPOP q",
		}},
		{name: "all-bytes", steps: []string{
			"RPUSH q " + quoteArg([]byte(bin.String())), "LRANGE q 0 -1", "LPOS q " + quoteArg([]byte(bin.String())),
			"RPUSH q " + quoteArg([]byte{0}) + " " + quoteArg([]byte{0, 0}), "LREM q 0 " + quoteArg([]byte{0}), "LRANGE q 0 -1",
		}},
		{name: "many-chunks", steps: many},
	})
}
