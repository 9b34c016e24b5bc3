package config

import (
	"fmt"
	"strings"
)

// ParseArgs splits a command line (without the program name) the way
// redis-server does: an optional first argument not starting with '-' is
// the configuration file; then each --name starts an override holding
// every following argument up to the next --name (so --save 3600 1 300 100
// and --consumer-route orders_q orders are one override each). Also as in
// redis-server:
//
//   - "--port 7000" as a single argument is a name and its value;
//   - the first value may itself start with "--" (--requirepass --x);
//   - --save with no value, last or followed by another --name, means
//     save "" (snapshots off);
//   - a value holding spaces for a multi-argument directive is split when
//     applied, so --bind "127.0.0.1 ::1" works.
//
// The overrides are meant for Load, which applies them after the file.
// ParseArgs returns ErrHelp for a first argument -h or --help, ErrStdin
// for a lone "-", and a *FlagError for an argument that belongs to no
// --name or a --name with an empty name or unbalanced quotes.
func ParseArgs(args []string) (file string, overrides [][]string, err error) {
	if len(args) == 0 {
		return "", nil, nil
	}
	if args[0] == "-h" || args[0] == "--help" {
		return "", nil, ErrHelp
	}
	j := 0
	if !strings.HasPrefix(args[0], "-") {
		file, j = args[0], 1
		if file == "" {
			return "", nil, &FlagError{Reason: "the configuration file name is empty"}
		}
	}
	// handled is redis-server's handled_last_config_arg: false right
	// after a --name alone, when the next argument is its value even if
	// it starts with "--".
	handled := true
	for ; j < len(args); j++ {
		a := args[j]
		switch {
		case a == "-" && (j == 0 || j == len(args)-1):
			return "", nil, ErrStdin
		case handled && strings.HasPrefix(a, "--"):
			words, err := SplitArgs(a[2:])
			if err != nil {
				return "", nil, &FlagError{Flag: a[2:], Reason: err.Error()}
			}
			if len(words) == 0 {
				return "", nil, &FlagError{Flag: a[2:], Reason: "missing directive name after --"}
			}
			overrides = append(overrides, words)
			if len(words) > 1 {
				break // "--port 7000": name and value in one argument
			}
			handled = false
			if asciiLower(a) == "--save" && (j == len(args)-1 || strings.HasPrefix(args[j+1], "--")) {
				overrides[len(overrides)-1] = append(words, "")
				handled = true
			}
		default:
			if len(overrides) == 0 {
				return "", nil, &FlagError{Flag: a, Reason: "argument " + Quote(a) + " does not follow a --directive"}
			}
			last := len(overrides) - 1
			overrides[last] = append(overrides[last], a)
			handled = true
		}
	}
	return file, overrides, nil
}

// Usage returns the help for `mullet serve --help`: the command line
// syntax and every directive with its default and help text, mullet's
// own and the Redis ones it uses first, then the Redis knobs it only
// accepts.
func Usage() string {
	var b strings.Builder
	b.WriteString(`Usage: mullet serve [/path/to/mullet.conf] [--directive value [value ...]] ...

The configuration file uses redis.conf syntax: one "directive arguments"
per line, # comments, "include path". Each --directive on the command line
is applied after the file and wins over it. Sizes take b, k, kb, m, mb, g,
gb; booleans yes or no. CONFIG GET / CONFIG SET work on the same names;
directives marked [start-up] cannot be changed at run time.

Examples:
  mullet serve /etc/mullet.conf --port 7000
  mullet serve --save 3600 1 300 100 --consumer-route order_queue orders

`)
	write := func(title string, compat bool) {
		b.WriteString(title)
		for i := range table {
			d := &table[i]
			if d.flags&fCompat != 0 != compat {
				continue
			}
			def := d.def // the file-syntax default: "512mb" reads better than bytes
			if def == "" {
				def = `""`
			}
			fmt.Fprintf(&b, "\n  --%s %s", d.name, def)
			if d.unit != "" && d.unit != "bytes" {
				fmt.Fprintf(&b, " (%s)", d.unit)
			}
			if d.flags&fImmutable != 0 {
				b.WriteString("  [start-up]")
			}
			b.WriteByte('\n')
			help := d.help
			if d.alias != "" {
				help += " Alias: " + d.alias + "."
			}
			wrap(&b, help, "      ", 78)
		}
	}
	write("Directives (--name default):\n", false)
	write("\n\nRedis directives accepted, checked, stored and shown by CONFIG GET, with no\neffect in mullet:\n", true)
	return b.String()
}

// wrap writes text in lines of at most width bytes, each after indent.
func wrap(b *strings.Builder, text, indent string, width int) {
	line := indent
	for _, w := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
}
