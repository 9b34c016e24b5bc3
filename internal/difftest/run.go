package difftest

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets are the two servers' addresses: Ref is redis-server 7.0, the
// reference; Mul is mullet.
type Targets struct {
	Ref, Mul string
}

// replyTimeout bounds the wait for one reply: nothing the generator sends
// blocks for more than a few milliseconds, so a missing reply is a hang.
const replyTimeout = 10 * time.Second

// Outcome is what running one sequence found.
type Outcome struct {
	Steps  int    // steps whose replies were compared
	Probes int    // end-state reads compared
	Known  *Known // the documented difference that ended the run, if any
	Diff   *Diff  // the first undocumented difference, if any
}

// Diff is one undocumented difference: the step (-1 for the end state,
// read after the last step), and both replies (or the error reading one).
type Diff struct {
	Step     int
	Args     []string
	Ref, Mul string
}

func (d *Diff) String() string {
	if d.Step < 0 {
		return fmt.Sprintf("end state, %s:\n  redis-server: %s\n  mullet:       %s", clip(quoteArgs(d.Args)), clip(d.Ref), clip(d.Mul))
	}
	return fmt.Sprintf("step %d %s:\n  redis-server: %s\n  mullet:       %s", d.Step, clip(quoteArgs(d.Args)), clip(d.Ref), clip(d.Mul))
}

// clip shortens what a message quotes (a reply can be megabytes).
func clip(s string) string {
	if len(s) > 400 {
		return s[:400] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// session is one server's two connections.
type session struct {
	conns [2]*conn
}

type conn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

func dial(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, replyTimeout)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, br: bufio.NewReaderSize(c, 1<<16), bw: bufio.NewWriterSize(c, 1<<16)}, nil
}

func (c *conn) send(args []string) {
	c.bw.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		c.bw.WriteString("$" + strconv.Itoa(len(a)) + "\r\n")
		c.bw.WriteString(a)
		c.bw.WriteString("\r\n")
	}
}

func (c *conn) read() (*Reply, error) {
	c.c.SetReadDeadline(time.Now().Add(replyTimeout))
	return readReply(c.br)
}

func (c *conn) do(args ...string) (*Reply, error) {
	c.send(args)
	if err := c.bw.Flush(); err != nil {
		return nil, err
	}
	return c.read()
}

// open connects twice to addr, empties the server and sets the protocol.
func open(addr string, proto int) (*session, error) {
	s := &session{}
	for i := range s.conns {
		c, err := dial(addr)
		if err != nil {
			s.close()
			return nil, err
		}
		s.conns[i] = c
		if proto == 3 {
			if r, err := c.do("HELLO", "3"); err != nil || r.IsErr() {
				s.close()
				return nil, fmt.Errorf("difftest: HELLO 3 on %s: %v %v", addr, r, err)
			}
		}
	}
	if r, err := s.conns[0].do("FLUSHALL"); err != nil || r.IsErr() {
		s.close()
		return nil, fmt.Errorf("difftest: FLUSHALL on %s: %v %v", addr, r, err)
	}
	return s, nil
}

func (s *session) close() {
	for _, c := range s.conns {
		if c != nil {
			c.c.Close()
		}
	}
}

// multiState follows one connection's transaction, from the reference's
// replies, so EXEC's reply can be compared command by command.
type multiState struct {
	in     bool
	queued [][]string
}

func (m *multiState) after(args []string, ref *Reply) {
	name := strings.ToLower(args[0])
	switch {
	case name == "multi" && ref.Type == '+':
		m.in, m.queued = true, nil
	case name == "exec" || name == "discard" || name == "reset":
		if !isArityErr(ref) {
			m.in, m.queued = false, nil
		}
	case m.in && ref.Type == '+' && ref.Str == "QUEUED":
		m.queued = append(m.queued, args)
	}
}

func isArityErr(r *Reply) bool {
	return r.IsErr() && strings.HasPrefix(r.Str, "ERR wrong number of arguments")
}

// history is what the known differences may ask about the steps before
// the one they judge.
type history struct {
	erange bool // some argument sent so far is a number C's strtod flags ERANGE
	// lingering: a SET with an EXAT/PXAT in the past was sent. Both
	// servers keep such a key until an access or their active expiry
	// cycle deletes it, so DBSIZE counts it or not by timing.
	lingering bool
}

// note records what args tell the history.
func (h *history) note(args []string) {
	for i, a := range args {
		if !h.erange && strtodERANGE(a) {
			h.erange = true
		}
		if i > 0 && i+1 < len(args) && strings.EqualFold(args[0], "set") {
			n, err := strconv.ParseInt(args[i+1], 10, 64)
			now := time.Now()
			switch {
			case err != nil || n <= 0:
			case strings.EqualFold(a, "exat") && n <= now.Unix(),
				strings.EqualFold(a, "pxat") && n <= now.UnixMilli():
				h.lingering = true
			}
		}
	}
}

