package consumer

import (
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RouteStats describes one route at one moment.
type RouteStats struct {
	Queue, Table string
	// State is "running", "backoff" (the sink failed; retrying, not
	// claiming) or "stopped" (paused by consumer-enabled no, or shut down).
	State string
	// LastError is the error behind the latest backoff ("" if none yet).
	LastError string
	// Rows and Batches committed since start.
	Rows, Batches int64
	// LatencyP50 and LatencyP99 are percentiles of the time from claim to
	// commit of the last 1024 batches (zero before the first).
	LatencyP50, LatencyP99 time.Duration
	// Retries counts failed write attempts that were retried.
	Retries int64
	// DeadLetters is the number of items in QUEUE:dead now (its LLEN, as
	// seen at most backlogEvery ago): what waits for a person.
	DeadLetters int64
	// DeadLetterEvents counts items this run moved to QUEUE:dead; an item
	// requeued and dead again counts twice.
	DeadLetterEvents int64
	// Backlog is the queue's length (LLEN QUEUE): items not yet claimed,
	// as seen at most backlogEvery ago. (Stats and Info never take the
	// keyspace lock: the server may call Info inside a command's Tx.)
	Backlog int64
	// Lag is how long the queue has held unclaimed items without once
	// being empty (0 when the consumer keeps up): items carry no
	// timestamp, but every item waiting arrived after the queue was last
	// empty, so no item has waited longer than Lag.
	Lag time.Duration
	// InflightBatches and InflightItems are claimed, not yet committed.
	InflightBatches, InflightItems int64
	// SettledDropped and SettledRetried count batches found in flight at
	// start: already committed (key deleted), or written again.
	SettledDropped, SettledRetried int64
	// PeakWriters is the most batches of this route written at once.
	PeakWriters int64
}

// PoolStats describes the writer pool.
type PoolStats struct {
	Size int // PoolSize: the most connections the sink may open
	// For MySQL, from sql.DB.Stats: connections open, in use and idle, and
	// how often a writer waited for one. For bbolt (no connections), InUse
	// is the writer slots taken and Idle the free ones.
	Open, InUse, Idle int
	WaitCount         int64
}

// Stats returns the state of every route, in configuration order. It does
// not take the keyspace lock.
func (c *Consumer) Stats() []RouteStats {
	stopped := c.isStopped() || !c.Enabled()
	out := make([]RouteStats, 0, len(c.routes))
	for _, r := range c.routes {
		r.mu.Lock()
		st := RouteStats{Queue: r.queue, Table: r.table, State: r.state.String(), LastError: r.lastErr}
		lat := r.lat.samples()
		r.mu.Unlock()
		if stopped && st.State == "running" {
			st.State = "stopped"
		}
		if len(lat) > 0 {
			slices.Sort(lat)
			st.LatencyP50 = lat[(len(lat)-1)*50/100]
			st.LatencyP99 = lat[(len(lat)-1)*99/100]
		}
		st.Rows, st.Batches = r.rows.Load(), r.batches.Load()
		st.Retries, st.DeadLetters, st.DeadLetterEvents = r.retries.Load(), r.deadSeen.Load(), r.deadEvents.Load()
		st.Backlog = r.backlogSeen.Load()
		if since := r.behindSince.Load(); since != 0 && st.Backlog > 0 {
			st.Lag = time.Since(time.Unix(0, since))
		}
		st.InflightBatches, st.InflightItems = r.inflightBatches.Load(), r.inflightItems.Load()
		st.SettledDropped, st.SettledRetried = r.settledDropped.Load(), r.settledRetried.Load()
		st.PeakWriters = r.peakWriters.Load()
		out = append(out, st)
	}
	return out
}

// Pool returns the writer pool's statistics.
func (c *Consumer) Pool() PoolStats {
	ps := PoolStats{Size: c.pool}
	c.sinkMu.Lock()
	s := c.sink
	c.sinkMu.Unlock()
	if st, ok := s.(interface{ Stats() sql.DBStats }); ok {
		db := st.Stats()
		ps.Open, ps.InUse, ps.Idle, ps.WaitCount = db.OpenConnections, db.InUse, db.Idle, db.WaitCount
		return ps
	}
	ps.InUse = len(c.slots)
	ps.Idle = c.pool - ps.InUse
	return ps
}

func (c *Consumer) isStopped() bool {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	return c.stopped
}

// Info writes the INFO consumer section, one field per add call, in the
// shape of Redis's keyspace section: one line per route, its values as
// comma-separated key=value pairs. Milliseconds are decimals. It does not
// take the keyspace lock, so the server may call it inside a Tx.
//
//	consumer_enabled:1
//	consumer_sink:mysql
//	consumer_pool_size:10
//	consumer_pool_in_use:2
//	consumer_pool_idle:8
//	consumer_ledger_unpruned:0
//	consumer_routes:1
//	route0:queue=order_queue,table=orders,state=running,rows=1500,batches=3,...
func (c *Consumer) Info(add func(name, value string)) {
	c.sinkMu.Lock()
	kind, sinkErr := c.sinkKind, c.sinkErr
	c.sinkMu.Unlock()
	if kind == "" {
		kind = "none" // not open (yet)
	}
	add("consumer_enabled", boolInt(c.Enabled()))
	add("consumer_sink", kind)
	if sinkErr != "" {
		add("consumer_sink_error", oneLine(sinkErr))
	}
	ps := c.Pool()
	add("consumer_pool_size", strconv.Itoa(ps.Size))
	add("consumer_pool_open", strconv.Itoa(ps.Open))
	add("consumer_pool_in_use", strconv.Itoa(ps.InUse))
	add("consumer_pool_idle", strconv.Itoa(ps.Idle))
	add("consumer_pool_wait_count", strconv.FormatInt(ps.WaitCount, 10))
	add("consumer_batch_size", strconv.FormatInt(c.batchSize.Load(), 10))
	add("consumer_linger_ms", ms(time.Duration(c.linger.Load())))
	add("consumer_strict_order", boolInt(c.strict))
	unpruned, pruneErr := c.pruner.status()
	add("consumer_ledger_unpruned", strconv.FormatInt(unpruned, 10))
	if pruneErr != "" {
		add("consumer_ledger_prune_error", oneLine(pruneErr))
	}
	stats := c.Stats()
	add("consumer_routes", strconv.Itoa(len(stats)))
	for i, st := range stats {
		v := fmt.Sprintf("queue=%s,table=%s,state=%s,rows=%d,batches=%d,latency_p50_ms=%s,latency_p99_ms=%s,"+
			"retries=%d,dead_letters=%d,dead_letter_events=%d,backlog=%d,lag_ms=%s,inflight_batches=%d,inflight_items=%d,settled_dropped=%d,settled_retried=%d",
			st.Queue, st.Table, st.State, st.Rows, st.Batches, ms(st.LatencyP50), ms(st.LatencyP99),
			st.Retries, st.DeadLetters, st.DeadLetterEvents, st.Backlog, ms(st.Lag), st.InflightBatches, st.InflightItems, st.SettledDropped, st.SettledRetried)
		add("route"+strconv.Itoa(i), v)
		if st.LastError != "" && st.State == "backoff" {
			add("route"+strconv.Itoa(i)+"_last_error", oneLine(st.LastError))
		}
	}
}

func boolInt(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// oneLine keeps an error message from breaking INFO's line format.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
