package main

import (
	"reflect"
	"testing"
)

// TestParseObject pins what the reference worker inserts for an item, the
// way Node's mysql expands `SET ?`: keys in order, numbers as numbers,
// nested values as their JSON text.
func TestParseObject(t *testing.T) {
	tests := []struct {
		in   string
		cols []string
		vals []any
		bad  bool
	}{
		{in: `{"order_id":7,"amount":19.99,"customer":"c-1","paid":true,"note":null}`,
			cols: []string{"order_id", "amount", "customer", "paid", "note"},
			vals: []any{int64(7), 19.99, "c-1", true, nil}},
		{in: `{"z":1,"a":2}`, cols: []string{"z", "a"}, vals: []any{int64(1), int64(2)}},
		{in: `{"items":[1,2],"meta":{"k":"v"}}`, cols: []string{"items", "meta"}, vals: []any{"[1,2]", `{"k":"v"}`}},
		{in: `{"big":12345678901234567890}`, cols: []string{"big"}, vals: []any{1.2345678901234567e19}},
		{in: `[1,2]`, bad: true},
		{in: `not json`, bad: true},
		{in: `{"a":}`, bad: true},
	}
	for _, tc := range tests {
		cols, vals, err := parseObject([]byte(tc.in))
		if tc.bad {
			if err == nil {
				t.Errorf("%s: no error", tc.in)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(cols, tc.cols) || !reflect.DeepEqual(vals, tc.vals) {
			t.Errorf("%s: got %q %#v %v; want %q %#v", tc.in, cols, vals, err, tc.cols, tc.vals)
		}
	}
}

func TestQuoteName(t *testing.T) {
	if got := quoteName("we`ird"); got != "`we``ird`" {
		t.Errorf("quoteName = %s", got)
	}
}
