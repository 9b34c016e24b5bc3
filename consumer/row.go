package consumer

// This file turns a queue item (raw JSON) into a Row, the way Node's mysql
// package turns an object into `INSERT INTO t SET ?`: every key is a column,
// every value a literal. It is the one place that decides what an item
// means; both sinks store exactly what ParseRow returns.
//
// The parser is hand-written rather than encoding/json's map decoding
// because it runs for every row at 100k rows/s on a machine shared with
// MariaDB: it does not allocate for plain keys and strings, and it keeps the
// key order. FuzzParseRow checks it against encoding/json.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on names and rows, MySQL's own.
const (
	// MaxNameLen is the longest table or column name, in characters.
	MaxNameLen = 64
	// MaxColumns is the most columns one row may name (InnoDB allows 1017,
	// MySQL 4096; beyond that the item cannot be a row anywhere).
	MaxColumns = 4096
)

// A Kind says how a JSON value becomes a column value.
type Kind uint8

// The kinds of value, with their SQL form.
const (
	// Null is JSON null; SQL NULL.
	Null Kind = iota
	// String is a JSON string; its decoded text, a SQL string.
	String
	// Number is a JSON number; its literal text, exactly as sent, so no
	// precision is lost (SQL parses it as an exact DECIMAL or integer).
	Number
	// Bool is JSON true or false; Text is "1" or "0", as MySQL's BOOLEAN.
	Bool
	// JSON is a nested object or array; Text is its compacted JSON text,
	// stored as a string (fits JSON, TEXT and VARCHAR columns alike).
	JSON
)

// A Value is one column value. Text is empty for Null.
type Value struct {
	Kind Kind
	Text string
}

// A Row is one queue item as columns and values, in the order the keys first
// appear in the item. When a key repeats, the last value wins, as with
// JavaScript's JSON.parse on the producer's side.
type Row struct {
	Columns []string
	Values  []Value
}

// ParseRow converts one item. It returns a *RowError with Index 0 when the
// item is not a JSON object, is an empty object, or has a key that is not a
// valid column name (see CheckName). The Row does not alias item.
func ParseRow(item []byte) (Row, error) {
	p := parser{s: string(item)}
	r, reason := p.row()
	if reason != "" {
		return Row{}, &RowError{Index: 0, Reason: reason}
	}
	return r, nil
}

// parseItems converts every item of a batch, stopping at the first poison
// item with its index.
func parseItems(items [][]byte) ([]Row, error) {
	rows := make([]Row, len(items))
	for i, it := range items {
		p := parser{s: string(it)}
		r, reason := p.row()
		if reason != "" {
			return nil, &RowError{Index: i, Reason: reason}
		}
		rows[i] = r
	}
	return rows, nil
}

// CheckName reports why name cannot be a MySQL table or column name, or ""
// if it can. MySQL's rules: 1 to 64 characters, no NUL, no character outside
// the Basic Multilingual Plane, no trailing space. Anything else is allowed
// once quoted with QuoteName, including backticks, dots and spaces.
func CheckName(name string) string {
	switch {
	case name == "":
		return "empty name"
	case !utf8.ValidString(name):
		return "name is not valid UTF-8"
	case utf8.RuneCountInString(name) > MaxNameLen:
		return fmt.Sprintf("name longer than %d characters", MaxNameLen)
	case strings.HasSuffix(name, " "):
		return "name ends with a space"
	}
	for _, r := range name {
		if r == 0 {
			return "name contains NUL"
		}
		if r > 0xFFFF {
			return "name contains a character outside the BMP"
		}
	}
	return ""
}

// QuoteName quotes a name checked by CheckName as a MySQL identifier:
// backticks around it, backticks inside doubled. Unlike Node's escapeId it
// does not split on dots: a key "a.b" is the column named "a.b".
func QuoteName(name string) string {
	return string(appendName(nil, name))
}

func appendName(b []byte, name string) []byte {
	b = append(b, '`')
	for i := 0; i < len(name); i++ {
		if name[i] == '`' {
			b = append(b, '`')
		}
		b = append(b, name[i])
	}
	return append(b, '`')
}

// parser reads one top-level JSON object. Methods return a reason string
// instead of an error: every failure is a poison item, and the reason goes
// into RowError.
//
// It works on one string copy of the item, so that keys, plain strings and
// numbers are substrings of it: three allocations per row in the common
// case (the copy, Columns, Values) instead of one per key and value.
type parser struct {
	s string
	i int
}

