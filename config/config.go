// Package config holds mullet's directives: the redis.conf-style file, the
// --directive flags that override it, typed access for the components, and
// CONFIG GET/SET at run time.
//
// Every directive is described once, in the table in directives.go. The
// syntax, the defaults, the CONFIG GET formats and the error texts are
// redis-server 7.0's (checked against the real server by the tests), so
// tools written for Redis read and write mullet's configuration unchanged.
//
// # Guarantees
//
//   - Reads (Get, Match and the typed accessors) never block and never see
//     half of a change: values live in an immutable snapshot that changes
//     are swapped in as a whole.
//   - Set is atomic: every name and value is checked before any is stored,
//     and if an OnChange hook fails, the previous values come back.
//   - Load and Set refuse any maxmemory-policy but noeviction.
//
// # Caveats
//
//   - Hooks run while the Config's change lock is held: a hook may read the
//     Config but must not call Set, SetArgs, Load, Rewrite or OnChange.
//   - dir is not chdir'ed into (a library must not change the process's
//     working directory); paths relative to dir are the caller's to join.
package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"mullet/internal/redisc"
)

// Config is the set of directive values. The zero value holds the
// defaults and is ready to use. It is safe for concurrent use.
type Config struct {
	cur atomic.Pointer[state] // the current values; nil means the defaults

	// mu serializes changes: Load, Set and SetArgs read cur, build a new
	// state and store it, and Set runs hooks, all under mu.
	mu    sync.Mutex
	hooks map[int][]func(value string) error // by table index; guarded by mu
	// external holds the DSN directives given outside the file (flags,
	// SetExternal), which Rewrite leaves alone; guarded by mu.
	external map[int]bool

	file atomic.Pointer[string] // absolute path of the loaded file, if any

	loading atomic.Bool // the dataset is loading: Set refuses DenyLoading directives
}

// SetLoading tells Set whether the server is loading its dataset. While
// it is, Set refuses the directives Redis flags DENY_LOADING_CONFIG
// (Directive.DenyLoading) with ErrLoading, so that nothing changes the
// persistence under the load.
func (c *Config) SetLoading(b bool) { c.loading.Store(b) }

// state is one complete, immutable set of values, indexed like table.
type state struct {
	vals []val
}

func (s *state) clone() *state {
	return &state{vals: slices.Clone(s.vals)}
}

// entry is where a name (or alias) points in the table.
type entry struct {
	idx   int
	alias bool
}

var (
	index      map[string]entry // lower-case name or alias -> entry
	allNames   []string         // every name and alias, sorted
	defaults   *state
	defaultErr error // set if a default in the table does not parse (a test fails on it)
)

func init() {
	index = make(map[string]entry, 2*len(table))
	defaults = &state{vals: make([]val, len(table))}
	for i := range table {
		d := &table[i]
		for _, n := range []string{d.name, d.alias} {
			if n == "" {
				continue
			}
			if _, dup := index[n]; dup {
				panic("config: directive " + n + " is in the table twice")
			}
			index[n] = entry{idx: i, alias: n == d.alias}
			allNames = append(allNames, n)
		}
		v, err := d.defaultVal()
		if err != nil && defaultErr == nil {
			defaultErr = fmt.Errorf("config: default of %s: %w", d.name, err)
		}
		defaults.vals[i] = v
	}
	sort.Strings(allNames)
}

// defaultVal parses the table's default like a config file line would.
func (d *directive) defaultVal() (val, error) {
	if d.sp == spRoute {
		return val{}, nil // no routes; the parser wants exactly two args
	}
	args := []string{d.def}
	if d.flags&fMultiArg != 0 {
		var err error
		if args, err = SplitArgs(d.def); err != nil {
			return val{}, err
		}
	}
	return d.parse(val{}, args, false)
}

func lookup(name string) (entry, bool) {
	e, ok := index[name]
	if !ok {
		e, ok = index[asciiLower(name)]
	}
	return e, ok
}

// New returns a Config holding every directive's default.
func New() *Config { return &Config{} }

func (c *Config) load() *state {
	if s := c.cur.Load(); s != nil {
		return s
	}
	return defaults
}

// Load reads file (if not empty) in redis.conf syntax, then applies
// overrides (each a directive name followed by its arguments, as given on
// the command line: the flag wins), then checks the combination. Nothing
// changes unless all of it succeeds. A bad line is a *FileError naming the
// file, line and reason; a bad override is a *FlagError; a refused
// combination wraps ErrInvalid. Hooks do not run.
//
// Repeatable directives (save, consumer-route) accumulate across the file
// and the overrides; every other directive takes its last value.
func (c *Config) Load(file string, overrides [][]string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := newLoader(c.load())
	if file != "" {
		if err := l.loadFile(file, 0, nil); err != nil {
			return err
		}
	}
	for _, o := range overrides {
		if len(o) == 0 {
			continue
		}
		if err := l.override(o); err != nil {
			return err
		}
		if e, ok := lookup(o[0]); ok && isDSN(e.idx) {
			c.markExternalLocked(o[0])
		}
	}
	if _, reason := crossCheck(l.st); reason != "" {
		return fmt.Errorf("%w: %s", ErrInvalid, reason)
	}
	if file != "" {
		if abs, err := filepath.Abs(file); err == nil {
			file = abs
		}
		c.file.Store(&file)
	}
	c.cur.Store(l.st)
	return nil
}

