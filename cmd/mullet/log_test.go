package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mullet/config"
)

// TestConfigSetLoglevel: CONFIG SET loglevel changes what the running
// logger writes, without a restart.
func TestConfigSetLoglevel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mullet.log")
	set := config.New()
	if err := set.Load("", [][]string{{"loglevel", "warning"}, {"logfile", path}}); err != nil {
		t.Fatal(err)
	}
	logger, closeLog, err := openLogger(set)
	if err != nil {
		t.Fatal(err)
	}
	defer closeLog()
	steps := []struct {
		level string // CONFIG SET loglevel, or "" to keep it
		msg   string
		debug bool // log at debug rather than info
		shown bool
	}{
		{"", "info at warning", false, false},
		{"notice", "info at notice", false, true},
		{"", "debug at notice", true, false},
		{"debug", "debug at debug", true, true},
		{"verbose", "debug at verbose", true, false},
		{"warning", "info at warning again", false, false},
	}
	for _, s := range steps {
		if s.level != "" {
			if err := set.Set("loglevel", s.level); err != nil {
				t.Fatal(err)
			}
		}
		if s.debug {
			logger.Debug(s.msg)
		} else {
			logger.Info(s.msg)
		}
	}
	logger.Warn("the end")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if got := strings.Contains(string(data), `msg="`+s.msg+`"`); got != s.shown {
			t.Errorf("%q logged: %v, want %v; log:\n%s", s.msg, got, s.shown, data)
		}
	}
}
