package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mullet/internal/redisc"
)

// The configuration file: redis.conf syntax, read as Redis 7.0's
// loadServerConfigFromString reads it. One directive per line; lines are
// trimmed of " \t\r\n"; blank lines and lines starting with '#' are
// skipped (a '#' later in a line is just another argument, as in Redis);
// arguments are split by SplitArgs; directive names are case-insensitive.
// "include PATH" reads another file in place (PATH relative to the
// working directory, and a glob pattern that matches nothing is skipped).

// maxIncludeDepth bounds include nesting. Redis has no bound: an include
// loop recurses until its stack overflows.
const maxIncludeDepth = 16

// Redis directives outside the table that mullet recognizes to refuse
// with a clear reason instead of "Bad directive". Each changes behaviour
// in a way mullet cannot honour, and ignoring it silently would be worse:
// a rename-command that hides FLUSHALL, or users meant to restrict access.
var unsupported = map[string]string{
	"rename-command": "rename-command is not supported by mullet",
	"user":           "ACL users are not supported by mullet; use requirepass",
	"loadmodule":     "modules are not supported by mullet",
	"sentinel":       "sentinel mode is not supported by mullet",
}

// deprecated are directives Redis 7.0 still accepts with two arguments
// and ignores.
var deprecated = map[string]bool{
	"list-max-ziplist-entries": true,
	"list-max-ziplist-value":   true,
	"lua-replicate-commands":   true,
}

// loader applies files and overrides to a private copy of the state.
type loader struct {
	st   *state
	seen map[int]bool // repeatable directives already met in this Load
	read func(path string) ([]byte, error)
}

func newLoader(from *state) *loader {
	return &loader{st: from.clone(), seen: map[int]bool{}, read: os.ReadFile}
}

// at locates an include directive, for errors about the file it names.
type at struct {
	file string
	line int
	text string
}

// loadFile reads path and applies it. from is the include directive that
// named it (nil for the main file).
func (l *loader) loadFile(path string, depth int, from *at) error {
	data, err := l.read(path)
	if err != nil {
		reason := fmt.Sprintf("can't open config file '%s': %s", path, redisc.Strerror(err))
		if from == nil {
			return &FileError{File: path, Reason: reason, Err: err}
		}
		return &FileError{File: from.file, Line: from.line, Text: from.text, Reason: reason, Err: err}
	}
	return l.loadBytes(path, data, depth)
}

// loadBytes applies the lines of a file named name.
func (l *loader) loadBytes(name string, data []byte, depth int) error {
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.Trim(raw, " \t\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		fail := func(reason string) error {
			return &FileError{File: name, Line: i + 1, Text: line, Reason: reason}
		}
		if strings.IndexByte(line, 0) >= 0 {
			// Redis reads the file as C strings, so a NUL silently cuts
			// the line and glues it to the next; refuse instead.
			return fail("NUL byte in configuration line")
		}
		argv, err := SplitArgs(line)
		if err != nil {
			return fail(err.Error())
		}
		if len(argv) == 0 {
			continue
		}
		if e, ok := lookup(argv[0]); ok && isDSN(e.idx) {
			line = MaskDSN(line) // the line only reaches error texts from here on
		}
		if len(argv) == 2 && asciiLower(argv[0]) == "include" {
			if err := l.include(argv[1], depth, &at{name, i + 1, line}); err != nil {
				return err
			}
			continue
		}
		if err := l.directive(argv); err != nil {
			return fail(err.Error())
		}
	}
	return nil
}

// include applies the file (or every file a glob pattern matches, in
// lexical order) named by an include directive.
func (l *loader) include(pattern string, depth int, from *at) error {
	if depth >= maxIncludeDepth {
		return &FileError{File: from.file, Line: from.line, Text: from.text,
			Reason: fmt.Sprintf("includes nested more than %d deep (an include loop?)", maxIncludeDepth)}
	}
	if !strings.ContainsAny(pattern, "*?[") {
		return l.loadFile(pattern, depth+1, from)
	}
	paths, _ := filepath.Glob(pattern) // a bad pattern matches nothing, as with glob(3)
	for _, p := range paths {
		if err := l.loadFile(p, depth+1, from); err != nil {
			return err
		}
	}
	return nil
}

// override applies one command-line override: name, then arguments.
func (l *loader) override(o []string) error {
	name, args := o[0], o[1:]
	if len(args) == 1 && asciiLower(name) == "include" {
		text := "--include " + Quote(args[0])
		err := l.include(args[0], 0, &at{"command line", 0, text})
		var fe *FileError
		if errors.As(err, &fe) && fe.File == "command line" {
			return &FlagError{Flag: name, Args: args, Reason: fe.Reason}
		}
		return err
	}
	if err := l.directive(o); err != nil {
		return &FlagError{Flag: name, Args: args, Reason: err.Error()}
	}
	return nil
}

// directive applies one split line (argv[0] is the name) and returns the
// reason it cannot, with Redis's texts.
func (l *loader) directive(argv []string) error {
	name := asciiLower(argv[0])
	e, ok := index[name]
	if !ok {
		switch {
		case deprecated[name] && len(argv) == 2:
			return nil
		case unsupported[name] != "":
			return errors.New(unsupported[name])
		case strings.IndexByte(name, '.') >= 0:
			return errors.New("module configuration is not supported by mullet")
		}
		return errors.New(reasonBad)
	}
	d := &table[e.idx]
	args := argv[1:]
	if d.flags&fMultiArg == 0 {
		if len(args) != 1 {
			return errArgCount
		}
	} else if len(args) == 1 && args[0] != "" {
		// Redis 7.0 splits a lone argument of a multi-argument directive,
		// so that --save "3600 1 300 100" and bind "127.0.0.1 ::1" work.
		// An unbalanced quote in it leaves no arguments at all, as in Redis.
		args, _ = SplitArgs(args[0])
	}
	acc := d.flags&fRepeatable != 0 && l.seen[e.idx]
	v, err := d.parse(l.st.vals[e.idx], args, acc)
	if err != nil {
		return err
	}
	l.st.vals[e.idx] = v
	l.seen[e.idx] = true
	return nil
}
