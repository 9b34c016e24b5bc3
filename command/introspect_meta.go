package server

import (
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Command metadata for COMMAND INFO, COMMAND DOCS and COMMAND GETKEYS.
//
// Redis describes each command with flags, ACL categories, tips, key
// specifications and documentation (arguments, history...). Rather than
// retype that, mullet embeds what redis-server 7.0.15 answers:
// redis_commands.resp holds, in RESP3, the reply to COMMAND INFO and then
// the reply to COMMAND DOCS for the commands of the groups a queue server
// implements (see TestCommandMetaMatchesRedis, which checks the file
// against a live redis-server and rewrites it with -update-command-meta).
// Only commands mullet registers are ever shown. A command Redis 7.0 does
// not have (WAITAOF, CLIENT SETINFO...) is described from its registration
// instead.

//go:embed redis_commands.resp
var redisCommandsRESP []byte

// rv is a RESP value of the embedded metadata.
type rv struct {
	kind  byte   // '+' simple string, '$' bulk, ':' integer, '*' array, '~' set, '%' map, '_' null
	str   string // strings
	num   int64  // integers
	elems []rv   // array and set members; a map's keys and values, alternating
}

// cmdMeta is what COMMAND says about one command or subcommand beyond its
// registration (name, arity, key positions).
type cmdMeta struct {
	flags, acl, tips, specs rv   // COMMAND INFO fields 3, 7, 8 and 9
	docs                    []rv // COMMAND DOCS map, flattened, without "subcommands"
	keySpecs                []keySpec
}

// keySpec is a parsed key specification, for COMMAND GETKEYS.
type keySpec struct {
	flags rv // the spec's flags, a set, as GETKEYSANDFLAGS shows them

	bs        string // begin_search type: index, keyword or unknown
	index     int
	keyword   string
	startFrom int

	fk                    string // find_keys type: range, keynum or unknown
	lastKey, step, limit  int
	keyNumIdx, firstKeyAt int
}

var redisMeta struct {
	once sync.Once
	m    map[string]*cmdMeta
	err  error
}

// redisCommandMeta returns the embedded metadata by full name ("lpush",
// "client|list"), parsed on first use.
func redisCommandMeta() (map[string]*cmdMeta, error) {
	redisMeta.once.Do(func() {
		redisMeta.m, redisMeta.err = parseCommandMeta(redisCommandsRESP)
	})
	return redisMeta.m, redisMeta.err
}

// parseCommandMeta indexes a COMMAND INFO reply followed by a COMMAND
// DOCS reply.
func parseCommandMeta(b []byte) (map[string]*cmdMeta, error) {
	info, rest, err := parseRV(b)
	if err != nil {
		return nil, fmt.Errorf("COMMAND INFO reply: %w", err)
	}
	docs, rest, err := parseRV(rest)
	if err != nil {
		return nil, fmt.Errorf("COMMAND DOCS reply: %w", err)
	}
	if len(rest) != 0 || info.kind != '*' || docs.kind != '%' {
		return nil, errors.New("want a COMMAND INFO array and a COMMAND DOCS map")
	}
	m := map[string]*cmdMeta{}
	var addInfo func(e rv) error
	addInfo = func(e rv) error {
		if e.kind != '*' || len(e.elems) != 10 {
			return errors.New("COMMAND INFO entry is not an array of 10")
		}
		f := e.elems
		meta := &cmdMeta{flags: f[2], acl: f[6], tips: f[7], specs: f[8]}
		for _, s := range f[8].elems {
			ks, err := parseKeySpec(s)
			if err != nil {
				return fmt.Errorf("%s: %w", f[0].str, err)
			}
			meta.keySpecs = append(meta.keySpecs, ks)
		}
		m[f[0].str] = meta
		for _, sub := range f[9].elems {
			if err := addInfo(sub); err != nil {
				return err
			}
		}
		return nil
	}
	for _, e := range info.elems {
		if err := addInfo(e); err != nil {
			return nil, err
		}
	}
	var addDocs func(name string, d rv) error
	addDocs = func(name string, d rv) error {
		meta := m[name]
		if meta == nil || d.kind != '%' {
			return fmt.Errorf("COMMAND DOCS entry %q has no COMMAND INFO entry", name)
		}
		for i := 0; i+1 < len(d.elems); i += 2 {
			if d.elems[i].str == "subcommands" {
				subs := d.elems[i+1].elems
				for j := 0; j+1 < len(subs); j += 2 {
					if err := addDocs(subs[j].str, subs[j+1]); err != nil {
						return err
					}
				}
				continue
			}
			meta.docs = append(meta.docs, d.elems[i], d.elems[i+1])
		}
		return nil
	}
	for i := 0; i+1 < len(docs.elems); i += 2 {
		if err := addDocs(docs.elems[i].str, docs.elems[i+1]); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// field returns the value of key in map v.
func (v rv) field(key string) (rv, bool) {
	for i := 0; i+1 < len(v.elems); i += 2 {
		if v.elems[i].str == key {
			return v.elems[i+1], true
		}
	}
	return rv{}, false
}

func (v rv) intField(key string) int {
	f, _ := v.field(key)
	return int(f.num)
}

func parseKeySpec(s rv) (keySpec, error) {
	var ks keySpec
	ks.flags, _ = s.field("flags")
	bs, ok1 := s.field("begin_search")
	fk, ok2 := s.field("find_keys")
	if !ok1 || !ok2 {
		return ks, errors.New("key spec without begin_search or find_keys")
	}
	bt, _ := bs.field("type")
	bspec, _ := bs.field("spec")
	ks.bs = bt.str
	switch ks.bs {
	case "index":
		ks.index = bspec.intField("index")
	case "keyword":
		kw, _ := bspec.field("keyword")
		ks.keyword = kw.str
		ks.startFrom = bspec.intField("startfrom")
	}
	ft, _ := fk.field("type")
	fspec, _ := fk.field("spec")
	ks.fk = ft.str
	switch ks.fk {
	case "range":
		ks.lastKey, ks.step, ks.limit = fspec.intField("lastkey"), fspec.intField("keystep"), fspec.intField("limit")
	case "keynum":
		ks.keyNumIdx, ks.firstKeyAt, ks.step = fspec.intField("keynumidx"), fspec.intField("firstkey"), fspec.intField("keystep")
	}
	return ks, nil
}

// parseRV parses one RESP2/RESP3 value from b.
func parseRV(b []byte) (rv, []byte, error) {
	i := strings.Index(string(b), "\r\n")
	if len(b) == 0 || i < 0 {
		return rv{}, nil, errors.New("truncated")
	}
	kind, line, rest := b[0], string(b[1:i]), b[i+2:]
	switch kind {
	case '+':
		return rv{kind: kind, str: line}, rest, nil
	case '_':
		return rv{kind: kind}, rest, nil
	case ':':
		n, err := strconv.ParseInt(line, 10, 64)
		return rv{kind: kind, num: n}, rest, err
	case '$':
		n, err := strconv.Atoi(line)
		if err != nil || n < 0 || len(rest) < n+2 {
			return rv{}, nil, fmt.Errorf("bad bulk length %q", line)
		}
		return rv{kind: kind, str: string(rest[:n])}, rest[n+2:], nil
	case '*', '~', '%':
		n, err := strconv.Atoi(line)
		if err != nil || n < 0 {
			return rv{}, nil, fmt.Errorf("bad length %q", line)
		}
		if kind == '%' {
			n *= 2
		}
		v := rv{kind: kind, elems: make([]rv, n)}
		for j := range v.elems {
			if v.elems[j], rest, err = parseRV(rest); err != nil {
				return rv{}, nil, err
			}
		}
		return v, rest, nil
	}
	return rv{}, nil, fmt.Errorf("unexpected type byte %q", kind)
}

// writeRV writes v in the client's protocol: sets and maps become arrays
// in RESP2, as Redis's addReplySetLen and addReplyMapLen do.
func (c *client) writeRV(v rv) {
	switch v.kind {
	case '+':
		c.simple(v.str)
	case '$':
		c.bulkString(v.str)
	case ':':
		c.int(v.num)
	case '_':
		c.null()
	case '*':
		c.array(len(v.elems))
	case '~':
		c.setLen(len(v.elems))
	case '%':
		c.mapLen(len(v.elems) / 2)
	}
	for _, e := range v.elems {
		c.writeRV(e)
	}
}

// metaOf returns what COMMAND shows about cmd: Redis's description when
// Redis 7.0 has the command, else one derived from the registration.
func metaOf(cmd *command) *cmdMeta {
	if m, err := redisCommandMeta(); err == nil {
		if meta := m[cmd.name]; meta != nil {
			return meta
		}
	}
	return derivedMeta(cmd)
}

// derivedMeta describes a command Redis 7.0 lacks from its registration:
// its flags, the ACL categories they imply, and one key spec covering
// firstKey..lastKey.
func derivedMeta(cmd *command) *cmdMeta {
	meta := &cmdMeta{flags: rv{kind: '~'}, acl: rv{kind: '~'}, tips: rv{kind: '~'}, specs: rv{kind: '~'}}
	for _, f := range flagNames {
		if cmd.flags&f.f != 0 {
			meta.flags.elems = append(meta.flags.elems, rv{kind: '+', str: f.name})
		}
	}
	for _, a := range cmd.aclCategories() {
		meta.acl.elems = append(meta.acl.elems, rv{kind: '+', str: a})
	}
	if cmd.firstKey > 0 {
		flags := rv{kind: '~', elems: []rv{{kind: '+', str: "RW"}, {kind: '+', str: "update"}}}
		if cmd.flags&flagWrite == 0 {
			flags.elems = []rv{{kind: '+', str: "RO"}, {kind: '+', str: "access"}}
		}
		last := cmd.lastKey
		if last >= 0 {
			last -= cmd.firstKey
		}
		ks := keySpec{flags: flags, bs: "index", index: cmd.firstKey, fk: "range", lastKey: last, step: cmd.step}
		meta.keySpecs = []keySpec{ks}
		str := func(s string) rv { return rv{kind: '$', str: s} }
		num := func(n int) rv { return rv{kind: ':', num: int64(n)} }
		meta.specs.elems = []rv{{kind: '%', elems: []rv{
			str("flags"), flags,
			str("begin_search"), {kind: '%', elems: []rv{str("type"), str("index"), str("spec"),
				{kind: '%', elems: []rv{str("index"), num(ks.index)}}}},
			str("find_keys"), {kind: '%', elems: []rv{str("type"), str("range"), str("spec"),
				{kind: '%', elems: []rv{str("lastkey"), num(ks.lastKey), str("keystep"), num(ks.step), str("limit"), num(0)}}}},
		}}}
	}
	str := func(s string) rv { return rv{kind: '$', str: s} }
	meta.docs = []rv{str("summary"), str(cmd.summary), str("since"), str(cmd.since),
		str("group"), str(cmd.group), str("complexity"), str(cmd.complexity)}
	return meta
}

// keyPositions returns the positions in args (args[0] is the command) of
// the keys, with the flags of the spec that found each, the way Redis's
// getKeysUsingKeySpecs finds them. ok is false when a spec does not fit
// the arguments.
func (meta *cmdMeta) keyPositions(args [][]byte) (pos []int, flags []rv, ok bool) {
	argc := len(args)
	for _, ks := range meta.keySpecs {
		first := 0
		switch ks.bs {
		case "index":
			first = ks.index
		case "keyword":
			start, end := ks.startFrom, argc-1
			if ks.startFrom <= 0 {
				start, end = argc+ks.startFrom, 1
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if strings.EqualFold(string(args[i]), ks.keyword) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue // keyword not found: no keys from this spec
			}
		default:
			return nil, nil, false
		}
		var last, step int
		switch ks.fk {
		case "range":
			step = ks.step
			switch {
			case ks.lastKey >= 0:
				last = first + ks.lastKey
			case ks.limit == 0:
				last = argc + ks.lastKey
			default:
				last = first + ((argc-first)/ks.limit + ks.lastKey)
			}
		case "keynum":
			step = ks.step
			if ks.keyNumIdx >= argc-first {
				return nil, nil, false
			}
			n, err := strconv.ParseInt(string(args[first+ks.keyNumIdx]), 10, 64)
			if err != nil || n < 0 || n > int64(argc) {
				return nil, nil, false
			}
			first += ks.firstKeyAt
			last = first + int(n) - 1
		default:
			return nil, nil, false
		}
		if last >= argc || last < first || first >= argc {
			return nil, nil, false
		}
		if step < 1 {
			step = 1
		}
		for i := first; i <= last; i += step {
			pos = append(pos, i)
			flags = append(flags, ks.flags)
		}
	}
	return pos, flags, true
}
