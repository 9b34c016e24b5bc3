// Package config holds mullet's directives: the redis.conf-style file, the
// --directive flags that override it, typed access for the components, and
// CONFIG GET/SET at run time.
//
// STUB: the API is fixed; the implementation below is minimal and is being
// replaced by the full directive table.
package config

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Config is the set of directive values. It is safe for concurrent use.
type Config struct {
	mu    sync.RWMutex
	vals  map[string][]string // directive -> args (joined by spaces when read)
	hooks map[string][]func(value string) error
}

// New returns a Config holding every directive's default.
func New() *Config {
	c := &Config{vals: map[string][]string{}, hooks: map[string][]func(string) error{}}
	for k, v := range defaults {
		c.vals[k] = []string{v}
	}
	return c
}

var defaults = map[string]string{
	"bind": "127.0.0.1 -::1", "port": "6379", "dir": ".", "requirepass": "",
	"databases": "16", "appendonly": "yes", "appendfsync": "everysec",
	"maxmemory": "0", "maxmemory-policy": "noeviction", "timeout": "0",
	"maxclients": "10000", "proto-max-bulk-len": "536870912",
	"client-query-buffer-limit": "1073741824", "protected-mode": "yes",
	"slowlog-log-slower-than": "10000", "slowlog-max-len": "128",
	"tcp-keepalive": "300", "loglevel": "notice", "logfile": "",
	"appenddirname": "appendonlydir", "appendfilename": "appendonly.aof",
}

// Load reads file (if not empty) in redis.conf syntax, then applies
// overrides (each a directive name followed by its arguments, as given on
// the command line: the flag wins). Errors name the file, line and reason.
func (c *Config) Load(file string, overrides [][]string) error {
	for _, o := range overrides {
		if err := c.SetArgs(o[0], o[1:]); err != nil {
			return fmt.Errorf("--%s: %w", o[0], err)
		}
	}
	return nil
}

// SetArgs sets one directive from a config line or flag.
func (c *Config) SetArgs(name string, args []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.vals[strings.ToLower(name)] = []string{strings.Join(args, " ")}
	return nil
}

// Get returns a directive's value as CONFIG GET shows it.
func (c *Config) Get(name string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.vals[strings.ToLower(name)]
	if !ok {
		return "", false
	}
	return strings.Join(v, " "), true
}

// Match returns name/value pairs for directives matching a CONFIG GET
// glob pattern, in a stable order.
func (c *Config) Match(pattern string) [][2]string {
	v, ok := c.Get(pattern)
	if !ok {
		return nil
	}
	return [][2]string{{pattern, v}}
}

// Set applies CONFIG SET name value [name value ...] atomically: every
// value is validated first; on error nothing changes and the error's text
// is Redis's (without the "ERR " prefix).
func (c *Config) Set(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		c.mu.Lock()
		c.vals[strings.ToLower(pairs[i])] = []string{pairs[i+1]}
		hooks := c.hooks[strings.ToLower(pairs[i])]
		c.mu.Unlock()
		for _, h := range hooks {
			if err := h(pairs[i+1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// OnChange registers fn to run after CONFIG SET changes name.
func (c *Config) OnChange(name string, fn func(value string) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hooks[name] = append(c.hooks[name], fn)
}

// String returns a directive's value.
func (c *Config) String(name string) string { v, _ := c.Get(name); return v }

// Int returns an integer directive's value.
func (c *Config) Int(name string) int64 {
	n, _ := strconv.ParseInt(c.String(name), 10, 64)
	return n
}

// Size returns a size directive's value in bytes.
func (c *Config) Size(name string) int64 { return c.Int(name) }

// Bool returns a yes/no directive's value.
func (c *Config) Bool(name string) bool { return c.String(name) == "yes" }

// Strings returns every value of a repeatable directive (consumer-route),
// one entry per occurrence.
func (c *Config) Strings(name string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]string(nil), c.vals[name]...)
}

// ParseArgs splits redis-server style arguments: an optional config file,
// then --name value... groups.
func ParseArgs(args []string) (file string, overrides [][]string, err error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		file, args = args[0], args[1:]
	}
	for _, a := range args {
		if strings.HasPrefix(a, "--") {
			overrides = append(overrides, []string{a[2:]})
			continue
		}
		if len(overrides) == 0 {
			return "", nil, fmt.Errorf("unexpected argument %q", a)
		}
		overrides[len(overrides)-1] = append(overrides[len(overrides)-1], a)
	}
	return file, overrides, nil
}

// Usage lists every directive.
func Usage() string { return "" }
