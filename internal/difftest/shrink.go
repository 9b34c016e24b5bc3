package difftest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxShrinkRuns bounds the reruns one shrink may take.
const maxShrinkRuns = 600

// Shrink reduces seq, which ends in difference d, to a shorter sequence
// that still shows a difference of the same kind (signature; delta
// debugging):
// first it drops chunks of steps, halving the chunk size down to single
// steps, then it simplifies what is left (every step on the first
// connection, fewer batches, trailing arguments dropped, long values
// made short).
func Shrink(t Targets, seq Seq, d *Diff) (Seq, *Diff) {
	sig := signature(d)
	seq.Steps = slices.Clone(upTo(seq.Steps, d))
	runs := 0
	try := func(cand Seq) *Diff {
		if runs >= maxShrinkRuns || len(cand.Steps) == 0 || !safe(cand) {
			return nil
		}
		runs++
		out, err := Run(t, cand)
		if err != nil || out.Diff == nil || signature(out.Diff) != sig {
			return nil
		}
		return out.Diff
	}
	accept := func(cand Seq, nd *Diff) {
		cand.Steps = upTo(cand.Steps, nd)
		seq, d = cand, nd
	}

	for chunk := len(seq.Steps) / 2; chunk >= 1; chunk /= 2 {
		for i := 0; i < len(seq.Steps); {
			end := min(i+chunk, len(seq.Steps))
			cand := seq
			cand.Steps = slices.Concat(seq.Steps[:i], seq.Steps[end:])
			if nd := try(cand); nd != nil {
				accept(cand, nd)
				continue
			}
			i = end
		}
	}
	if seq.Proto == 3 {
		cand := seq
		cand.Proto = 2
		if nd := try(cand); nd != nil {
			accept(cand, nd)
		}
	}
	for i := 0; i < len(seq.Steps); i++ {
		for _, edit := range []func(s *Step) bool{
			func(s *Step) bool { c := s.Conn; s.Conn = 0; return c != 0 },
			func(s *Step) bool { c := s.Sync; s.Sync = false; return c },
		} {
			if i >= len(seq.Steps) {
				break
			}
			cand := seq
			cand.Steps = slices.Clone(seq.Steps)
			if edit(&cand.Steps[i]) {
				if nd := try(cand); nd != nil {
					accept(cand, nd)
				}
			}
		}
	}
	for i := 0; i < len(seq.Steps); i++ {
		for j := len(seq.Steps[i].Args) - 1; j >= 1; j-- {
			if i >= len(seq.Steps) || j >= len(seq.Steps[i].Args) {
				break
			}
			for _, simpler := range []func(args []string) []string{
				func(args []string) []string { return slices.Delete(slices.Clone(args), j, j+1) },
				func(args []string) []string {
					if len(args[j]) <= 8 {
						return nil
					}
					a := slices.Clone(args)
					a[j] = a[j][:8]
					return a
				},
			} {
				args := simpler(seq.Steps[i].Args)
				if args == nil {
					continue
				}
				cand := seq
				cand.Steps = slices.Clone(seq.Steps)
				cand.Steps[i].Args = args
				if nd := try(cand); nd != nil {
					accept(cand, nd)
					break
				}
			}
		}
	}
	return seq, d
}

// upTo is the steps up to the one that showed d: all of them for a
// difference in the end state.
func upTo(steps []Step, d *Diff) []Step {
	if d.Step < 0 {
		return steps
	}
	return steps[:d.Step+1]
}

// safe reports whether seq is one the generator could have made: it
// cannot block for long (every blocking command outside MULTI has a
// timeout that ends within milliseconds or is refused).
func safe(seq Seq) bool {
	var in [2]bool
	for _, st := range seq.Steps {
		name := strings.ToLower(st.Args[0])
		// Nor may it list the whole command table (COMMAND, COMMAND INFO
		// with no names...), which differs by design: mullet has fewer
		// commands (docs/compatibility.md#commands-mullet-does-not-have).
		if name == "command" && (len(st.Args) == 1 || len(st.Args) == 2 &&
			slices.Contains([]string{"info", "docs", "list", "count"}, strings.ToLower(st.Args[1]))) {
			return false
		}
		if f, ok := timeoutArg[name]; ok && !in[st.Conn] {
			i := f(st.Args)
			if i < 1 || i >= len(st.Args) || !safeTimeout(st.Args[i]) {
				return false
			}
		}
		in[st.Conn] = nextMulti(in[st.Conn], st.Args)
	}
	return true
}

// Script prints seq as redis-cli input: one command a line, arguments
// quoted as redis-cli reads them. Steps on the second connection are
// marked with a comment line before them; with RESP3 the script starts
// with HELLO 3.
func Script(seq Seq) string {
	var b strings.Builder
	if seq.Proto == 3 {
		b.WriteString("HELLO 3\n")
	}
	conn := 0
	for _, st := range seq.Steps {
		if st.Conn != conn {
			fmt.Fprintf(&b, "# --- on connection %d:\n", st.Conn+1)
			conn = st.Conn
		}
		b.WriteString(quoteArgs(st.Args))
		b.WriteByte('\n')
	}
	return b.String()
}

// ParseScript reads back what Script prints: redis-cli quoting, a
// "# --- on connection N:" line before steps of another connection, and
// a first line HELLO 3 for RESP3. Each step gets its own batch.
func ParseScript(s string) (Seq, error) {
	seq := Seq{Proto: 2}
	conn := 0
	for i, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# --- on connection "); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(rest, ":"))
			if err != nil || n < 1 || n > 2 {
				return seq, fmt.Errorf("difftest: line %d: %q", i+1, line)
			}
			conn = n - 1
			continue
		}
		args, err := splitArgs(line)
		if err != nil {
			return seq, fmt.Errorf("difftest: line %d: %v", i+1, err)
		}
		if len(args) == 0 {
			continue
		}
		if i == 0 && len(args) == 2 && args[0] == "HELLO" && args[1] == "3" {
			seq.Proto = 3
			continue
		}
		seq.Steps = append(seq.Steps, Step{Conn: conn, Args: args, Sync: true})
	}
	return seq, nil
}

// splitArgs is redis-cli's sdssplitargs for what quoteArg writes: bare
// words, and double-quoted strings with \n \r \t \" \\ and \xNN escapes.
func splitArgs(line string) ([]string, error) {
	var args []string
	for i := 0; i < len(line); {
		if line[i] == ' ' {
			i++
			continue
		}
		if line[i] != '"' {
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			args = append(args, line[i:i+j])
			i += j
			continue
		}
		var b strings.Builder
		i++
		for {
			if i >= len(line) {
				return nil, fmt.Errorf("unbalanced quotes")
			}
			c := line[i]
			if c == '"' {
				i++
				break
			}
			if c == '\\' && i+1 < len(line) {
				switch line[i+1] {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case 'x':
					if i+3 < len(line) {
						v, err := strconv.ParseUint(line[i+2:i+4], 16, 8)
						if err == nil {
							b.WriteByte(byte(v))
							i += 4
							continue
						}
					}
					b.WriteByte('x')
				default:
					b.WriteByte(line[i+1])
				}
				i += 2
				continue
			}
			b.WriteByte(c)
			i++
		}
		args = append(args, b.String())
	}
	return args, nil
}
