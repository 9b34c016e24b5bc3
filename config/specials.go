package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"mullet/internal/redisc"
)

// The directives with a syntax of their own. Each mirrors the matching
// setConfig*Option / getConfig*Option / rewriteConfig*Option in Redis's
// config.c; error texts are Redis's.

// save: "seconds changes" pairs (Redis 7 accepts several per line).
var spSave = &special{
	parse: func(prev val, args []string, acc bool) (val, error) {
		reset := !acc
		if len(args) == 1 && args[0] == "" {
			reset, args = true, nil // save "" always clears, even mid-file
		}
		errSave := errors.New("Invalid save parameters")
		if len(args)%2 != 0 {
			return val{}, errSave
		}
		nums := make([]int64, 0, len(args))
		for j, a := range args {
			// strtoll, not string2ll: "+60" and " 60" are fine here.
			n, rest, _ := strtoll(a, 10)
			if rest != "" || j%2 == 0 && n < 1 || j%2 == 1 && n < 0 {
				return val{}, errSave
			}
			if j%2 == 1 {
				n = int64(int32(n)) // "changes" is a C int
			}
			nums = append(nums, n)
		}
		if !reset {
			nums = append(append([]int64(nil), prev.nums...), nums...)
		}
		return val{nums: nums}, nil
	},
	format: func(v val) string { return joinInts(v.nums) },
	rewrite: func(name string, v, _ val) []rwLine {
		if len(v.nums) == 0 {
			return forced(name + ` ""`)
		}
		var lines []rwLine
		for i := 0; i+1 < len(v.nums); i += 2 {
			// "changes" was cut to a C int; a negative one is written as
			// the unsigned number that cuts back to it, so the line loads.
			lines = append(lines, rwLine{fmt.Sprintf("%s %d %d", name, v.nums[i], uint32(v.nums[i+1])), true})
		}
		return lines
	},
}

// Output buffer limit classes, in Redis's CLIENT_TYPE order (master has no
// limit of its own and cannot be configured).
var obufClasses = []string{"normal", "slave", "pubsub"}

func obufClass(name string) int {
	switch asciiLower(name) {
	case "normal":
		return 0
	case "slave", "replica":
		return 1
	case "pubsub":
		return 2
	case "master":
		return -2
	}
	return -1
}

// client-output-buffer-limit: <class> <hard> <soft> <seconds>, repeated;
// only the classes named change. nums holds hard, soft, seconds per class.
var spOutputBuffer = &special{
	parse: func(prev val, args []string, _ bool) (val, error) {
		if len(args)%4 != 0 {
			return val{}, errors.New("Wrong number of arguments in buffer limit configuration.")
		}
		nums := make([]int64, 3*len(obufClasses))
		copy(nums, prev.nums)
		next := append([]int64(nil), nums...)
		for j := 0; j < len(args); j += 4 {
			class := obufClass(args[j])
			if class < 0 {
				return val{}, errors.New("Invalid client class specified in buffer limit configuration.")
			}
			hard, herr := ParseSize(args[j+1])
			soft, serr := ParseSize(args[j+2])
			secs, rest, _ := strtoll(args[j+3], 10)
			secs = int64(int32(secs)) // soft_seconds is a C int
			if !herr || !serr || secs < 0 || rest != "" {
				return val{}, errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
			}
			next[3*class], next[3*class+1], next[3*class+2] = int64(hard), int64(soft), secs
		}
		return val{nums: next}, nil
	},
	format: func(v val) string {
		var b strings.Builder
		for i, c := range obufClasses {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s %d %d %d", c, uint64(v.nums[3*i]), uint64(v.nums[3*i+1]), v.nums[3*i+2])
		}
		return b.String()
	},
	rewrite: func(name string, v, def val) []rwLine {
		var lines []rwLine
		for i, c := range obufClasses {
			if c == "slave" {
				c = "replica"
			}
			lines = append(lines, rwLine{
				text: fmt.Sprintf("%s %s %s %s %d", name, c,
					formatMemory(uint64(v.nums[3*i])), formatMemory(uint64(v.nums[3*i+1])), v.nums[3*i+2]),
				force: !slices.Equal(v.nums[3*i:3*i+3], def.nums[3*i:3*i+3]),
			})
		}
		return lines
	},
}

