package aof

import (
	"strconv"
	"time"
)

// Field is one line of INFO persistence: Name:Value.
type Field struct {
	Name, Value string
}

// Info returns the AOF fields of INFO persistence in Redis 7.0's order and
// with its names (TestInfoFieldsMatchRedis compares them with a real
// redis-server's). aof_last_cow_size is always 0 (no fork), and
// aof_rewrite_scheduled and aof_pending_rewrite are 0 (a rewrite never
// waits for another child). Redis prints module_fork_in_progress and
// module_fork_last_cow_size between aof_last_cow_size and
// aof_current_size; they are not the log's, so the caller inserts them.
// The time the last rewrite's cut held the keyspace, which Redis has no
// field for, is LastRewritePause.
func (a *AOF) Info() []Field {
	s := &a.stats
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	status := func(failed bool) string {
		if failed {
			return "err"
		}
		return "ok"
	}
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	cur := int64(-1)
	if st := s.rewriteStart.Load(); st != 0 {
		cur = int64(time.Since(time.Unix(0, st)).Seconds())
	}
	a.mu.Lock()
	buffered := int64(len(a.buf))
	a.mu.Unlock()
	return []Field{
		{"aof_enabled", "1"},
		{"aof_rewrite_in_progress", b(s.rewriting.Load())},
		{"aof_rewrite_scheduled", "0"},
		{"aof_last_rewrite_time_sec", i(s.lastRewriteSec.Load())},
		{"aof_current_rewrite_time_sec", i(cur)},
		{"aof_last_bgrewrite_status", status(s.lastRewriteErr.Load())},
		{"aof_rewrites", i(s.rewrites.Load())},
		{"aof_rewrites_consecutive_failures", i(s.rwFailures.Load())},
		{"aof_last_write_status", status(a.Err() != nil)},
		{"aof_last_cow_size", "0"},
		{"aof_current_size", i(a.currentSize())},
		{"aof_base_size", i(s.rwBaseSize.Load())},
		{"aof_pending_rewrite", "0"},
		{"aof_buffer_length", i(buffered + s.backlog.Load())},
		{"aof_pending_bio_fsync", b(s.pendingFsync.Load())},
		{"aof_delayed_fsync", i(s.delayedFsync.Load())},
	}
}

// LastRewritePause returns the time the last rewrite's cut took, during
// which the keyspace lock was held by Source.Snapshot.
func (a *AOF) LastRewritePause() time.Duration { return time.Duration(a.stats.lastPause.Load()) }

// Rewriting reports whether a rewrite is running.
func (a *AOF) Rewriting() bool { return a.stats.rewriting.Load() }
