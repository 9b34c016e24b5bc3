package consumer

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mullet/queue"
)

// A Route sends the items of one queue to one table.
type Route struct {
	Queue string // list key, in database Config.DB
	Table string // destination table; see CheckName
}

// Config configures a Consumer. Start from DefaultConfig; the zero values
// of the numeric fields are invalid, not defaults.
type Config struct {
	// Routes are the queues to drain, at most one route per queue.
	Routes []Route
	// DB is the database holding the queues (redis-cli's default is 0).
	DB int
	// OpenSink opens the sink. The consumer calls it from its own
	// goroutine and retries with backoff until it succeeds, so a database
	// that is down at start-up delays draining, not the server. The
	// consumer closes the sink in Stop.
	OpenSink func(ctx context.Context) (Sink, error)
	// PoolSize is the most batches written at once, across all routes. For
	// the MySQL sink it should equal the sink's pool, so MySQL never sees
	// more connections from mullet than this.
	PoolSize int
	// BatchSize is the most items in one batch (one sink transaction).
	BatchSize int
	// Linger is how long a partial batch waits for more items before it is
	// claimed. 0 claims whatever is there at once.
	Linger time.Duration
	// RetryMin and RetryMax bound the backoff between retries of a failed
	// write: RetryMin, doubling per failure, up to RetryMax, with jitter.
	RetryMin, RetryMax time.Duration
	// StrictOrder writes one batch at a time per route, so rows commit in
	// queue order.
	StrictOrder bool
	// Disabled starts the consumer paused (consumer-enabled no); see
	// SetEnabled.
	Disabled bool
	// Logger receives state changes and errors; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the defaults of the consumer-* directives: pool of
// 10, batches of 500, 5 ms linger, retries from 100 ms to 30 s.
func DefaultConfig() Config {
	return Config{
		PoolSize:  10,
		BatchSize: 500,
		Linger:    5 * time.Millisecond,
		RetryMin:  100 * time.Millisecond,
		RetryMax:  30 * time.Second,
	}
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.OpenSink == nil:
		return errors.New("consumer: Config.OpenSink is required")
	case c.PoolSize < 1:
		return fmt.Errorf("consumer: pool size must be at least 1, got %d", c.PoolSize)
	case c.BatchSize < 1:
		return fmt.Errorf("consumer: batch size must be at least 1, got %d", c.BatchSize)
	case c.Linger < 0:
		return fmt.Errorf("consumer: linger must not be negative, got %v", c.Linger)
	case c.RetryMin <= 0 || c.RetryMax < c.RetryMin:
		return fmt.Errorf("consumer: need 0 < retry min (%v) <= retry max (%v)", c.RetryMin, c.RetryMax)
	case c.DB < 0:
		return fmt.Errorf("consumer: database %d", c.DB)
	}
	seen := map[string]bool{}
	for _, r := range c.Routes {
		for _, o := range c.Routes {
			// Settlement finds a route's batches by the prefix
			// QUEUE:inflight:, so no other queue may live under it.
			if o.Queue != r.Queue && (strings.HasPrefix(o.Queue, r.Queue+":inflight:") || strings.HasPrefix(o.Queue, r.Queue+":dead")) {
				return fmt.Errorf("consumer: queue %s is inside the key space of queue %s (its batches or dead letters)", shortQuote(o.Queue), shortQuote(r.Queue))
			}
		}
		if r.Queue == "" {
			return errors.New("consumer: route with an empty queue name")
		}
		if reason := CheckName(r.Table); reason != "" {
			return fmt.Errorf("consumer: route %s: table %s: %s", shortQuote(r.Queue), shortQuote(r.Table), reason)
		}
		if seen[r.Queue] {
			return fmt.Errorf("consumer: queue %s is routed twice", shortQuote(r.Queue))
		}
		seen[r.Queue] = true
	}
	return nil
}

