package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"mullet/internal/redisc"
)

// kind is how a directive's arguments are parsed and shown. The first four
// are Redis's generic config types (bool, string, enum, numeric); special
// directives have their own parser and formatter, as in Redis.
type kind uint8

const (
	kBool kind = iota
	kString
	kEnum
	kNum
	kSpecial
)

// dflag holds a directive's properties.
type dflag uint16

const (
	// fImmutable: start-up only; CONFIG SET answers "can't set immutable config".
	fImmutable dflag = 1 << iota
	// fProtected: CONFIG SET needs enable-protected-configs (Redis's
	// PROTECTED_CONFIG: dir and dbfilename).
	fProtected
	// fMultiArg: takes any number of arguments in the file; CONFIG SET
	// splits its value on single spaces (Redis's MULTI_ARG_CONFIG).
	fMultiArg
	// fRepeatable: each further occurrence within one Load adds to the
	// value instead of replacing it (save, consumer-route).
	fRepeatable
	// fSensitive: the value is a secret; the server should keep it out of
	// SLOWLOG and MONITOR, as Redis does.
	fSensitive
	// fDenyLoading: Redis refuses CONFIG SET while loading (appendonly, dir).
	fDenyLoading
	// fEmptyIsNull: "" means unset (Redis's EMPTY_STRING_IS_NULL); CONFIG
	// REWRITE leaves such a directive out of the file instead of writing "".
	fEmptyIsNull
	// fCompat: a Redis knob mullet accepts, stores and reports so that
	// tools which set it keep working, but which changes nothing.
	fCompat
)

// numFlag is Redis's numeric config flags plus the C type's signedness,
// which decides how bounds are compared.
type numFlag uint8

const (
	nMemory   numFlag = 1 << iota // accepts memtoull units; shown in bytes
	nPercent                      // accepts N% (stored negated, as in Redis)
	nOctal                        // parsed and shown in base 8
	nUnsigned                     // unsigned C type: bounds compared as uint64
)

// enumItem is one name an enum accepts. Several names may share a value;
// CONFIG GET shows the first.
type enumItem struct {
	name string
	v    int64
}

// val is one directive's parsed value. A val is never modified once
// stored: a change builds a new one, so readers need no lock.
type val struct {
	get  string   // the CONFIG GET text, computed when the value is set
	n    int64    // bool (0/1), enum value or bits, number (uint64 bits when unsigned)
	s    string   // string directives
	list []string // bind addresses; routes as queue, table, queue, table, ...
	nums []int64  // save pairs; output buffer limits; oom-score-adj-values
}

// special is the parser and formatter of a directive with its own syntax.
type special struct {
	// parse turns arguments into a value. prev is the current value (the
	// output buffer limits only change the classes named); acc is set for
	// a repeated occurrence of a fRepeatable directive within one Load.
	parse func(prev val, args []string, acc bool) (val, error)
	// format renders the CONFIG GET text.
	format func(v val) string
	// rewrite renders the config file lines for CONFIG REWRITE.
	rewrite func(name string, v, def val) []rwLine
}

// rwLine is one line CONFIG REWRITE writes for a directive. force says
// whether it must be appended where the file did not mention the
// directive (in Redis, when the value is not the default).
type rwLine struct {
	text  string
	force bool
}

func forced(text string) []rwLine { return []rwLine{{text, true}} }

// directive is one entry of the table in directives.go.
type directive struct {
	name  string
	alias string
	kind  kind
	flags dflag
	def   string // default, in file syntax
	unit  string // "bytes", "ms", "s", "us" or ""
	help  string

	lo, hi int64 // numeric bounds (uint64 bits when nUnsigned)
	nf     numFlag
	enum   []enumItem
	bits   bool // enum of flags: several names, OR'ed (shutdown-on-sigint)
	sp     *special

	// check validates (and may normalize, as hz does) a value that parsed;
	// it stands for Redis's is_valid_fn and for mullet's own refusals.
	check func(v *val) error
}

// with returns d with the extra check fn.
func (d directive) with(fn func(v *val) error) directive {
	d.check = fn
	return d
}

// Generic reasons, Redis's texts.
var (
	errYesNo    = errors.New("argument must be 'yes' or 'no'")
	errInteger  = errors.New("argument couldn't be parsed into an integer")
	errMemory   = errors.New("argument must be a memory value")
	errMemPct   = errors.New("argument must be a memory or percent value")
	errOctal    = errors.New("argument couldn't be parsed as an octal number")
	errArgCount = errors.New(reasonArgc)
)

// parse turns arguments into a value of d. The caller has checked the
// argument count for single-argument directives.
func (d *directive) parse(prev val, args []string, acc bool) (val, error) {
	var v val
	var err error
	switch d.kind {
	case kBool:
		switch asciiLower(args[0]) {
		case "yes":
			v.n = 1
		case "no":
		default:
			return val{}, errYesNo
		}
	case kString:
		v.s = args[0]
	case kEnum:
		v.n, err = d.parseEnum(args)
	case kNum:
		v.n, err = d.parseNum(args[0])
	case kSpecial:
		v, err = d.sp.parse(prev, args, acc)
	}
	if err != nil {
		return val{}, err
	}
	if d.check != nil {
		if err := d.check(&v); err != nil {
			return val{}, err
		}
	}
	v.get = d.format(v)
	return v, nil
}

// format renders v as CONFIG GET shows it.
func (d *directive) format(v val) string {
	switch d.kind {
	case kBool:
		if v.n != 0 {
			return "yes"
		}
		return "no"
	case kString:
		return v.s
	case kEnum:
		return d.enumName(v.n)
	case kNum:
		return d.formatNum(v.n)
	}
	return d.sp.format(v)
}

