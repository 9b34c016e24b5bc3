package consumer

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
)

// settle resolves the batches a previous run left in flight: every key
// QUEUE:inflight:ID still in the keyspace was claimed (durably, or the
// key would not have been replayed) and maybe written. The ledger knows:
// a recorded ID committed, so its key is deleted; any other batch is
// returned, oldest first, to be written again under the same ID. It
// retries the sink with backoff and returns false only if ctx ends.
//
// Settlement runs before the route claims anything, so with StrictOrder
// the recovered batches are written before newer items.
func (r *route) settle(ctx context.Context, sink Sink) ([]*batch, bool) {
	c := r.c
	tx := c.ks.Begin()
	keys := tx.Keys(c.db, []byte(globEscape(r.prefix)+"*"), nil)
	tx.End()
	if len(keys) == 0 {
		return nil, true
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		id := strings.TrimPrefix(string(k), r.prefix)
		if id == "" || len(id) > MaxBatchIDLen {
			c.log.Warn("ignoring a key in the in-flight namespace that cannot be a batch", "key", string(k))
			continue
		}
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareIDs)

	var committed map[string]bool
	for attempt := 1; ; attempt++ {
		m, err := sink.Committed(ctx, ids)
		if err == nil {
			committed = m
			break
		}
		if ctx.Err() != nil {
			return nil, false
		}
		r.fail(err)
		if !sleepCtx(ctx, c.retryDelay(attempt, err)) {
			return nil, false
		}
	}

	var out []*batch
	var dropped int
	for _, id := range ids {
		if committed[id] {
			tx := c.ks.Begin()
			tx.Del(c.db, [][]byte{[]byte(r.prefix + id)})
			c.pruner.add(id, tx.End())
			dropped++
			continue
		}
		if b := r.load(id); b != nil {
			out = append(out, b)
		}
	}
	r.settledDropped.Add(int64(dropped))
	r.settledRetried.Add(int64(len(out)))
	c.log.Info("settled in-flight batches of a previous run", "queue", r.queue,
		"committed_dropped", dropped, "to_write", len(out))
	return out, true
}

// compareIDs orders batch IDs by claim: BOOT-SEQ with BOOT = TIME-RANDOM,
// TIME in base 36, compared as numbers. IDs of another shape sort after,
// by text.
func compareIDs(a, b string) int {
	ta, sa, oka := splitID(a)
	tb, sb, okb := splitID(b)
	switch {
	case oka && okb:
		if c := cmp.Compare(ta, tb); c != 0 {
			return c
		}
		if c := cmp.Compare(sa, sb); c != 0 {
			return c
		}
	case oka:
		return -1
	case okb:
		return 1
	}
	return strings.Compare(a, b)
}

func splitID(id string) (time int64, seq uint64, ok bool) {
	parts := strings.Split(id, "-")
	if len(parts) != 3 {
		return 0, 0, false
	}
	t, err1 := strconv.ParseInt(parts[0], 36, 64)
	s, err2 := strconv.ParseUint(parts[2], 10, 64)
	return t, s, err1 == nil && err2 == nil
}

// globEscape quotes the glob metacharacters of s for KEYS.
func globEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