// Consumer drains the routed queues into the sink. Its methods are safe
// for concurrent use.
type Consumer struct {
	ks     *queue.Keyspace
	db     int
	open   func(context.Context) (Sink, error)
	strict bool
	log    *slog.Logger
	pool   int
	routes []*route

	// Settings that CONFIG SET may change while running.
	batchSize atomic.Int64
	linger    atomic.Int64 // ns
	retryMin  atomic.Int64 // ns
	retryMax  atomic.Int64 // ns

	boot string        // batch ID prefix of this run
	seq  atomic.Uint64 // last batch number

	slots chan struct{} // writer slots: a batch holds one while written

	gateMu  sync.Mutex
	enabled bool          // guarded by gateMu
	resume  chan struct{} // closed (and replaced) when enabled turns on; guarded by gateMu

	sinkMu   sync.Mutex
	sink     Sink   // nil until opened; guarded by sinkMu
	sinkKind string // "mysql", "postgres", "bbolt" or another type's name; guarded by sinkMu
	sinkErr  string // last error opening it; guarded by sinkMu

	pruner pruner

	lifeMu      sync.Mutex
	started     bool
	stopped     bool
	cancel      context.CancelFunc // ends claims, backoffs and syncs
	cancelWrite context.CancelFunc // aborts sink writes in progress
	runDone     chan struct{}
	wg          sync.WaitGroup // every goroutine the consumer starts
}

// New returns a consumer of the queues in ks; call Start to run it.
func New(ks *queue.Keyspace, cfg Config) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.DB >= ks.Databases() {
		return nil, fmt.Errorf("consumer: database %d: %w", cfg.DB, queue.ErrDBIndex)
	}
	c := &Consumer{
		ks:      ks,
		db:      cfg.DB,
		open:    cfg.OpenSink,
		strict:  cfg.StrictOrder,
		log:     cfg.Logger,
		pool:    cfg.PoolSize,
		slots:   make(chan struct{}, cfg.PoolSize),
		enabled: !cfg.Disabled,
		resume:  make(chan struct{}),
		boot:    bootID(time.Now()),
		runDone: make(chan struct{}),
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("component", "consumer")
	c.SetBatchSize(cfg.BatchSize)
	c.SetLinger(cfg.Linger)
	c.SetRetry(cfg.RetryMin, cfg.RetryMax)
	for i, r := range cfg.Routes {
		c.routes = append(c.routes, newRoute(c, i, r))
	}
	c.pruner.init(c)
	return c, nil
}

// bootID is the prefix that makes this run's batch IDs unique: the time
// in base 36 (so IDs of later runs sort later) and 32 random bits (two
// processes started in the same millisecond).
func bootID(now time.Time) string {
	var r [4]byte
	rand.Read(r[:])
	return strconv.FormatInt(now.UnixMilli(), 36) + "-" + strconv.FormatUint(uint64(binary.BigEndian.Uint32(r[:])), 36)
}

// nextID returns a new batch ID.
func (c *Consumer) nextID() string {
	return c.boot + "-" + strconv.FormatUint(c.seq.Add(1), 10)
}

// SetBatchSize changes the most items per batch (consumer-batch-size);
// batches already claimed keep their size.
func (c *Consumer) SetBatchSize(n int) { c.batchSize.Store(int64(max(n, 1))) }

// SetLinger changes how long a partial batch waits (consumer-linger).
func (c *Consumer) SetLinger(d time.Duration) { c.linger.Store(int64(max(d, 0))) }

// SetRetry changes the backoff bounds (consumer-retry-min/-max).
func (c *Consumer) SetRetry(lo, hi time.Duration) {
	lo = max(lo, time.Millisecond)
	c.retryMin.Store(int64(lo))
	c.retryMax.Store(int64(max(hi, lo)))
}

// SetEnabled pauses (false) or resumes the consumer (consumer-enabled).
// Paused, it claims nothing; batches already claimed are still written.
func (c *Consumer) SetEnabled(on bool) {
	c.gateMu.Lock()
	defer c.gateMu.Unlock()
	if on == c.enabled {
		return
	}
	c.enabled = on
	if on {
		close(c.resume)
		c.resume = make(chan struct{})
	}
}

// Enabled reports whether the consumer is claiming.
func (c *Consumer) Enabled() bool {
	c.gateMu.Lock()
	defer c.gateMu.Unlock()
	return c.enabled
}

