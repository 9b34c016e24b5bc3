package config

import (
	"fmt"
	"math"
	"slices"
	"time"

	"mullet/internal/redisc"
)

// The typed accessors components read their settings with. They are
// cheap enough for hot paths: a map lookup of the name and an atomic
// load of the current snapshot, with every value parsed when it was set.
// Each call reads one snapshot; use MatchAll to read several directives
// from the same one.

// value returns a directive and its current value; it panics on an
// unknown name, which is a programming error the first test run catches.
func (c *Config) value(name string) (*directive, val) {
	e := mustLookup(name)
	return &table[e.idx], c.load().vals[e.idx]
}

// String returns a directive's value as CONFIG GET shows it. The typed
// accessors below panic if name is not a directive.
func (c *Config) String(name string) string {
	_, v := c.value(name)
	return v.get
}

// Int returns an integer directive's value; for bool directives 1 or 0,
// for enums the value's index. Unsigned values above math.MaxInt64
// (maxmemory can hold one) come back negative: use Size for those.
func (c *Config) Int(name string) int64 {
	d, v := c.value(name)
	if d.kind == kString {
		n, _ := redisc.String2ll(v.s)
		return n
	}
	return v.n
}

// Size returns a size directive's value in bytes, saturating at
// math.MaxInt64. A percentage (maxmemory-clients 10%) is returned as
// its negation (-10), as Redis stores it.
func (c *Config) Size(name string) int64 {
	d, v := c.value(name)
	if d.nf&nUnsigned != 0 && v.n < 0 {
		return math.MaxInt64
	}
	return v.n
}

// Bool returns a yes/no directive's value; for other directives, whether
// the value is "yes".
func (c *Config) Bool(name string) bool {
	d, v := c.value(name)
	if d.kind == kBool {
		return v.n != 0
	}
	return v.get == "yes"
}

// Strings returns a multi-valued directive as a list: one entry per
// consumer-route ("QUEUE TABLE"), per save point ("SECONDS CHANGES"), per
// bind address or percentile. A single-valued directive gives its value
// alone, or nil when it is empty.
func (c *Config) Strings(name string) []string {
	d, v := c.value(name)
	switch d.sp {
	case spRoute:
		out := make([]string, 0, len(v.list)/2)
		for i := 0; i+1 < len(v.list); i += 2 {
			out = append(out, v.list[i]+" "+v.list[i+1])
		}
		return out
	case spSave:
		out := make([]string, 0, len(v.nums)/2)
		for i := 0; i+1 < len(v.nums); i += 2 {
			out = append(out, fmt.Sprintf("%d %d", v.nums[i], v.nums[i+1]))
		}
		return out
	case spBind, spPercentiles:
		return slices.Clone(v.list)
	}
	if v.get == "" {
		return nil
	}
	return []string{v.get}
}

// Duration returns a directive measured in time (its unit is ms, s or us
// in Directives) as a time.Duration. It panics for other directives.
func (c *Config) Duration(name string) time.Duration {
	d, v := c.value(name)
	switch d.unit {
	case "ms":
		return time.Duration(v.n) * time.Millisecond
	case "s":
		return time.Duration(v.n) * time.Second
	case "us":
		return time.Duration(v.n) * time.Microsecond
	}
	panic(fmt.Sprintf("config: %s is not a duration", d.name))
}

// Route is one consumer-route: items of list Queue go to table Table.
type Route struct {
	Queue string
	Table string
}

// Routes returns the consumer routes in the order they were configured.
func (c *Config) Routes() []Route {
	_, v := c.value("consumer-route")
	out := make([]Route, 0, len(v.list)/2)
	for i := 0; i+1 < len(v.list); i += 2 {
		out = append(out, Route{Queue: v.list[i], Table: v.list[i+1]})
	}
	return out
}

// SavePoint is one save rule: snapshot after Seconds if at least Changes
// writes happened.
type SavePoint struct {
	Seconds int64
	Changes int
}

// SavePoints returns the save rules; none means snapshots are off.
func (c *Config) SavePoints() []SavePoint {
	_, v := c.value("save")
	out := make([]SavePoint, 0, len(v.nums)/2)
	for i := 0; i+1 < len(v.nums); i += 2 {
		out = append(out, SavePoint{Seconds: v.nums[i], Changes: int(v.nums[i+1])})
	}
	return out
}

// OutputBufferLimit is one class's client-output-buffer-limit: a client
// is disconnected when its pending replies exceed Hard bytes, or stay
// above Soft bytes for Seconds. Zero means no limit.
type OutputBufferLimit struct {
	Hard, Soft uint64
	Seconds    int64
}

// ClientOutputBufferLimit returns the limit of a client class: normal,
// replica (or slave) or pubsub.
func (c *Config) ClientOutputBufferLimit(class string) (OutputBufferLimit, bool) {
	i := obufClass(class)
	if i < 0 {
		return OutputBufferLimit{}, false
	}
	_, v := c.value("client-output-buffer-limit")
	return OutputBufferLimit{Hard: uint64(v.nums[3*i]), Soft: uint64(v.nums[3*i+1]), Seconds: v.nums[3*i+2]}, true
}