// oom-score-adj-values: exactly three values in -2000..2000.
var spOOMValues = &special{
	parse: func(_ val, args []string, _ bool) (val, error) {
		if len(args) != 3 {
			return val{}, errArgCount
		}
		nums := make([]int64, 3)
		for i, a := range args {
			n, rest, _ := strtoll(a, 10)
			if rest != "" || n < -2000 || n > 2000 {
				return val{}, errors.New("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
			}
			nums[i] = n
		}
		return val{nums: nums}, nil
	},
	format: func(v val) string { return joinInts(v.nums) },
	rewrite: func(name string, v, def val) []rwLine {
		return []rwLine{{name + " " + joinInts(v.nums), !slices.Equal(v.nums, def.nums)}}
	},
}

// Keyspace notification classes (server.h NOTIFY_*).
const (
	notifyKeyspace = 1 << 0  // K
	notifyKeyevent = 1 << 1  // E
	notifyGeneric  = 1 << 2  // g
	notifyString   = 1 << 3  // $
	notifyList     = 1 << 4  // l
	notifySet      = 1 << 5  // s
	notifyHash     = 1 << 6  // h
	notifyZset     = 1 << 7  // z
	notifyExpired  = 1 << 8  // x
	notifyEvicted  = 1 << 9  // e
	notifyStream   = 1 << 10 // t
	notifyKeyMiss  = 1 << 11 // m
	notifyModule   = 1 << 13 // d
	notifyNew      = 1 << 14 // n
	notifyAll      = notifyGeneric | notifyString | notifyList | notifySet | notifyHash |
		notifyZset | notifyExpired | notifyEvicted | notifyStream | notifyModule // A
)

// notify-keyspace-events: a string of class characters.
var spNotify = &special{
	parse: func(_ val, args []string, _ bool) (val, error) {
		var f int64
		for _, c := range []byte(args[0]) {
			switch c {
			case 'A':
				f |= notifyAll
			case 'g':
				f |= notifyGeneric
			case '$':
				f |= notifyString
			case 'l':
				f |= notifyList
			case 's':
				f |= notifySet
			case 'h':
				f |= notifyHash
			case 'z':
				f |= notifyZset
			case 'x':
				f |= notifyExpired
			case 'e':
				f |= notifyEvicted
			case 'K':
				f |= notifyKeyspace
			case 'E':
				f |= notifyKeyevent
			case 't':
				f |= notifyStream
			case 'm':
				f |= notifyKeyMiss
			case 'd':
				f |= notifyModule
			case 'n':
				f |= notifyNew
			default:
				return val{}, errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
			}
		}
		return val{n: f}, nil
	},
	format: func(v val) string {
		f := v.n
		var b []byte
		if f&notifyAll == notifyAll {
			b = append(b, 'A')
		} else {
			for _, p := range []struct {
				bit int64
				c   byte
			}{{notifyGeneric, 'g'}, {notifyString, '$'}, {notifyList, 'l'}, {notifySet, 's'},
				{notifyHash, 'h'}, {notifyZset, 'z'}, {notifyExpired, 'x'}, {notifyEvicted, 'e'},
				{notifyStream, 't'}, {notifyModule, 'd'}, {notifyNew, 'n'}} {
				if f&p.bit != 0 {
					b = append(b, p.c)
				}
			}
		}
		if f&notifyKeyspace != 0 {
			b = append(b, 'K')
		}
		if f&notifyKeyevent != 0 {
			b = append(b, 'E')
		}
		if f&notifyKeyMiss != 0 {
			b = append(b, 'm')
		}
		return string(b)
	},
	rewrite: func(name string, v, _ val) []rwLine {
		return []rwLine{{name + " " + Quote(v.get), v.n != 0}}
	},
}

// maxBindAddrs is Redis's CONFIG_BINDADDR_MAX.
const maxBindAddrs = 16

// bind: up to 16 addresses; a single "" means none.
var spBind = &special{
	parse: func(_ val, args []string, _ bool) (val, error) {
		if len(args) > maxBindAddrs {
			return val{}, errors.New("Too many bind addresses specified.")
		}
		if len(args) == 1 && args[0] == "" {
			args = nil
		}
		return val{list: append([]string(nil), args...)}, nil
	},
	format: func(v val) string { return strings.Join(v.list, " ") },
	rewrite: func(name string, v, def val) []rwLine {
		if slices.Equal(v.list, def.list) {
			return nil // the default: Redis drops the line
		}
		return forced(multiArgLine(name, v.list))
	},
}

// multiArgLine writes a multi-argument directive so that loading the line
// gives back exactly args: arguments are quoted only when they need it (so
// plain addresses look as Redis writes them), and a lone argument that
// holds spaces or quotes is quoted twice, because a lone argument is
// split again when loaded.
func multiArgLine(name string, args []string) string {
	if len(args) == 0 {
		return name + ` ""`
	}
	plain := func(a string) bool {
		if a == "" {
			return false
		}
		for _, c := range []byte(a) {
			if c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' {
				return false
			}
		}
		return true
	}
	if len(args) == 1 {
		if plain(args[0]) {
			return name + " " + args[0]
		}
		return name + " " + Quote(Quote(args[0]))
	}
	var b strings.Builder
	b.WriteString(name)
	for _, a := range args {
		b.WriteByte(' ')
		if plain(a) {
			b.WriteString(a)
		} else {
			b.WriteString(Quote(a))
		}
	}
	return b.String()
}

