package command

import (
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"mullet/internal/resp"
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
type rv = resp.Value

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
	info, rest, err := resp.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("COMMAND INFO reply: %w", err)
	}
	docs, rest, err := resp.Parse(rest)
	if err != nil {
		return nil, fmt.Errorf("COMMAND DOCS reply: %w", err)
	}
	if len(rest) != 0 || info.Kind != '*' || docs.Kind != '%' {
		return nil, errors.New("want a COMMAND INFO array and a COMMAND DOCS map")
	}
	m := map[string]*cmdMeta{}
	var addInfo func(e rv) error
	addInfo = func(e rv) error {
		if e.Kind != '*' || len(e.Elems) != 10 {
			return errors.New("COMMAND INFO entry is not an array of 10")
		}
		f := e.Elems
		meta := &cmdMeta{flags: f[2], acl: f[6], tips: f[7], specs: f[8]}
		for _, s := range f[8].Elems {
			ks, err := parseKeySpec(s)
			if err != nil {
				return fmt.Errorf("%s: %w", f[0].Str, err)
			}
			meta.keySpecs = append(meta.keySpecs, ks)
		}
		m[f[0].Str] = meta
		for _, sub := range f[9].Elems {
			if err := addInfo(sub); err != nil {
				return err
			}
		}
		return nil
	}
	for _, e := range info.Elems {
		if err := addInfo(e); err != nil {
			return nil, err
		}
	}
	var addDocs func(name string, d rv) error
	addDocs = func(name string, d rv) error {
		meta := m[name]
		if meta == nil || d.Kind != '%' {
			return fmt.Errorf("COMMAND DOCS entry %q has no COMMAND INFO entry", name)
		}
		for i := 0; i+1 < len(d.Elems); i += 2 {
			if d.Elems[i].Str == "subcommands" {
				subs := d.Elems[i+1].Elems
				for j := 0; j+1 < len(subs); j += 2 {
					if err := addDocs(subs[j].Str, subs[j+1]); err != nil {
						return err
					}
				}
				continue
			}
			meta.docs = append(meta.docs, d.Elems[i], d.Elems[i+1])
		}
		return nil
	}
	for i := 0; i+1 < len(docs.Elems); i += 2 {
		if err := addDocs(docs.Elems[i].Str, docs.Elems[i+1]); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// intField returns the integer value of key in map v (0 if absent).
func intField(v rv, key string) int {
	f, _ := v.Field(key)
	return int(f.Num)
}

func parseKeySpec(s rv) (keySpec, error) {
	var ks keySpec
	ks.flags, _ = s.Field("flags")
	bs, ok1 := s.Field("begin_search")
	fk, ok2 := s.Field("find_keys")
	if !ok1 || !ok2 {
		return ks, errors.New("key spec without begin_search or find_keys")
	}
	bt, _ := bs.Field("type")
	bspec, _ := bs.Field("spec")
	ks.bs = bt.Str
	switch ks.bs {
	case "index":
		ks.index = intField(bspec, "index")
	case "keyword":
		kw, _ := bspec.Field("keyword")
		ks.keyword = kw.Str
		ks.startFrom = intField(bspec, "startfrom")
	}
	ft, _ := fk.Field("type")
	fspec, _ := fk.Field("spec")
	ks.fk = ft.Str
	switch ks.fk {
	case "range":
		ks.lastKey, ks.step, ks.limit = intField(fspec, "lastkey"), intField(fspec, "keystep"), intField(fspec, "limit")
	case "keynum":
		ks.keyNumIdx, ks.firstKeyAt, ks.step = intField(fspec, "keynumidx"), intField(fspec, "firstkey"), intField(fspec, "keystep")
	}
	return ks, nil
}

// writeRV writes v in the client's protocol: sets and maps become arrays
// in RESP2, as Redis's addReplySetLen and addReplyMapLen do.
func (c *Session) writeRV(v rv) {
	switch v.Kind {
	case '+':
		c.simple(v.Str)
	case '$':
		c.bulkString(v.Str)
	case ':':
		c.int(v.Num)
	case '_':
		c.null()
	case '*':
		c.array(len(v.Elems))
	case '~':
		c.setLen(len(v.Elems))
	case '%':
		c.mapLen(len(v.Elems) / 2)
	}
	for _, e := range v.Elems {
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
	meta := &cmdMeta{flags: rv{Kind: '~'}, acl: rv{Kind: '~'}, tips: rv{Kind: '~'}, specs: rv{Kind: '~'}}
	for _, f := range flagNames {
		if cmd.flags&f.f != 0 {
			meta.flags.Elems = append(meta.flags.Elems, rv{Kind: '+', Str: f.name})
		}
	}
	for _, a := range cmd.aclCategories() {
		meta.acl.Elems = append(meta.acl.Elems, rv{Kind: '+', Str: a})
	}
	if cmd.firstKey > 0 {
		flags := rv{Kind: '~', Elems: []rv{{Kind: '+', Str: "RW"}, {Kind: '+', Str: "update"}}}
		if cmd.flags&flagWrite == 0 {
			flags.Elems = []rv{{Kind: '+', Str: "RO"}, {Kind: '+', Str: "access"}}
		}
		last := cmd.lastKey
		if last >= 0 {
			last -= cmd.firstKey
		}
		ks := keySpec{flags: flags, bs: "index", index: cmd.firstKey, fk: "range", lastKey: last, step: cmd.step}
		meta.keySpecs = []keySpec{ks}
		str := func(s string) rv { return rv{Kind: '$', Str: s} }
		num := func(n int) rv { return rv{Kind: ':', Num: int64(n)} }
		meta.specs.Elems = []rv{{Kind: '%', Elems: []rv{
			str("flags"), flags,
			str("begin_search"), {Kind: '%', Elems: []rv{str("type"), str("index"), str("spec"),
				{Kind: '%', Elems: []rv{str("index"), num(ks.index)}}}},
			str("find_keys"), {Kind: '%', Elems: []rv{str("type"), str("range"), str("spec"),
				{Kind: '%', Elems: []rv{str("lastkey"), num(ks.lastKey), str("keystep"), num(ks.step), str("limit"), num(0)}}}},
		}}}
	}
	str := func(s string) rv { return rv{Kind: '$', Str: s} }
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