// parseEnum is configEnumGetValue: names match case-insensitively; a flags
// enum ORs several.
func (d *directive) parseEnum(args []string) (int64, error) {
	if len(args) == 0 || !d.bits && len(args) != 1 {
		return 0, d.enumErr()
	}
	var v int64
	for _, a := range args {
		matched := false
		for _, it := range d.enum {
			if asciiLower(a) == it.name {
				v |= it.v
				matched = true
			}
		}
		if !matched {
			return 0, d.enumErr()
		}
	}
	return v, nil
}

func (d *directive) enumErr() error {
	names := make([]string, len(d.enum))
	for i, it := range d.enum {
		names[i] = it.name
	}
	return errors.New("argument(s) must be one of the following: " + strings.Join(names, ", "))
}

// enumName is configEnumGetName: the first name with exactly this value,
// else (for flags) the names whose bits make it up, in table order.
func (d *directive) enumName(v int64) string {
	var names []string
	unmatched := v
	for _, it := range d.enum {
		if it.v == v {
			return it.name
		}
		if d.bits && it.v != 0 && it.v == unmatched&it.v {
			names = append(names, it.name)
			unmatched &^= it.v
		}
	}
	if names == nil || unmatched != 0 {
		return "unknown"
	}
	return strings.Join(names, " ")
}

// parseNum is numericParseString followed by numericBoundaryCheck.
func (d *directive) parseNum(s string) (int64, error) {
	var n int64
	ok := false
	if d.nf&nMemory != 0 {
		var u uint64
		if u, ok = ParseSize(s); ok {
			n = int64(u) // C stores memtoull's result into a long long
		}
	}
	if !ok && d.nf&nPercent != 0 && len(s) > 1 && s[len(s)-1] == '%' {
		if p, pok := redisc.String2ll(s[:len(s)-1]); pok && p >= 0 {
			n, ok = -p, true // Redis stores a percentage negated
		}
	}
	if !ok && d.nf&nOctal != 0 {
		if o, rest, rangeErr := strtoll(s, 8); rest == "" && !rangeErr {
			n, ok = o, true
		}
	}
	if !ok && d.nf&(nMemory|nPercent|nOctal) == 0 {
		n, ok = redisc.String2ll(s)
	}
	if !ok {
		switch {
		case d.nf&nMemory != 0 && d.nf&nPercent != 0:
			return 0, errMemPct
		case d.nf&nMemory != 0:
			return 0, errMemory
		case d.nf&nOctal != 0:
			return 0, errOctal
		}
		return 0, errInteger
	}
	return n, d.bounds(n)
}

func (d *directive) bounds(n int64) error {
	if d.nf&nUnsigned != 0 {
		if u := uint64(n); u > uint64(d.hi) || u < uint64(d.lo) {
			if d.nf&nOctal != 0 {
				return fmt.Errorf("argument must be between %o and %o inclusive", uint64(d.lo), uint64(d.hi))
			}
			return fmt.Errorf("argument must be between %d and %d inclusive", uint64(d.lo), uint64(d.hi))
		}
		return nil
	}
	if d.nf&nPercent != 0 && n < 0 {
		if n < d.lo {
			return fmt.Errorf("percentage argument must be less or equal to %d", -d.lo)
		}
		return nil
	}
	if n > d.hi || n < d.lo {
		return fmt.Errorf("argument must be between %d and %d inclusive", d.lo, d.hi)
	}
	return nil
}

func (d *directive) formatNum(n int64) string {
	switch {
	case d.nf&nPercent != 0 && n < 0:
		return strconv.FormatInt(-n, 10) + "%"
	case d.nf&nMemory != 0:
		return strconv.FormatUint(uint64(n), 10)
	case d.nf&nOctal != 0:
		return strconv.FormatInt(n, 8)
	case d.nf&nUnsigned != 0:
		return strconv.FormatUint(uint64(n), 10)
	}
	return strconv.FormatInt(n, 10)
}

// rewriteLines renders v for CONFIG REWRITE the way Redis's rewrite
// functions do.
func (d *directive) rewriteLines(v, def val) []rwLine {
	name := d.name
	switch d.kind {
	case kBool, kEnum:
		return []rwLine{{name + " " + v.get, v.n != def.n}}
	case kNum:
		var s string
		switch {
		case d.nf&nPercent != 0 && v.n < 0:
			s = strconv.FormatInt(-v.n, 10) + "%"
		case d.nf&nMemory != 0:
			s = formatMemory(uint64(v.n))
		default:
			s = v.get
		}
		return []rwLine{{name + " " + s, v.n != def.n}}
	case kString:
		if d.flags&fEmptyIsNull != 0 && v.s == "" {
			return nil // unset: drop it from the file
		}
		force := d.flags&fEmptyIsNull != 0 || v.s != def.s
		return []rwLine{{name + " " + Quote(v.s), force}}
	}
	return d.sp.rewrite(name, v, def)
}

// formatMemory is rewriteConfigFormatMemory: the largest of gb, mb, kb
// that divides the value. Unlike Redis it formats as unsigned, so a
// maxmemory above 8 EiB survives a rewrite.
func formatMemory(b uint64) string {
	const kb, mb, gb = 1024, 1024 * 1024, 1024 * 1024 * 1024
	switch {
	case b != 0 && b%gb == 0:
		return strconv.FormatUint(b/gb, 10) + "gb"
	case b != 0 && b%mb == 0:
		return strconv.FormatUint(b/mb, 10) + "mb"
	case b != 0 && b%kb == 0:
		return strconv.FormatUint(b/kb, 10) + "kb"
	}
	return strconv.FormatUint(b, 10)
}
