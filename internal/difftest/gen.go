package difftest

import (
	"math/rand/v2"
	"strings"
)

// Step is one command of a sequence, sent on connection Conn (0, or 1
// for the second connection that breaks WATCHes and pushes to lists
// the first one waits on). Sync ends a pipelined batch: the replies of
// the batch are read before the next command is sent.
type Step struct {
	Conn int
	Args []string
	Sync bool
}

// Seq is a sequence of steps run from an empty server on fresh
// connections speaking Proto (2, or 3 after HELLO 3).
type Seq struct {
	Proto int
	Steps []Step
}

// A Family is a group of commands mullet has; a new data type or feature
// (hashes, sets, sorted sets, streams, scripts, pub/sub) plugs in as one
// more entry of Families.
type Family struct {
	Name   string
	Weight int
	Cmds   []CmdGen
}

// A CmdGen makes the arguments of one command, name first, from g's
// random source. Blocking commands must use g.timeout, which gives a
// timeout that cannot block for long outside MULTI.
type CmdGen struct {
	Name   string
	Weight int
	Gen    func(g *Gen) []string
}

// Families is the table of everything the generator sends.
var Families = []Family{
	{"strings", 10, stringCmds},
	{"lists", 12, listCmds},
	{"blocking", 3, blockingCmds},
	{"keys", 10, keyCmds},
	{"sort", 3, sortCmds},
	{"multi", 5, multiCmds},
	{"connection", 2, connCmds},
}

// The admin family comes last, added at init: its COMMAND GETKEYS draws
// commands from the families before it.
func init() { Families = append(Families, Family{"admin", 2, adminCmds}) }

// Gen draws commands for one sequence.
type Gen struct {
	r *rand.Rand
	// inMulti says, per connection, whether the commands sent so far
	// leave it inside MULTI, where blocking commands do not block.
	inMulti [2]bool
	conn    int // the connection the command being drawn is for
	// mainKeys are the keys most commands draw from.
	mainKeys []string
	// families are the families this sequence draws from.
	families []Family
}

// NewSeq generates sequence number n of the run seeded with seed.
func NewSeq(seed, n uint64) Seq {
	g := &Gen{r: rand.New(rand.NewPCG(seed, n))}
	// Some sequences work on fewer keys, so the same key meets more
	// commands (a one-item list moved onto itself, then its TTL read).
	g.mainKeys = mainKeys[:1+g.r.IntN(len(mainKeys))]
	// And some draw from two families only, so their commands meet each
	// other more often (lists and keys: moves, TTLs and types together).
	g.families = Families
	if g.chance(3) {
		a, b := Families[g.r.IntN(len(Families))], Families[g.r.IntN(len(Families))]
		g.families = []Family{a, b}
	}
	seq := Seq{Proto: 2 + g.r.IntN(2)}
	steps := 5 + g.r.IntN(50)
	for range steps {
		conn := 0
		if g.r.IntN(10) == 0 {
			conn = 1
		}
		args := g.command(conn)
		seq.Steps = append(seq.Steps, Step{Conn: conn, Args: args, Sync: g.r.IntN(5) == 0})
		g.inMulti[conn] = nextMulti(g.inMulti[conn], args)
	}
	return seq
}

// nextMulti is whether a connection is inside MULTI after args, given
// whether it was before. It need not be exact for every error reply, only
// err on the side of "not in MULTI", which gives safe timeouts.
func nextMulti(in bool, args []string) bool {
	name := strings.ToLower(args[0])
	switch {
	case name == "multi" && len(args) == 1:
		return true
	case name == "exec" || name == "discard" || name == "reset":
		return false
	}
	return in
}

// command draws one command for connection conn.
func (g *Gen) command(conn int) []string {
	f := pick(g, g.families, func(f Family) int { return f.Weight })
	c := pick(g, f.Cmds, func(c CmdGen) int { return c.Weight })
	g.conn = conn
	args := c.Gen(g)
	// Wrong arity now and then: one argument fewer or one more. Never for
	// blocking commands, whose timeout must stay where it was put, nor
	// for admin ones (a bare COMMAND lists Redis's 240 commands).
	if f.Name != "blocking" && f.Name != "admin" && len(args) > 0 {
		switch g.r.IntN(40) {
		case 0:
			if len(args) > 1 {
				args = args[:len(args)-1]
			}
		case 1:
			args = append(args, g.value())
		}
	}
	if g.r.IntN(8) == 0 {
		args[0] = randomCase(g, args[0])
	}
	return args
}

func pick[T any](g *Gen, xs []T, weight func(T) int) T {
	total := 0
	for _, x := range xs {
		total += weight(x)
	}
	n := g.r.IntN(total)
	for _, x := range xs {
		if n -= weight(x); n < 0 {
			return x
		}
	}
	return xs[len(xs)-1]
}