// Run runs seq on both targets, batch by batch, and compares each reply.
// It stops at the first difference, documented or not.
func Run(t Targets, seq Seq) (Outcome, error) {
	var out Outcome
	ref, err := open(t.Ref, seq.Proto)
	if err != nil {
		return out, err
	}
	defer ref.close()
	mul, err := open(t.Mul, seq.Proto)
	if err != nil {
		return out, err
	}
	defer mul.close()

	var multi [2]multiState
	var hist history
	for start := 0; start < len(seq.Steps); {
		// A batch: consecutive steps on one connection, up to a Sync.
		end := start
		for end < len(seq.Steps) && seq.Steps[end].Conn == seq.Steps[start].Conn {
			end++
			if seq.Steps[end-1].Sync {
				break
			}
		}
		ci := seq.Steps[start].Conn
		for _, sess := range []*session{ref, mul} {
			for _, st := range seq.Steps[start:end] {
				sess.conns[ci].send(st.Args)
			}
			if err := sess.conns[ci].bw.Flush(); err != nil {
				return out, err
			}
		}
		refReplies := make([]*Reply, 0, end-start)
		mulReplies := make([]*Reply, 0, end-start)
		var refErr, mulErr error
		for range seq.Steps[start:end] {
			var r, m *Reply
			if refErr == nil {
				r, refErr = ref.conns[ci].read()
			}
			if mulErr == nil {
				m, mulErr = mul.conns[ci].read()
			}
			refReplies = append(refReplies, r)
			mulReplies = append(mulReplies, m)
		}
		for i := start; i < end; i++ {
			st := seq.Steps[i]
			r, m := refReplies[i-start], mulReplies[i-start]
			if r == nil || m == nil {
				d := &Diff{Step: i, Args: st.Args, Ref: replyOrErr(r, refErr), Mul: replyOrErr(m, mulErr)}
				if r == nil && m == nil {
					return out, fmt.Errorf("difftest: both servers failed at step %d %s: %v / %v", i, quoteArgs(st.Args), refErr, mulErr)
				}
				out.Diff = d
				return out, nil
			}
			out.Steps++
			ms := &multi[ci]
			if !same(st.Args, r, m, ms, &hist) {
				if k := matchKnownIn(st.Args, r, m, ms, &hist); k != nil {
					out.Known = k
					return out, nil
				}
				out.Diff = &Diff{Step: i, Args: st.Args, Ref: r.String(), Mul: m.String()}
				return out, nil
			}
			ms.after(st.Args, r)
			hist.note(st.Args)
		}
		start = end
	}
	// The end state, read on a fresh connection to each: a difference no
	// command of the sequence happened to read still shows here.
	out.Diff, err = compareState(t, &out, &hist)
	return out, err
}

// stateProbes read everything about a key: its type, TTL and value.
var stateProbes = [][]string{{"TYPE"}, {"PTTL"}, {"LRANGE", "", "0", "-1"}, {"GET"}}

// compareState reads every key of the generator's key space, in both
// databases the generator uses, from each server.
func compareState(t Targets, out *Outcome, h *history) (*Diff, error) {
	ref, err := dial(t.Ref)
	if err != nil {
		return nil, err
	}
	defer ref.c.Close()
	mul, err := dial(t.Mul)
	if err != nil {
		return nil, err
	}
	defer mul.c.Close()
	var probes [][]string
	for _, db := range []string{"0", "1"} {
		probes = append(probes, []string{"SELECT", db})
		for _, k := range slices.Concat(mainKeys, rareKeys) {
			for _, p := range stateProbes {
				args := slices.Clone(p)
				if len(args) == 1 {
					args = append(args, k)
				} else {
					args[1] = k
				}
				probes = append(probes, args)
			}
		}
	}
	for _, c := range []*conn{ref, mul} {
		for _, p := range probes {
			c.send(p)
		}
		if err := c.bw.Flush(); err != nil {
			return nil, err
		}
	}
	for _, p := range probes {
		r, rerr := ref.read()
		m, merr := mul.read()
		if r == nil || m == nil {
			return &Diff{Step: -1, Args: p, Ref: replyOrErr(r, rerr), Mul: replyOrErr(m, merr)}, nil
		}
		out.Probes++
		if !same(p, r, m, &multiState{}, h) {
			return &Diff{Step: -1, Args: p, Ref: r.String(), Mul: m.String()}, nil
		}
	}
	return nil, nil
}

// matchKnownIn finds the documented difference behind a differing reply;
// for EXEC, behind the first differing reply of a queued command.
func matchKnownIn(args []string, r, m *Reply, ms *multiState, h *history) *Known {
	if strings.EqualFold(args[0], "exec") && ms.in && r.Type == '*' && m.Type == '*' &&
		len(r.Elem) == len(ms.queued) && len(m.Elem) == len(r.Elem) {
		for i, q := range ms.queued {
			if !same(q, r.Elem[i], m.Elem[i], &multiState{}, h) {
				return matchKnown(q, r.Elem[i], m.Elem[i], h)
			}
		}
	}
	return matchKnown(args, r, m, h)
}

func replyOrErr(r *Reply, err error) string {
	if r != nil {
		return r.String()
	}
	return "no reply: " + err.Error()
}

// same reports whether two replies to args count as equal: byte for byte,
// or under one of the relaxations for replies that are not deterministic
// across two servers (listed in relaxed).
func same(args []string, r, m *Reply, ms *multiState, h *history) bool {
	if string(r.Raw) == string(m.Raw) {
		return true
	}
	name := strings.ToLower(args[0])
	if name == "exec" && ms.in && !r.Null && !m.Null && r.Type == m.Type && (r.Type == '*') &&
		len(r.Elem) == len(ms.queued) && len(m.Elem) == len(r.Elem) {
		for i, q := range ms.queued {
			if !same(q, r.Elem[i], m.Elem[i], &multiState{}, h) {
				return false
			}
		}
		return true
	}
	if fn, ok := relaxed[name]; ok {
		return fn(args, r, m, h)
	}
	return false
}

func quoteArgs(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteArg(a))
	}
	return b.String()
}

// quoteArg quotes a as redis-cli reads it back (sdssplitargs): bare if
// it is plain, else in double quotes with \xNN escapes.
func quoteArg(a string) string {
	plain := a != ""
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(a); i++ {
		switch c := a[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < ' ' || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