// File returns the absolute path of the configuration file Load read, or
// "" if there was none. CONFIG REWRITE writes there.
func (c *Config) File() string {
	if p := c.file.Load(); p != nil {
		return *p
	}
	return ""
}

// SetArgs sets one directive from a config line or flag: name followed
// by args, with the file's rules (immutable directives may be set; a
// repeatable one is replaced, not added to). Hooks do not run; the
// error is a *FlagError.
func (c *Config) SetArgs(name string, args []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := newLoader(c.load())
	if err := l.override(append([]string{name}, args...)); err != nil {
		return err
	}
	c.cur.Store(l.st)
	return nil
}

// crossCheck refuses combinations no single directive can catch. It
// returns the directives involved (for CONFIG SET's message) and the
// reason, or "" if the state is fine.
func crossCheck(s *state) (names []string, reason string) {
	lo, hi := s.vals[index["consumer-retry-min"].idx].n, s.vals[index["consumer-retry-max"].idx].n
	if lo > hi {
		return []string{"consumer-retry-min", "consumer-retry-max"},
			fmt.Sprintf("consumer-retry-min (%d) must not exceed consumer-retry-max (%d)", lo, hi)
	}
	if s.vals[index["consumer-mysql-dsn"].idx].get != "" && s.vals[index["consumer-postgres-dsn"].idx].get != "" {
		return []string{"consumer-postgres-dsn", "consumer-mysql-dsn"},
			"consumer-mysql-dsn and consumer-postgres-dsn are both set: the consumer writes to one sink; keep one of them"
	}
	return nil, ""
}

// Get returns a directive's value as CONFIG GET shows it. Names and
// aliases are case-insensitive.
func (c *Config) Get(name string) (string, bool) {
	e, ok := lookup(name)
	if !ok {
		return "", false
	}
	return shown(e.idx, c.load().vals[e.idx].get), true
}

// Match returns name/value pairs for directives matching a CONFIG GET
// glob pattern (Redis's rules, case-insensitive), sorted by name. As in
// Redis 7.0, a pattern matches aliases too (list-max-ziplist-size beside
// list-max-listpack-size), and a plain name is looked up directly and
// returned as it was typed.
func (c *Config) Match(pattern string) [][2]string {
	return matchIn(c.load(), pattern)
}

// isGlob reports whether CONFIG GET treats pattern as a pattern rather
// than a name: Redis checks strpbrk(name, "[*?"), so a backslash alone
// does not make a pattern.
func isGlob(pattern string) bool { return strings.ContainsAny(pattern, "[*?") }

func matchIn(st *state, pattern string) [][2]string {
	if !isGlob(pattern) {
		e, ok := lookup(pattern)
		if !ok {
			return nil
		}
		return [][2]string{{pattern, shown(e.idx, st.vals[e.idx].get)}}
	}
	var out [][2]string
	for _, n := range allNames {
		if redisc.StringMatch(pattern, n, true) {
			i := index[n].idx
			out = append(out, [2]string{n, shown(i, st.vals[i].get)})
		}
	}
	return out
}

// MatchAll is CONFIG GET with several patterns: the union of Match over
// them, each name once (compared case-insensitively), in first-match
// order, as Redis 7 replies. All values come from one snapshot.
func (c *Config) MatchAll(patterns ...string) [][2]string {
	st := c.load()
	var out [][2]string
	seen := map[string]bool{}
	for _, p := range patterns {
		for _, kv := range matchIn(st, p) {
			k := asciiLower(kv[0])
			if !seen[k] {
				seen[k] = true
				out = append(out, kv)
			}
		}
	}
	return out
}

// Set applies CONFIG SET name value [name value ...] atomically: every
// value is validated first; on error nothing changes and the error (a
// *SetError) has Redis's text, without the "ERR " prefix. Immutable
// directives are refused, and so are protected ones (dbfilename) unless
// enable-protected-configs is yes. A name given twice is an error (an
// alias and its directive count as two names, as in Redis 7.0). After the
// new values are stored, the OnChange hooks of every directive whose
// value changed run in argument order; if one fails, the previous values
// are restored, the hooks that ran are called again with them, and the
// hook's error is returned inside a *SetError.
func (c *Config) Set(pairs ...string) error { return c.set(false, pairs) }