func randomCase(g *Gen, s string) string {
	b := []byte(s)
	for i, c := range b {
		if g.r.IntN(2) == 0 {
			if 'a' <= c && c <= 'z' {
				b[i] = c - 'a' + 'A'
			} else if 'A' <= c && c <= 'Z' {
				b[i] = c - 'A' + 'a'
			}
		}
	}
	return string(b)
}

func (g *Gen) one(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// chance is true with probability 1/n.
func (g *Gen) chance(n int) bool { return g.r.IntN(n) == 0 }

// The key space is small so commands meet each other's keys, of every
// type; w_a, w_b and w_1 are what SORT's BY and GET patterns look up.
var mainKeys = []string{"a", "b", "c", "l"}
var rareKeys = []string{"", "k\x00\xff", "w_a", "w_b", "w_1", "{t}x"}

func (g *Gen) key() string {
	if g.chance(6) {
		return g.one(rareKeys...)
	}
	return g.one(g.mainKeys...)
}

func (g *Gen) keys(min int) []string {
	n := min + g.r.IntN(3)
	out := make([]string, n)
	for i := range out {
		out[i] = g.key()
	}
	return out
}

// huge is a value past every small-value encoding threshold.
var huge = strings.Repeat("x", 70000)

// Values: the plain, and the nasty (empty, binary, CR/LF, numbers at and
// past the edges of int64 and float64, non-numbers that look numeric).
var plainValues = []string{"a", "b", "c", "1", "2", "10", "-3", "x"}
var nastyValues = []string{
	"", "0", "-0", "+1", "007", " 1", "1 ", "3.5", "-3.5", "1e3", "1e400", "-1e400", "1e-400",
	"inf", "-inf", "+inf", "nan", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
	"-9223372036854775809", "18446744073709551616", "0x10", "1.7976931348623157e308", "4.9e-324",
	"\x00", "a\x00b", "\xff\xfe", "a\r\nb", "BAD\r\n", "\r\n", "*", "?", "[a-", "\\", "\"", " ",
	strings.Repeat("y", 300), "Hello, world",
}

func (g *Gen) value() string {
	switch {
	case g.chance(200):
		return huge
	case g.chance(3):
		return g.one(nastyValues...)
	case g.chance(20):
		b := make([]byte, g.r.IntN(12))
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		return string(b)
	}
	return g.one(plainValues...)
}

func (g *Gen) values(min int) []string {
	n := min // often just one: one-item lists have their own edge cases
	if g.chance(2) {
		n += g.r.IntN(4)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = g.value()
	}
	return out
}

var intValues = []string{
	"0", "1", "-1", "2", "-2", "3", "5", "-5", "100", "-100", "9223372036854775807", "-9223372036854775808",
	"9223372036854775808", "abc", "", "1.5", " 1", "+1", "0x1", "1e2", "-0", "2147483648", "-2147483649",
}

// integer is an integer argument, usually valid and small.
func (g *Gen) integer() string {
	if g.chance(3) {
		return g.one(intValues...)
	}
	return g.one("0", "1", "2", "-1", "3", "-2")
}

var floatValues = []string{
	"0", "1.5", "-1.5", "1e3", "1e400", "-1e400", "1e-400", "inf", "-inf", "nan", "abc", "", "0x10", "1e",
	".5", "5.", "1.7976931348623157e308", "3", "-0.0", " 1", "1 ",
}

func (g *Gen) float() string { return g.one(floatValues...) }

// Expiry arguments: past, present and far future, the overflow edges, and
// junk. No small positive relative time: a key must not expire between
// the moment redis-server runs a command and the moment mullet does.
var (
	relSeconds = []string{"0", "-1", "-100", "100", "1000", "86400", "9223372036854775807",
		"-9223372036854775808", "9223372036854775", "9223372036854776", "abc", "1.5", ""}
	relMillis = []string{"0", "-1", "100000", "86400000", "9223372036854775807", "-9223372036854775808",
		"9223372036854775806", "abc", ""}
	absSeconds = []string{"0", "1", "100", "4102444800", "9999999999", "9223372036854775", "-1",
		"9223372036854775807", "abc"}
	absMillis = []string{"0", "1", "4102444800000", "9223372036854775807", "9223372036854775308",
		"9223372036854775307", "-1", "abc"}
)

// timeout is a blocking command's timeout: inside MULTI anything, as
// nothing blocks there; outside only ones that end within 10 ms or are
// refused.
func (g *Gen) timeout() string {
	if g.inMulti[g.conn] && g.chance(2) {
		return g.one("0", "100", "0.5", "9223372036854775")
	}
	return g.one("0.01", "0.001", "0.005", "-1", "abc", "1e400", "inf", "nan", "", "-0.5", "9223372036854775807")
}

// safeTimeout reports whether timeout, given outside MULTI, cannot block
// for more than a few milliseconds; the shrinker checks it so that
// dropping a MULTI never leaves a long wait behind.
func safeTimeout(t string) bool {
	switch t {
	case "0", "100", "0.5", "9223372036854775":
		return false
	}
	return true
}