func (p *parser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) row() (Row, string) {
	p.ws()
	if p.i == len(p.s) {
		return Row{}, "empty item, not a JSON object"
	}
	if p.s[p.i] != '{' {
		if !json.Valid([]byte(p.s)) {
			return Row{}, "not valid JSON"
		}
		return Row{}, "not a JSON object"
	}
	p.i++
	// Six columns is the typical order; one allocation each.
	r := Row{Columns: make([]string, 0, 8), Values: make([]Value, 0, 8)}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		if p.ws(); p.i != len(p.s) {
			return Row{}, "not valid JSON"
		}
		return Row{}, "empty JSON object, no columns"
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return Row{}, "not valid JSON"
		}
		key, ok := p.str()
		if !ok {
			return Row{}, "not valid JSON"
		}
		if p.ws(); p.i >= len(p.s) || p.s[p.i] != ':' {
			return Row{}, "not valid JSON"
		}
		p.i++
		p.ws()
		v, ok := p.value()
		if !ok {
			return Row{}, "not valid JSON"
		}
		if reason := CheckName(key); reason != "" {
			return Row{}, p.badKey(key, reason)
		}
		if j := indexOf(r.Columns, key); j >= 0 {
			r.Values[j] = v
		} else {
			if len(r.Columns) == MaxColumns {
				return Row{}, p.rest(fmt.Sprintf("more than %d columns", MaxColumns))
			}
			r.Columns = append(r.Columns, key)
			r.Values = append(r.Values, v)
		}
		p.ws()
		if p.i >= len(p.s) {
			return Row{}, "not valid JSON"
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			continue
		case '}':
			p.i++
			if p.ws(); p.i != len(p.s) {
				return Row{}, "not valid JSON"
			}
			return r, ""
		}
		return Row{}, "not valid JSON"
	}
}

// badKey reports an invalid column name, unless the item is not valid JSON
// at all, which takes precedence.
func (p *parser) badKey(key, reason string) string {
	return p.rest(fmt.Sprintf("key %s is not a valid column name: %s", shortQuote(key), reason))
}

// rest returns reason if the whole item is valid JSON, else "not valid JSON".
func (p *parser) rest(reason string) string {
	if !json.Valid([]byte(p.s)) {
		return "not valid JSON"
	}
	return reason
}

func shortQuote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// indexOf is a linear search: rows have a handful of columns, and a map
// would cost more than it saves below a few dozen.
func indexOf(cols []string, key string) int {
	for j, c := range cols {
		if c == key {
			return j
		}
	}
	return -1
}

// value reads one JSON value starting at p.i.
func (p *parser) value() (Value, bool) {
	if p.i >= len(p.s) {
		return Value{}, false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		s, ok := p.str()
		return Value{Kind: String, Text: s}, ok
	case c == '{' || c == '[':
		start := p.i
		if !p.skipNested() {
			return Value{}, false
		}
		raw := []byte(p.s[start:p.i])
		var buf bytes.Buffer
		buf.Grow(len(raw))
		// Compact also validates: skipNested only matched brackets.
		if err := json.Compact(&buf, raw); err != nil {
			return Value{}, false
		}
		return Value{Kind: JSON, Text: buf.String()}, true
	case c == 't':
		return Value{Kind: Bool, Text: "1"}, p.lit("true")
	case c == 'f':
		return Value{Kind: Bool, Text: "0"}, p.lit("false")
	case c == 'n':
		return Value{Kind: Null}, p.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		if !p.number() {
			return Value{}, false
		}
		return Value{Kind: Number, Text: p.s[start:p.i]}, true
	}
	return Value{}, false
}

func (p *parser) lit(word string) bool {
	if !strings.HasPrefix(p.s[p.i:], word) {
		return false
	}
	p.i += len(word)
	return true
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() bool {
	s, i := p.s, p.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	p.i = i
	return true
}

// str reads a JSON string starting at the opening quote. The fast path
// returns a substring when there is nothing to unescape; strings
// with escapes go through encoding/json, which also replaces invalid UTF-8
// with U+FFFD, as it would for any Go program.
func (p *parser) str() (string, bool) {
	start := p.i
	i := start + 1
	simple := true
	for ; i < len(p.s); i++ {
		c := p.s[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			simple = false
			i++ // skip the escaped byte; validity is checked below
			continue
		}
		if c < 0x20 {
			return "", false // raw control characters are not allowed
		}
		if c >= 0x80 {
			simple = false
		}
	}
	if i >= len(p.s) {
		return "", false
	}
	p.i = i + 1
	raw := p.s[start:p.i]
	if simple {
		return raw[1 : len(raw)-1], true
	}
	if !strings.Contains(raw, `\`) && utf8.ValidString(raw) {
		return raw[1 : len(raw)-1], true
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return "", false
	}
	return s, true
}

// skipNested moves past a nested object or array, matching brackets outside
// strings. It does not validate the contents; json.Compact does.
func (p *parser) skipNested() bool {
	depth := 0
	for i := p.i; i < len(p.s); i++ {
		switch p.s[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				p.i = i + 1
				return true
			}
		case '"':
			for i++; i < len(p.s) && p.s[i] != '"'; i++ {
				if p.s[i] == '\\' {
					i++
				}
			}
		}
	}
	return false
}
