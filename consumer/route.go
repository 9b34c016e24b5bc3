package consumer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// The states of a route, as INFO consumer shows them.
type routeState int32

const (
	stateRunning routeState = iota // claiming and writing
	stateBackoff                   // the sink failed; retrying, claiming nothing new
	stateStopped                   // paused (consumer-enabled no) or shut down
)

func (s routeState) String() string {
	switch s {
	case stateRunning:
		return "running"
	case stateBackoff:
		return "backoff"
	}
	return "stopped"
}

// A route drains one queue into one table.
type route struct {
	c      *Consumer
	idx    int
	queue  string
	table  string
	qkey   []byte
	prefix string        // QUEUE:inflight:
	dead   []byte        // QUEUE:dead
	why    []byte        // QUEUE:dead:reasons
	notify chan struct{} // the keyspace signals pushes to the queue here

	// Counters for INFO.
	rows, batches, retries         atomic.Int64
	deadEvents                     atomic.Int64 // items this run moved to QUEUE:dead
	deadSeen                       atomic.Int64 // LLEN QUEUE:dead at the last look
	settledDropped, settledRetried atomic.Int64
	inflightBatches, inflightItems atomic.Int64
	writers, peakWriters           atomic.Int64 // batches being written now, and the most at once
	backlogSeen                    atomic.Int64 // queue length at the last look, for INFO
	behindSince                    atomic.Int64 // unix ns the queue was last seen non-empty after being empty; 0: empty

	mu      sync.Mutex
	state   routeState    // guarded by mu
	lastErr string        // guarded by mu
	healthy chan struct{} // closed unless state is backoff; guarded by mu
	lat     latencies     // guarded by mu
	// The current backoff, for its log lines; guarded by mu.
	backoffSince time.Time // when the route entered it
	lastFailure  time.Time // the latest failed attempt
	failures     int       // failed attempts since then
	reminded     time.Time // the last log line about it
}

// backoffReminder is how often a route that stays in backoff says so
// again in the log, with its current error.
const backoffReminder = 30 * time.Second

func newRoute(c *Consumer, idx int, r Route) *route {
	h := make(chan struct{})
	close(h)
	return &route{
		c:       c,
		idx:     idx,
		queue:   r.Queue,
		table:   r.Table,
		qkey:    []byte(r.Queue),
		prefix:  r.Queue + ":inflight:",
		dead:    []byte(r.Queue + ":dead"),
		why:     []byte(r.Queue + ":dead:reasons"),
		notify:  make(chan struct{}, 1),
		healthy: h,
	}
}

// A backoffNote says what a failed attempt changed in the route's
// backoff, for the caller's log line.
type backoffNote int

const (
	backoffQuiet  backoffNote = iota // still in backoff, reminded recently
	backoffEnter                     // the route just went into backoff
	backoffRemind                    // still in backoff; time to say so again
)

// setState records the route's state and, for backoff, why (one failed
// attempt). Leaving backoff for running logs the recovery: how long the
// route was in backoff, after how many failed attempts, and the backlog
// that built up meanwhile.
func (r *route) setState(s routeState, why string) backoffNote {
	now := time.Now()
	r.mu.Lock()
	note := backoffQuiet
	prev := r.state
	if s == stateBackoff {
		r.lastErr = why
		r.failures++
		r.lastFailure = now
		if prev != stateBackoff {
			r.healthy = make(chan struct{})
			r.backoffSince, r.failures, r.reminded = now, 1, now
			note = backoffEnter
		} else if now.Sub(r.reminded) >= backoffReminder {
			r.reminded = now
			note = backoffRemind
		}
	} else if prev == stateBackoff {
		close(r.healthy)
	}
	r.state = s
	since, failures := r.backoffSince, r.failures
	r.mu.Unlock()
	if prev == stateBackoff && s == stateRunning {
		r.c.log.Info(fmt.Sprintf("sink recovered after %.1fs, %d attempts, backlog %d",
			now.Sub(since).Seconds(), failures, r.backlogSeen.Load()),
			"queue", r.queue, "table", r.table)
	}
	return note
}

// succeeded records a write attempt, begun at started, that reached the
// sink. An attempt already under way at the route's latest failure proves
// nothing about the sink now (another writer's connection just broke), so
// only one begun after it ends a backoff: concurrent writers do not flap
// the route's state and its log lines during an outage.
func (r *route) succeeded(started time.Time) {
	r.mu.Lock()
	stale := r.state == stateBackoff && started.Before(r.lastFailure)
	r.mu.Unlock()
	if !stale {
		r.setState(stateRunning, "")
	}
}

// backoffFor returns how long the route has been in backoff and how many
// attempts failed meanwhile (zero when it is not in backoff).
func (r *route) backoffFor(now time.Time) (time.Duration, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != stateBackoff {
		return 0, 0
	}
	return now.Sub(r.backoffSince), r.failures
}

// waitHealthy blocks while the route is in backoff: a batch is retrying,
// and claiming more would only pile up batches the sink can't take.
func (r *route) waitHealthy(ctx context.Context) bool {
	r.mu.Lock()
	h := r.healthy
	r.mu.Unlock()
	select {
	case <-h:
		return true
	case <-ctx.Done():
		return false
	}
}