// waitEnabled blocks while the consumer is paused; false if ctx ended.
func (c *Consumer) waitEnabled(ctx context.Context) bool {
	for {
		c.gateMu.Lock()
		on, ch := c.enabled, c.resume
		c.gateMu.Unlock()
		if on {
			return ctx.Err() == nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// Start opens the sink (retrying in the background) and starts draining.
// It returns at once. Start after Stop, or twice, does nothing.
func (c *Consumer) Start() {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.started || c.stopped {
		return
	}
	c.started = true
	ctx, cancel := context.WithCancel(context.Background())
	// Writes outlive ctx: at Stop a batch being written gets until Stop's
	// own deadline to commit, rather than being cut off mid-transaction.
	wctx, wcancel := context.WithCancel(context.Background())
	c.cancel, c.cancelWrite = cancel, wcancel
	c.wg.Go(func() {
		defer close(c.runDone)
		c.run(ctx, wctx)
	})
}

// Stop stops claiming, lets batches being written finish until ctx is
// done, then aborts them, waits for every goroutine and closes the sink.
// An abandoned batch keeps its batch key and is settled at the next start:
// nothing is lost or written twice. Stop returns ctx's error if it had to
// abort writes.
func (c *Consumer) Stop(ctx context.Context) error {
	c.lifeMu.Lock()
	if c.stopped {
		c.lifeMu.Unlock()
		return nil
	}
	c.stopped = true
	started := c.started
	c.lifeMu.Unlock()
	if !started {
		return nil
	}
	c.cancel()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		c.cancelWrite()
		<-done
	}
	c.cancelWrite()
	c.sinkMu.Lock()
	sink := c.sink
	c.sinkMu.Unlock()
	if sink != nil {
		if ctx.Err() == nil {
			// Acknowledgements made while stopping leave the ledger now
			// rather than as orphans.
			c.pruner.flush(ctx, sink)
		}
		if cerr := sink.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

// run opens the sink, then runs the routes and the ledger pruner until
// ctx ends.
func (c *Consumer) run(ctx, wctx context.Context) {
	if len(c.routes) == 0 {
		return // nothing to drain: don't even lock sink.db
	}
	c.wg.Go(func() { c.watchBacklog(ctx) })
	sink, ok := c.openSink(ctx)
	if !ok {
		return
	}
	c.wg.Go(func() { c.pruner.run(ctx, sink) })
	for _, r := range c.routes {
		c.wg.Go(func() { r.run(ctx, wctx, sink) })
	}
}

// backlogEvery is how often INFO's backlog figures are refreshed when the
// routes are not looking at their queues themselves (paused, in backoff).
const backlogEvery = 500 * time.Millisecond

// watchBacklog refreshes every route's backlog figure until ctx ends.
func (c *Consumer) watchBacklog(ctx context.Context) {
	t := time.NewTicker(backlogEvery)
	defer t.Stop()
	for {
		for _, r := range c.routes {
			r.backlog()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// openSink calls OpenSink until it succeeds or ctx ends, with backoff.
func (c *Consumer) openSink(ctx context.Context) (Sink, bool) {
	for attempt := 1; ; attempt++ {
		s, err := c.open(ctx)
		if err == nil {
			c.sinkMu.Lock()
			c.sink, c.sinkErr = s, ""
			c.sinkKind = sinkKind(s)
			c.sinkMu.Unlock()
			c.log.Info("sink open", "sink", sinkKind(s), "routes", len(c.routes))
			if pd, ok := s.(interface{ PruneDenied() error }); ok && pd.PruneDenied() != nil {
				c.pruner.refuse(pd.PruneDenied())
				c.log.Warn("the ledger will not be pruned: it grows by one row per batch until this is fixed",
					"err", pd.PruneDenied())
			}
			return s, true
		}
		c.sinkMu.Lock()
		changed := c.sinkErr != err.Error()
		c.sinkErr = err.Error()
		c.sinkMu.Unlock()
		note := backoffQuiet
		for _, r := range c.routes {
			note = max(note, r.setState(stateBackoff, "sink: "+err.Error()))
		}
		// Once when it starts failing and on every new error, then a
		// reminder every backoffReminder; the routes log the recovery.
		if changed || note != backoffQuiet {
			c.log.Error("cannot open the sink; retrying", "err", err, "attempt", attempt)
		}
		if !sleepCtx(ctx, c.retryDelay(attempt, err)) {
			return nil, false
		}
	}
}

func sinkKind(s Sink) string {
	switch s.(type) {
	case *MySQL:
		return "mysql"
	case *Postgres:
		return "postgres"
	case *Bolt:
		return "bbolt"
	}
	return fmt.Sprintf("%T", s)
}

// acquire takes a writer slot; false if ctx ended first.
func (c *Consumer) acquire(ctx context.Context) bool {
	select {
	case c.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *Consumer) release() { <-c.slots }

// sleepCtx waits for d or until ctx ends, reporting whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
