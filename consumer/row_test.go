package consumer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// parseTests are the table for TestParseRow and the seeds of FuzzParseRow.
var parseTests = []struct {
	name string
	in   string
	want Row    // when reason is ""
	bad  string // substring of the RowError reason
}{
	{name: "order", in: `{"order_id":"o-1","qty":3,"price":19.99,"paid":true,"note":null}`,
		want: row("order_id", S("o-1"), "qty", N("3"), "price", N("19.99"), "paid", B("1"), "note", Value{})},
	{name: "whitespace", in: " \n{ \"a\" : \"x\" ,\t\"b\":false }\r\n", want: row("a", S("x"), "b", B("0"))},
	{name: "precision kept", in: `{"big":12345678901234567890.123456789012345678901,"e":-1.5E+300,"z":-0}`,
		want: row("big", N("12345678901234567890.123456789012345678901"), "e", N("-1.5E+300"), "z", N("-0"))},
	{name: "nested compacted", in: `{"meta":{ "a" : [1, 2, {"b":"}"}] },"tags":[ "x" ]}`,
		want: row("meta", J(`{"a":[1,2,{"b":"}"}]}`), "tags", J(`["x"]`))},
	{name: "escapes", in: `{"s":"line\nbreak \"q\" \\ \u00e9 \ud83d\ude00 \u0000"}`,
		want: row("s", S("line\nbreak \"q\" \\ é 😀 \x00"))},
	{name: "utf8", in: `{"名前":"héllo ✓"}`, want: row("名前", S("héllo ✓"))},
	{name: "invalid utf8 replaced", in: "{\"s\":\"a\xffb\"}", want: row("s", S("a\uFFFDb"))},
	{name: "duplicate key last wins", in: `{"a":1,"b":2,"a":3}`, want: row("a", N("3"), "b", N("2"))},
	{name: "backtick and dot in key", in: "{\"we`ird.col\":1}", want: row("we`ird.col", N("1"))},
	{name: "escaped key", in: `{"a\u0062":1}`, want: row("ab", N("1"))},

	{name: "empty", in: ``, bad: "empty item"},
	{name: "blank", in: "  \n", bad: "empty item"},
	{name: "not json", in: `hello`, bad: "not valid JSON"},
	{name: "string", in: `"hello"`, bad: "not a JSON object"},
	{name: "array", in: `[{"a":1}]`, bad: "not a JSON object"},
	{name: "number", in: `42`, bad: "not a JSON object"},
	{name: "null", in: `null`, bad: "not a JSON object"},
	{name: "empty object", in: `{}`, bad: "empty JSON object"},
	{name: "empty object ws", in: ` { } `, bad: "empty JSON object"},
	{name: "truncated", in: `{"a":1`, bad: "not valid JSON"},
	{name: "trailing garbage", in: `{"a":1}x`, bad: "not valid JSON"},
	{name: "two objects", in: `{"a":1}{"b":2}`, bad: "not valid JSON"},
	{name: "trailing comma", in: `{"a":1,}`, bad: "not valid JSON"},
	{name: "single quotes", in: `{'a':1}`, bad: "not valid JSON"},
	{name: "leading zero", in: `{"a":01}`, bad: "not valid JSON"},
	{name: "bare dot", in: `{"a":1.}`, bad: "not valid JSON"},
	{name: "NaN", in: `{"a":NaN}`, bad: "not valid JSON"},
	{name: "bad nested", in: `{"a":{"b":}}`, bad: "not valid JSON"},
	{name: "raw newline in string", in: "{\"a\":\"x\ny\"}", bad: "not valid JSON"},
	{name: "bad escape", in: `{"a":"\x"}`, bad: "not valid JSON"},
	{name: "truE", in: `{"a":truE}`, bad: "not valid JSON"},
	{name: "empty key", in: `{"":1}`, bad: "not a valid column name: empty name"},
	{name: "NUL key", in: `{"a\u0000b":1}`, bad: "contains NUL"},
	{name: "long key", in: `{"` + strings.Repeat("k", 65) + `":1}`, bad: "longer than 64"},
	{name: "trailing space key", in: `{"a ":1}`, bad: "ends with a space"},
	{name: "emoji key", in: `{"😀":1}`, bad: "outside the BMP"},
	{name: "bad key but invalid json", in: `{"":1,}`, bad: "not valid JSON"},
}