// run settles what a previous run left in flight, then claims and writes
// batches until ctx ends.
func (r *route) run(ctx, wctx context.Context, sink Sink) {
	c := r.c
	c.ks.Subscribe(c.db, r.qkey, r.notify)
	defer c.ks.Unsubscribe(c.db, r.qkey, r.notify)
	defer r.setState(stateStopped, "")

	recovered, ok := r.settle(ctx, sink)
	if !ok {
		return
	}
	r.setState(stateRunning, "")
	for _, b := range recovered {
		if !r.dispatch(ctx, wctx, sink, b) {
			return
		}
	}
	claimFailing := false // the backoff is the claim's own (WRONGTYPE at the queue)
	for {
		if !c.waitEnabled(ctx) || !claimFailing && !r.waitHealthy(ctx) {
			return
		}
		want := c.batchSize.Load()
		n := r.backlog()
		if n == 0 {
			select {
			case <-r.notify:
			case <-ctx.Done():
				return
			}
			continue
		}
		if d := time.Duration(c.linger.Load()); n < want && d > 0 {
			r.linger(ctx, want, d)
		}
		if !c.acquire(ctx) {
			return
		}
		b, err := r.claim(int(want))
		if err != nil {
			c.release()
			// The queue key holds a string, say: nothing to do but
			// wait for someone to fix it.
			if r.setState(stateBackoff, err.Error()) != backoffQuiet {
				c.log.Error("route in backoff: cannot claim from queue", "queue", r.queue, "err", err)
			}
			claimFailing = true
			if !sleepCtx(ctx, c.retryMaxDur()) {
				return
			}
			continue
		}
		if claimFailing {
			claimFailing = false
			r.setState(stateRunning, "")
		}
		if b == nil {
			c.release()
			continue
		}
		r.start(ctx, wctx, sink, b)
	}
}

// dispatch takes a writer slot and starts writing b.
func (r *route) dispatch(ctx, wctx context.Context, sink Sink, b *batch) bool {
	if !r.c.acquire(ctx) {
		return false
	}
	r.start(ctx, wctx, sink, b)
	return true
}

// start writes b, which holds a slot: inline with StrictOrder (the next
// claim waits for it), otherwise in its own goroutine.
func (r *route) start(ctx, wctx context.Context, sink Sink, b *batch) {
	if r.c.strict {
		r.process(ctx, wctx, sink, b)
		r.c.release()
		return
	}
	r.c.wg.Go(func() {
		defer r.c.release()
		r.process(ctx, wctx, sink, b)
	})
}

// linger waits up to d for the queue to hold want items.
func (r *route) linger(ctx context.Context, want int64, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for r.backlog() < want {
		select {
		case <-r.notify:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// backlog returns the queue's length. It also looks at the dead letters'
// list, for INFO.
func (r *route) backlog() int64 {
	tx := r.c.ks.Begin()
	n, _ := tx.Len(r.c.db, r.qkey)
	dead, _ := tx.Len(r.c.db, r.dead)
	tx.End()
	r.backlogSeen.Store(n)
	r.deadSeen.Store(dead)
	switch {
	case n == 0:
		r.behindSince.Store(0)
	case r.behindSince.Load() == 0:
		r.behindSince.Store(time.Now().UnixNano())
	}
	return n
}

// unreachableRetryMax caps the backoff while the sink is unreachable
// (connection refused or lost, server restarting: the retryable errors).
// Such a retry is one connection attempt, as cheap as a ping, and the cap
// is what lets draining resume within about a second of the database
// coming back, instead of after a RetryMax (30 s by default) sleep begun
// during the outage. Errors that wait for a person (a missing table or
// privilege) keep the full schedule.
const unreachableRetryMax = time.Second

// retryDelay returns the delay before retry number attempt (1-based)
// after err: backoff, capped at unreachableRetryMax when err is
// retryable.
func (c *Consumer) retryDelay(attempt int, err error) time.Duration {
	d := c.backoff(attempt)
	if IsRetryable(err) && d > unreachableRetryMax {
		d = unreachableRetryMax/2 + rand.N(unreachableRetryMax/2+1)
	}
	return d
}

// backoff returns the delay before retry number attempt (1-based):
// RetryMin doubling up to RetryMax, with "equal jitter" (half fixed, half
// random) so that writers failing together do not retry together.
func (c *Consumer) backoff(attempt int) time.Duration {
	lo, hi := c.retryMin.Load(), c.retryMax.Load()
	d := hi
	if attempt < 40 && lo<<(attempt-1) < hi && lo<<(attempt-1) > 0 {
		d = lo << (attempt - 1)
	}
	return time.Duration(d/2 + rand.Int64N(d/2+1))
}

func (c *Consumer) retryMaxDur() time.Duration { return time.Duration(c.retryMax.Load()) }

// latencies keeps the most recent batch latencies for the percentiles.
type latencies struct {
	ring [1024]time.Duration
	n    int // samples recorded, may exceed len(ring)
}

func (l *latencies) add(d time.Duration) {
	l.ring[l.n%len(l.ring)] = d
	l.n++
}

func (l *latencies) samples() []time.Duration {
	return append([]time.Duration(nil), l.ring[:min(l.n, len(l.ring))]...)
}
