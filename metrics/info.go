package metrics

import (
	"strconv"
	"strings"
)

// A Field is one "name:value" line of INFO.
type Field struct {
	Name, Value string
}

// A Section is one "# Name" block of INFO, with its fields in order.
type Section struct {
	Name   string // lower case: "clients", "commandstats", "consumer"
	Fields []Field
}

// ParseInfo splits the text of an INFO reply into sections. Lines are
// separated by CRLF (the wire) or LF; blank lines are skipped; a field
// line is split at its first ':', because the value may hold more (a
// consumer's queue "orders:eu"), but a name never does in Redis. Fields
// before any "# " header go into a section named "".
func ParseInfo(text string) []Section {
	var out []Section
	cur := -1
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			continue
		}
		if name, ok := strings.CutPrefix(line, "# "); ok {
			out = append(out, Section{Name: strings.ToLower(strings.TrimSpace(name))})
			cur = len(out) - 1
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if cur < 0 {
			out = append(out, Section{})
			cur = 0
		}
		out[cur].Fields = append(out[cur].Fields, Field{Name: name, Value: value})
	}
	return out
}

// pairs parses a "k=v,k=v" value (commandstats, keyspace, per-route
// lines) into its pairs, in order. ok is false when a part has no '='.
func pairs(value string) (ps []Field, ok bool) {
	for part := range strings.SplitSeq(value, ",") {
		k, v, found := strings.Cut(part, "=")
		if !found || k == "" {
			return nil, false
		}
		ps = append(ps, Field{Name: k, Value: v})
	}
	return ps, len(ps) > 0
}

// number reads an INFO value as a float: integers and decimals, and the
// status words Redis uses (ok is 1, err is 0). ok is false for anything
// else (names, versions, "-1.5k").
func number(v string) (float64, bool) {
	switch v {
	case "ok":
		return 1, true
	case "err", "fail":
		return 0, true
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}