func S(s string) Value { return Value{Kind: String, Text: s} }
func N(s string) Value { return Value{Kind: Number, Text: s} }
func B(s string) Value { return Value{Kind: Bool, Text: s} }
func J(s string) Value { return Value{Kind: JSON, Text: s} }

// row builds a Row from alternating column names and values.
func row(kv ...any) Row {
	var r Row
	for i := 0; i < len(kv); i += 2 {
		r.Columns = append(r.Columns, kv[i].(string))
		r.Values = append(r.Values, kv[i+1].(Value))
	}
	return r
}

func TestParseRow(t *testing.T) {
	for _, tc := range parseTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRow([]byte(tc.in))
			if tc.bad != "" {
				var re *RowError
				if !errors.As(err, &re) || re.Index != 0 || !strings.Contains(re.Reason, tc.bad) {
					t.Fatalf("ParseRow(%q) = %v, %v; want RowError containing %q", tc.in, got, err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRow(%q): %v", tc.in, err)
			}
			if !slices.Equal(got.Columns, tc.want.Columns) || !slices.Equal(got.Values, tc.want.Values) {
				t.Errorf("ParseRow(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseItemsIndex(t *testing.T) {
	_, err := parseItems([][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`), []byte(`[1]`), []byte(`nope`)})
	var re *RowError
	if !errors.As(err, &re) || re.Index != 2 {
		t.Fatalf("err = %v; want RowError at index 2", err)
	}
	if got := re.Error(); got != "consumer: item 2 rejected: not a JSON object" {
		t.Errorf("Error() = %q", got)
	}
}

func TestParseRowMaxColumns(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range MaxColumns + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"c%d":%d`, i, i)
	}
	b.WriteString("}")
	if _, err := ParseRow([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "more than 4096 columns") {
		t.Errorf("err = %v; want too many columns", err)
	}
}

func TestCheckNameAndQuote(t *testing.T) {
	for _, tc := range []struct {
		name, quoted, bad string
	}{
		{name: "orders", quoted: "`orders`"},
		{name: "we`ird", quoted: "`we``ird`"},
		{name: "``", quoted: "``````"},
		{name: "a.b", quoted: "`a.b`"},
		{name: "sp ace", quoted: "`sp ace`"},
		{name: "x; DROP TABLE t; --", quoted: "`x; DROP TABLE t; --`"},
		{name: "ünïcødé", quoted: "`ünïcødé`"},
		{name: strings.Repeat("é", 64), quoted: "`" + strings.Repeat("é", 64) + "`"},
		{name: "", bad: "empty"},
		{name: strings.Repeat("a", 65), bad: "longer than 64"},
		{name: "a\x00", bad: "NUL"},
		{name: "a ", bad: "space"},
		{name: "\xff", bad: "UTF-8"},
		{name: "😀", bad: "BMP"},
	} {
		reason := CheckName(tc.name)
		if tc.bad != "" {
			if !strings.Contains(reason, tc.bad) {
				t.Errorf("CheckName(%q) = %q; want %q", tc.name, reason, tc.bad)
			}
			continue
		}
		if reason != "" {
			t.Errorf("CheckName(%q) = %q; want ok", tc.name, reason)
		}
		if got := QuoteName(tc.name); got != tc.quoted {
			t.Errorf("QuoteName(%q) = %s; want %s", tc.name, got, tc.quoted)
		}
	}
}

func TestAppendLiteral(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want string
	}{
		{Value{}, `NULL`},
		{N("-1.5e3"), `-1.5e3`},
		{B("1"), `1`},
		{S(""), `''`},
		{S("it's"), `'it\'s'`},
		{S(`a\b"c`), `'a\\b\"c'`},
		{S("\x00\n\r\x1a\t"), "'\\0\\n\\r\\Z\t'"},
		{J(`{"a":"b"}`), `'{\"a\":\"b\"}'`},
		{S("é✓"), `'é✓'`},
	} {
		if got := string(appendLiteral(nil, tc.v)); got != tc.want {
			t.Errorf("appendLiteral(%+v) = %s; want %s", tc.v, got, tc.want)
		}
		// The literal must read back as the value under MySQL's rules.
		if tc.v.Kind == String || tc.v.Kind == JSON {
			if back := unescapeLiteral(tc.want); back != tc.v.Text {
				t.Errorf("unescape(%s) = %q; want %q", tc.want, back, tc.v.Text)
			}
		}
	}
}

func TestAppendRowJSON(t *testing.T) {
	r := row("a", S("<x>&\"\\\n\x01"), "n", N("1.50"), "b", B("0"), "z", Value{}, "j", J(`{"k":[1]}`))
	got := string(appendRowJSON(nil, r))
	want := `{"a":"<x>&\"\\\n\u0001","n":1.50,"b":0,"z":null,"j":"{\"k\":[1]}"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Error("not valid JSON")
	}
}

// unescapeLiteral reads a quoted MySQL string literal with backslash
// escapes, as the server does with sql_mode = SQLMode.
func unescapeLiteral(lit string) string {
	lit = lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		switch lit[i] {
		case '0':
			b.WriteByte(0)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'Z':
			b.WriteByte(0x1a)
		case 't':
			b.WriteByte('\t')
		case 'b':
			b.WriteByte('\b')
		default:
			b.WriteByte(lit[i])
		}
	}
	return b.String()
}

// FuzzParseRow checks ParseRow against encoding/json: it accepts exactly the
// JSON objects with at least one key whose keys are all valid names, and
// yields the same values; its output renders to valid SQL literals and JSON.
// Seeds: parseTests plus testdata/fuzz/FuzzParseRow.
func FuzzParseRow(f *testing.F) {
	for _, tc := range parseTests {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		got, err := ParseRow(item)

		var m map[string]json.RawMessage
		isObject := json.Unmarshal(item, &m) == nil && m != nil
		valid := json.Valid(item)
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) || re.Index != 0 || re.Reason == "" {
				t.Fatalf("error is not a RowError at 0: %v", err)
			}
			if !valid && re.Reason != "not valid JSON" && !strings.HasPrefix(re.Reason, "empty item") {
				t.Fatalf("invalid JSON %q reported as %q", item, re.Reason)
			}
			if isObject && len(m) > 0 && len(m) <= MaxColumns {
				for k := range m {
					if CheckName(k) != "" {
						return // a bad key: rightly rejected
					}
				}
				if len(item) < 9000 { // beyond, nesting depth limits differ
					t.Fatalf("valid object %q rejected: %v", item, err)
				}
			}
			return
		}
		if !isObject || len(m) == 0 {
			t.Fatalf("accepted %q, which is not a non-empty JSON object", item)
		}
		if len(got.Columns) != len(m) || len(got.Values) != len(m) {
			t.Fatalf("%d columns, %d values; encoding/json sees %d keys", len(got.Columns), len(got.Values), len(m))
		}
		for i, c := range got.Columns {
			raw, ok := m[c]
			if !ok {
				t.Fatalf("column %q not a key", c)
			}
			if CheckName(c) != "" {
				t.Fatalf("accepted bad column name %q", c)
			}
			if want := expectValue(t, raw); got.Values[i] != want {
				t.Fatalf("column %q = %+v; want %+v", c, got.Values[i], want)
			}
			lit := string(appendLiteral(nil, got.Values[i]))
			if k := got.Values[i].Kind; (k == String || k == JSON) && unescapeLiteral(lit) != got.Values[i].Text {
				t.Fatalf("literal %s does not read back as %q", lit, got.Values[i].Text)
			}
		}
		if out := appendRowJSON(nil, got); !json.Valid(out) {
			t.Fatalf("row JSON %s is invalid", out)
		}
	})
}

// expectValue converts a raw JSON value with encoding/json, as ParseRow
// should.
func expectValue(t *testing.T, raw json.RawMessage) Value {
	raw = bytes.TrimSpace(raw)
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		return S(s)
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			t.Fatal(err)
		}
		return J(b.String())
	case 't':
		return B("1")
	case 'f':
		return B("0")
	case 'n':
		return Value{}
	}
	return N(string(raw))
}

// TestFuzzCorpusPresent keeps the checked-in seed corpus from silently
// disappearing.
func TestFuzzCorpusPresent(t *testing.T) {
	files, _ := filepath.Glob("testdata/fuzz/FuzzParseRow/*")
	if len(files) == 0 {
		t.Fatal("no seed corpus in testdata/fuzz/FuzzParseRow")
	}
	for _, f := range files {
		if b, err := os.ReadFile(f); err != nil || !bytes.HasPrefix(b, []byte("go test fuzz v1\n")) {
			t.Errorf("%s: not a corpus file (%v)", f, err)
		}
	}
}
