// Package difftest is a differential tester: it sends the same seeded
// random command sequences to redis-server 7.0 and to mullet and compares
// the replies byte for byte.
//
// A sequence (Seq) runs from an empty server on two fresh connections per
// server, in RESP2 or RESP3, pipelined in batches; the second connection
// breaks the first one's WATCHes and touches the keys it works on. The
// commands come from a table of families (Families), each a table of
// command generators; a new data type plugs in as one more entry. Values
// are chosen to hurt: empty, binary, CR/LF, huge, numbers at and past the
// edges of int64 and float64, bad options, wrong arity, and wrong types
// through a key space of a few keys shared by every family.
//
// Replies must be identical, except for the relaxations in relaxed (TTLs
// within a second, KEYS and SCAN as sets, RANDOMKEY's choice, the client
// id in HELLO and CLIENT ID) and the documented differences in
// KnownDifferences, each matched by command and condition and tied to the
// section of docs/compatibility.md that explains it. A difference is
// shrunk (Shrink) and printed as a redis-cli script (Script).
//
// Nothing generated blocks for more than a few milliseconds: blocking
// commands get timeouts of 1-10 ms outside MULTI, and no relative expiry
// is short enough to fire between the two servers' runs of a command.
package difftest

import (
	"fmt"
	"io"
	"strings"
)

// Campaign runs sequences of one seed against one pair of servers and
// counts what it finds. It is not safe for concurrent use: parallel
// workers each have their own Campaign and servers.
type Campaign struct {
	Targets Targets
	Seed    uint64
	Log     io.Writer // where differences and their scripts are printed

	Seqs     uint64         // sequences run
	Commands uint64         // commands whose replies were compared (per server)
	Probes   uint64         // end-state reads compared (per server)
	Known    map[string]int // documented differences met, by name
	Found    []Found        // undocumented differences, shrunk, one of each kind

	repeats map[string]int // differences met, by signature
}

// Differences is the number of undocumented differences met, repeats of
// one kind included.
func (c *Campaign) Differences() int {
	n := 0
	for _, r := range c.repeats {
		n += r
	}
	return n
}

// signature is a difference's kind: for an error from Redis its text
// (the same error from several commands is one kind), else the command
// (with its subcommand for containers such as COMMAND and CLIENT).
func signature(d *Diff) string {
	if strings.HasPrefix(d.Ref, `"-`) {
		return d.Ref[:min(len(d.Ref), 40)]
	}
	name := strings.ToLower(d.Args[0])
	switch name {
	case "command", "client", "config", "debug", "script", "function":
		if len(d.Args) > 1 {
			name += " " + strings.ToLower(d.Args[1])
		}
	}
	return name
}

// Found is an undocumented difference: the sequence that found it, and
// the shrunk sequence with its difference.
type Found struct {
	Seq    uint64
	Script string
	Diff   *Diff
}

// Next runs the next sequence. It returns an error only when a server
// could not be reached or both failed to answer.
func (c *Campaign) Next() error { return c.RunSeq(c.Seqs) }

// RunSeq runs sequence n of the seed.
func (c *Campaign) RunSeq(n uint64) error {
	c.Seqs++
	seq := NewSeq(c.Seed, n)
	out, err := Run(c.Targets, seq)
	c.Commands += uint64(out.Steps)
	c.Probes += uint64(out.Probes)
	if err != nil {
		return fmt.Errorf("difftest: seed %d sequence %d: %w", c.Seed, n, err)
	}
	if out.Known != nil {
		if c.Known == nil {
			c.Known = map[string]int{}
		}
		c.Known[out.Known.Name]++
	}
	if out.Diff != nil {
		// One report per kind: the command and the start of Redis's
		// reply. Repeats are counted, not shrunk again.
		sig := signature(out.Diff)
		if c.repeats == nil {
			c.repeats = map[string]int{}
		}
		c.repeats[sig]++
		if c.repeats[sig] > 1 {
			return nil
		}
		small, d := Shrink(c.Targets, seq, out.Diff)
		f := Found{Seq: n, Script: Script(small), Diff: d}
		c.Found = append(c.Found, f)
		if c.Log != nil {
			fmt.Fprintf(c.Log, "DIFFERENCE (DIFFTEST_SEED=%d sequence %d, RESP%d):\n%s\nshrunk to this redis-cli script:\n%s\n",
				c.Seed, n, small.Proto, d, f.Script)
		}
	}
	return nil
}