// replicaof: "host port" or "no one". mullet has no replication, so only
// "no one" (the default) is accepted once the syntax checks pass.
var spReplicaOf = &special{
	parse: func(_ val, args []string, _ bool) (val, error) {
		if len(args) != 2 {
			return val{}, errArgCount
		}
		if asciiLower(args[0]) == "no" && asciiLower(args[1]) == "one" {
			return val{}, nil
		}
		port, rest, rangeErr := strtoll(args[1], 10)
		if port < 0 || port > 65535 || rest != "" || rangeErr {
			return val{}, errors.New("Invalid master port")
		}
		return val{}, errors.New("mullet does not support replication: replicaof must be 'no one'")
	},
	format:  func(val) string { return "" },
	rewrite: func(string, val, val) []rwLine { return nil },
}

// latency-tracking-info-percentiles: floats in [0, 100]; "" means none.
var spPercentiles = &special{
	parse: func(_ val, args []string, _ bool) (val, error) {
		if len(args) == 1 && args[0] == "" {
			args = nil
		}
		list := make([]string, 0, len(args))
		for _, a := range args {
			f, ok := string2d(a)
			if !ok {
				return val{}, errors.New("Invalid latency-tracking-info-percentiles parameters")
			}
			if f > 100 || f < 0 {
				return val{}, errors.New("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
			}
			list = append(list, formatPercentile(f))
		}
		return val{list: list}, nil
	},
	format: func(v val) string { return strings.Join(v.list, " ") },
	rewrite: func(name string, v, _ val) []rwLine {
		if len(v.list) == 0 {
			return forced(name + ` ""`)
		}
		return forced(name + " " + strings.Join(v.list, " "))
	},
}

// dir: must be an existing directory. Redis chdir()s into it and CONFIG
// GET reports getcwd(); mullet does not change the process's working
// directory (a library must not), so it stores the absolute path with
// symlinks resolved, which is what getcwd would have printed.
var spDir = &special{
	parse: func(_ val, args []string, _ bool) (val, error) {
		if len(args) != 1 {
			return val{}, errArgCount
		}
		p := args[0]
		st, err := os.Stat(p)
		if err == nil && !st.IsDir() {
			err = syscall.ENOTDIR
		}
		if err == nil {
			if p, err = filepath.Abs(p); err == nil {
				p, err = filepath.EvalSymlinks(p)
			}
		}
		if err != nil {
			return val{}, errors.New(redisc.Strerror(err))
		}
		return val{s: p}, nil
	},
	format: func(v val) string { return v.s },
	rewrite: func(name string, v, _ val) []rwLine {
		return forced(name + " " + Quote(v.s))
	},
}

// consumer-route QUEUE TABLE: one route per occurrence; they accumulate
// within a Load (file and flags together), like save.
var spRoute = &special{
	parse: func(prev val, args []string, acc bool) (val, error) {
		if len(args) != 2 {
			return val{}, errArgCount
		}
		q, t := args[0], args[1]
		if q == "" || t == "" {
			return val{}, errors.New("consumer-route needs a queue and a table name, both non-empty")
		}
		if strings.ContainsAny(t, "`\x00") {
			// The sink quotes table names with backticks; refusing these
			// keeps a name from ever escaping its quotes.
			return val{}, fmt.Errorf("consumer-route table name %s contains a backtick or NUL byte", Quote(t))
		}
		var list []string
		if acc {
			list = append(list, prev.list...)
		}
		for i := 0; i+1 < len(list); i += 2 {
			if list[i] == q {
				return val{}, fmt.Errorf("consumer-route: queue %s is already routed to table %s", Quote(q), Quote(list[i+1]))
			}
		}
		return val{list: append(list, q, t)}, nil
	},
	format: func(v val) string { return strings.Join(v.list, " ") },
	rewrite: func(name string, v, _ val) []rwLine {
		var lines []rwLine
		for i := 0; i+1 < len(v.list); i += 2 {
			lines = append(lines, rwLine{name + " " + Quote(v.list[i]) + " " + Quote(v.list[i+1]), true})
		}
		return lines
	},
}

func joinInts(nums []int64) string {
	var b strings.Builder
	for i, n := range nums {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(n, 10))
	}
	return b.String()
}
