package config

import (
	"errors"
	"testing"
)

// TestSetWhileLoading: while loading, Set refuses DenyLoading directives
// with ErrLoading, the first refused pair deciding the error as in Redis
// 7.0's configSetCommand, and changes nothing.
func TestSetWhileLoading(t *testing.T) {
	c := New()
	if err := c.Load("", nil); err != nil {
		t.Fatal(err)
	}
	c.SetLoading(true)
	cases := []struct {
		pairs []string
		want  string // Error(), "" for success
	}{
		{[]string{"appendonly", "no"}, "Redis is loading the dataset in memory"},
		{[]string{"APPENDONLY", "no", "nosuch", "1"}, "Redis is loading the dataset in memory"},
		{[]string{"maxmemory", "1mb", "appendonly", "no"}, "Redis is loading the dataset in memory"},
		{[]string{"nosuch", "1", "appendonly", "no"}, "Unknown option or number of arguments for CONFIG SET - 'nosuch'"},
		{[]string{"daemonize", "no", "appendonly", "no"}, "CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"},
		{[]string{"repl-diskless-load", "swapdb"}, "Redis is loading the dataset in memory"},
		{[]string{"appendfsync", "always"}, ""},
	}
	for _, tc := range cases {
		err := c.Set(tc.pairs...)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("Set(%q) while loading: %q, want %q", tc.pairs, got, tc.want)
		}
		if loading := tc.want == "Redis is loading the dataset in memory"; errors.Is(err, ErrLoading) != loading {
			t.Errorf("Set(%q): errors.Is(err, ErrLoading) = %v", tc.pairs, !loading)
		}
	}
	if c.String("appendonly") != "yes" || c.Size("maxmemory") != 0 {
		t.Errorf("a refused Set changed values: appendonly %s, maxmemory %d", c.String("appendonly"), c.Size("maxmemory"))
	}
	c.SetLoading(false)
	if err := c.Set("appendonly", "no"); err != nil {
		t.Errorf("Set appendonly after loading: %v", err)
	}
}
