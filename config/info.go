package config

// Type is the kind of value a directive holds, for documentation.
type Type string

// The directive types.
const (
	TypeBool    Type = "bool"    // yes or no
	TypeInt     Type = "int"     // a decimal integer (octal for unixsocketperm)
	TypeSize    Type = "size"    // bytes, with optional unit: b, k, kb, m, mb, g, gb
	TypeEnum    Type = "enum"    // one of Values (several for shutdown-on-sig*)
	TypeString  Type = "string"  // any text
	TypeSpecial Type = "special" // a syntax of its own (save, bind, client-output-buffer-limit, ...)
)

// Directive describes one directive of the table.
type Directive struct {
	Name        string
	Alias       string // the Redis alias also accepted (slave-read-only), or ""
	Type        Type
	Default     string   // as CONFIG GET shows it
	Unit        string   // "bytes", "ms", "s", "us" or ""
	Values      []string // the names an enum accepts
	Mutable     bool     // CONFIG SET may change it
	Protected   bool     // CONFIG SET needs enable-protected-configs
	Repeatable  bool     // repeated lines add to the value (save, consumer-route)
	Sensitive   bool     // a secret: keep it out of logs, SLOWLOG and MONITOR
	DenyLoading bool     // Redis answers CONFIG SET with -LOADING while the dataset loads
	Compat      bool     // a Redis knob accepted and reported, with no effect in mullet
	Help        string
}

// Directives returns every directive, in the table's order (grouped by
// subject).
func Directives() []Directive {
	out := make([]Directive, len(table))
	for i := range table {
		out[i] = describe(i)
	}
	return out
}

// Describe returns the directive called name (or alias), case-insensitive.
func Describe(name string) (Directive, bool) {
	e, ok := lookup(name)
	if !ok {
		return Directive{}, false
	}
	return describe(e.idx), true
}

func describe(i int) Directive {
	d := &table[i]
	t := TypeSpecial
	switch d.kind {
	case kBool:
		t = TypeBool
	case kString:
		t = TypeString
	case kEnum:
		t = TypeEnum
	case kNum:
		t = TypeInt
		if d.nf&nMemory != 0 {
			t = TypeSize
		}
	}
	var values []string
	for _, it := range d.enum {
		values = append(values, it.name)
	}
	return Directive{
		Name:        d.name,
		Alias:       d.alias,
		Type:        t,
		Default:     defaults.vals[i].get,
		Unit:        d.unit,
		Values:      values,
		Mutable:     d.flags&fImmutable == 0,
		Protected:   d.flags&fProtected != 0,
		Repeatable:  d.flags&fRepeatable != 0,
		Sensitive:   d.flags&fSensitive != 0,
		DenyLoading: d.flags&fDenyLoading != 0,
		Compat:      d.flags&fCompat != 0,
		Help:        d.help,
	}
}