// SetLocal is Set for a client connected over loopback or a Unix socket,
// for which enable-protected-configs local also allows protected
// directives.
func (c *Config) SetLocal(pairs ...string) error { return c.set(true, pairs) }

func (c *Config) set(local bool, pairs []string) error {
	if len(pairs) == 0 {
		return &SetError{Kind: SetArity}
	}
	if len(pairs)%2 != 0 {
		return &SetError{Kind: SetSyntax}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.load()

	// Find every directive, in Redis's order of checks: the first
	// problem wins, but an unknown name is only reported if nothing
	// failed before it.
	type item struct {
		e     entry
		value string
	}
	items := make([]item, 0, len(pairs)/2)
	seen := map[string]bool{}
	var fail *SetError
	for i := 0; i < len(pairs); i += 2 {
		name := pairs[i]
		e, ok := lookup(name)
		if !ok {
			if fail == nil {
				fail = &SetError{Kind: SetUnknown, Name: name}
			}
			continue
		}
		if fail != nil {
			continue
		}
		d := &table[e.idx]
		switch {
		case d.flags&fImmutable != 0:
			fail = &SetError{Name: name, Reason: reasonImmutable}
		case d.flags&fProtected != 0 && !allowProtected(old, local):
			fail = &SetError{Name: name, Reason: reasonProtected}
		case d.flags&fDenyLoading != 0 && c.loading.Load():
			fail = &SetError{Kind: SetLoading, Name: name}
		case seen[registered(e)]:
			fail = &SetError{Name: name, Reason: "duplicate parameter"}
		}
		seen[registered(e)] = true
		items = append(items, item{e, pairs[i+1]})
	}
	if fail != nil {
		return fail
	}

	next := old.clone()
	for _, it := range items {
		d := &table[it.e.idx]
		args := []string{it.value}
		if d.flags&fMultiArg != 0 {
			args = splitSpaces(it.value)
		}
		v, err := d.parse(next.vals[it.e.idx], args, false)
		if err != nil {
			return &SetError{Name: registered(it.e), Reason: err.Error()}
		}
		next.vals[it.e.idx] = v
	}
	if names, reason := crossCheck(next); reason != "" {
		name := names[0]
		for _, it := range items {
			if slices.Contains(names, table[it.e.idx].name) {
				name = registered(it.e)
				break
			}
		}
		return &SetError{Name: name, Reason: reason}
	}
	c.cur.Store(next)

	// Run the hooks of what changed, once per directive.
	var ran []int
	for _, it := range items {
		i := it.e.idx
		if old.vals[i].get == next.vals[i].get || slices.Contains(ran, i) || len(c.hooks[i]) == 0 {
			continue
		}
		ran = append(ran, i)
		for _, h := range c.hooks[i] {
			if err := h(next.vals[i].get); err != nil {
				c.cur.Store(old)
				// As Redis's restoreBackupConfig: re-apply the old
				// values through every hook that saw the new ones.
				// Their errors cannot be reported any better than
				// the one that started the rollback.
				for _, j := range ran {
					for _, h := range c.hooks[j] {
						_ = h(old.vals[j].get)
					}
				}
				return &SetError{Name: table[i].name, Reason: err.Error(), Err: err}
			}
		}
	}
	return nil
}

// registered is the name a table entry is registered under: Redis keeps
// aliases as separate entries, which shows in its error messages.
func registered(e entry) string {
	if e.alias {
		return table[e.idx].alias
	}
	return table[e.idx].name
}

func allowProtected(s *state, local bool) bool {
	switch s.vals[index["enable-protected-configs"].idx].n {
	case 1: // yes
		return true
	case 2: // local
		return local
	}
	return false
}

// splitSpaces splits a CONFIG SET value of a multi-argument directive the
// way Redis 7.0 does (sdssplitlen on " "): every single space separates,
// so "a  b" has an empty middle argument and "" has none.
func splitSpaces(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// OnChange registers fn to run after CONFIG SET changes name (or its
// alias); fn gets the new value as CONFIG GET shows it. A non-nil error
// makes the whole CONFIG SET fail and roll back, and its text becomes the
// reason in the reply ("CONFIG SET failed (possibly related to argument
// 'port') - <text>"). fn may also be called again with the previous value
// during a rollback, so it must be idempotent. It panics if name is not a
// directive.
func (c *Config) OnChange(name string, fn func(value string) error) {
	e := mustLookup(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hooks == nil {
		c.hooks = map[int][]func(string) error{}
	}
	c.hooks[e.idx] = append(c.hooks[e.idx], fn)
}

func mustLookup(name string) entry {
	e, ok := lookup(name)
	if !ok {
		panic(fmt.Sprintf("config: unknown directive %q", name))
	}
	return e
}
