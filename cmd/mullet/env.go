package main

import (
	"strings"

	"mullet/config"
)

// envDirectives are the directives that may come from the environment, so
// that secrets stay off command lines (ps, make's echo) and configuration
// files. An entry applies only if this build has the directive (a sink
// compiled out leaves its variable unused, reported at start-up).
var envDirectives = []struct{ env, directive string }{
	{"MULLET_MYSQL_DSN", "consumer-mysql-dsn"},
	{"MULLET_POSTGRES_DSN", "consumer-postgres-dsn"},
}

// applyEnv sets the directives of envDirectives whose variable is set and
// not empty, unless a --flag named the directive (the flag wins; the
// environment wins over the file). CONFIG REWRITE never writes them into
// the file. It returns the variables it had to ignore, for the log.
func applyEnv(set *config.Config, overrides [][]string, getenv func(string) string) (ignored []string, err error) {
	for _, e := range envDirectives {
		v := getenv(e.env)
		if v == "" {
			continue
		}
		d, ok := config.Describe(e.directive)
		if !ok {
			ignored = append(ignored, e.env)
			continue
		}
		if flagged(overrides, d.Name) {
			continue
		}
		if err := set.SetExternal(d.Name, v); err != nil {
			return nil, err
		}
	}
	return ignored, nil
}

// flagged reports whether overrides set the directive name.
func flagged(overrides [][]string, name string) bool {
	for _, o := range overrides {
		if len(o) > 0 {
			if d, ok := config.Describe(o[0]); ok && strings.EqualFold(d.Name, name) {
				return true
			}
		}
	}
	return false
}
