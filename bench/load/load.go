// Package load is the load generator behind 'mullet bench': producers
// LPUSH timestamped items, consumers BRPOP them, and the run reports
// throughput and latency percentiles. It talks to the server over TCP
// only, so it loads any Redis-protocol server.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config is one load run.
type Config struct {
	Addr, Password       string
	Producers, Consumers int
	Queue                string
	Size                 int           // item bytes
	Duration             time.Duration // producers push this long, unless Count
	Count                int64         // items to push (or, with no producers, to pop); 0: Duration
	Pipeline             int           // LPUSHes per round trip
	Drain                time.Duration // consumers' grace after producers stop
	Every                time.Duration // progress line interval
	Out, Progress        io.Writer
}

func (c *Config) validate() error {
	switch {
	case c.Producers < 0 || c.Consumers < 0 || c.Producers+c.Consumers == 0:
		return errors.New("bench: need at least one producer or consumer")
	case c.Size < minItemSize:
		return fmt.Errorf("bench: --size must be at least %d bytes (the timestamp)", minItemSize)
	case c.Pipeline < 1:
		return errors.New("bench: --pipeline must be at least 1")
	case c.Count < 0:
		return errors.New("bench: --count must not be negative")
	case c.Count == 0 && c.Duration <= 0:
		return errors.New("bench: need --duration or --count")
	case c.Queue == "":
		return errors.New("bench: --queue must not be empty")
	}
	return nil
}

// An item is "<unix nanoseconds, 19 digits>:" then filler up to Size: the
// wall clock, not a monotonic one, so that pushes and pops in different
// processes (and hosts with synchronised clocks) can be matched.
const minItemSize = 20

func stampItem(buf []byte, now time.Time) {
	ns := strconv.AppendInt(buf[:0], now.UnixNano(), 10)
	copy(buf, ns)
	buf[len(ns)] = ':'
}

// itemStamp returns the push time stamped in an item; ok is false for an
// item this tool did not push.
func itemStamp(item string) (time.Time, bool) {
	if len(item) < minItemSize || item[19] != ':' {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(item[:19], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// Result is what a run measured.
type Result struct {
	cfg                Config
	pushed, popped     int64
	foreign            int64 // popped items without our timestamp
	pushErrs           int64
	firstErr           string
	pushTime, popTime  time.Duration // from start to the last push / pop
	pushLat, e2eLat    histogram
	backlogEnd         int64
	interrupted, short bool // stopped by a signal; drain timed out
}

// Run runs producers and consumers against cfg.Addr until the count
// or duration is reached and consumers have drained what was pushed.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rdb := redis.NewClient(&redis.Options{
		Addr: cfg.Addr, Password: cfg.Password,
		PoolSize: cfg.Producers + cfg.Consumers + 2, // + the progress line's LLEN
		// No retries: a retried LPUSH may be a duplicate, and the counts
		// must be exact.
		MaxRetries: -1,
		// Plain RESP2 and no CLIENT SETINFO: the tool must work against
		// any Redis-protocol server and old proxies alike.
		Protocol: 2, DisableIdentity: true,
	})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", cfg.Addr, err)
	}

	res := &Result{cfg: cfg}
	start := time.Now()
	var (
		pushed, popped, foreign, pushErrs atomic.Int64
		errOnce                           sync.Once
		lastPush, lastPop                 atomic.Int64 // ns since start
		fatal                             = make(chan error, cfg.Producers+cfg.Consumers)
		producersDone                     = make(chan struct{})
		mu                                sync.Mutex // guards the histograms' merge
	)
	// Producers stop at the deadline or when the count is claimed.
	pctx, stopProducers := context.WithCancel(ctx)
	defer stopProducers()
	if cfg.Count == 0 {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(pctx, cfg.Duration)
		defer cancel()
	}
	var claimed atomic.Int64 // items producers have taken on (count mode)

	var pwg sync.WaitGroup
	for range cfg.Producers {
		pwg.Go(func() {
			var h histogram
			defer func() { mu.Lock(); res.pushLat.merge(&h); mu.Unlock() }()
			items := make([][]byte, cfg.Pipeline)
			for i := range items {
				items[i] = make([]byte, cfg.Size)
				for j := range items[i] {
					items[i][j] = 'x'
				}
			}
			for pctx.Err() == nil {
				n := int64(cfg.Pipeline)
				if cfg.Count > 0 {
					n = min(n, cfg.Count-(claimed.Add(n)-n))
					if n <= 0 {
						return
					}
				}
				t0 := time.Now()
				pipe := rdb.Pipeline()
				for i := range n {
					stampItem(items[i], t0)
					pipe.LPush(ctx, cfg.Queue, items[i])
				}
				cmds, err := pipe.Exec(ctx)
				lat := time.Since(t0)
				var ok int64
				for _, c := range cmds {
					if c.Err() == nil {
						ok++
						h.record(lat)
					}
				}
				pushed.Add(ok)
				if ok > 0 {
					lastPush.Store(int64(time.Since(start)))
				}
				if err != nil {
					var rerr redis.Error
					if !errors.As(err, &rerr) {
						if ctx.Err() == nil {
							fatal <- fmt.Errorf("bench: LPUSH: %w", err)
						}
						return
					}
					// A server error (OOM, MISCONF): count it, go on.
					pushErrs.Add(n - ok)
					errOnce.Do(func() { res.firstErr = err.Error() })
				}
			}
		})
	}
	go func() { pwg.Wait(); close(producersDone) }()

	// Consumers run until they popped what was pushed once producers are
	// done (or, without producers, Count items or Duration), or the drain
	// time runs out.
	finished := func() bool {
		if cfg.Producers > 0 {
			return isClosed(producersDone) && popped.Load() >= pushed.Load()
		}
		return cfg.Count > 0 && popped.Load() >= cfg.Count
	}
	cctx, stopConsumers := context.WithCancel(ctx)
	defer stopConsumers()
	if cfg.Producers == 0 && cfg.Count == 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(cctx, cfg.Duration)
		defer cancel()
	}
	var short atomic.Bool
	if cfg.Producers > 0 {
		go func() {
			select {
			case <-producersDone:
			case <-cctx.Done():
				return
			}
			t := time.NewTimer(cfg.Drain)
			defer t.Stop()
			select {
			case <-t.C:
				short.Store(true)
				stopConsumers()
			case <-cctx.Done():
			}
		}()
	}
	var cwg sync.WaitGroup
	for range cfg.Consumers {
		cwg.Go(func() {
			var h histogram
			defer func() { mu.Lock(); res.e2eLat.merge(&h); mu.Unlock() }()
			for cctx.Err() == nil {
				// A short timeout, so a consumer notices the end of the run
				// within ~100 ms even when the queue stays empty. Sent with
				// Do: go-redis's BRPop rounds timeouts up to a second.
				v, err := rdb.Do(cctx, "BRPOP", cfg.Queue, "0.1").StringSlice()
				now := time.Now()
				switch {
				case errors.Is(err, redis.Nil):
				case err != nil:
					if cctx.Err() == nil {
						fatal <- fmt.Errorf("bench: BRPOP: %w", err)
					}
					return
				default:
					if at, ok := itemStamp(v[1]); ok {
						h.record(now.Sub(at))
					} else {
						foreign.Add(1)
					}
					lastPop.Store(int64(now.Sub(start)))
					popped.Add(1)
				}
				if finished() {
					stopConsumers()
				}
			}
		})
	}
	allDone := make(chan struct{})
	go func() { <-producersDone; cwg.Wait(); close(allDone) }()

	// Progress line every cfg.Every until everyone is done.
	tick := time.NewTicker(cfg.Every)
	defer tick.Stop()
	var prevPush, prevPop int64
	prevT := start
	var runErr error
loop:
	for {
		select {
		case <-allDone:
			break loop
		case runErr = <-fatal:
			break loop
		case now := <-tick.C:
			p, q := pushed.Load(), popped.Load()
			secs := now.Sub(prevT).Seconds()
			backlog := "?"
			if n, err := rdb.LLen(ctx, cfg.Queue).Result(); err == nil {
				backlog = thousands(n)
			}
			fmt.Fprintf(cfg.Progress, "%6.1fs  pushed %10s/s  popped %10s/s  backlog %s\n",
				now.Sub(start).Seconds(), thousands(int64(float64(p-prevPush)/secs)),
				thousands(int64(float64(q-prevPop)/secs)), backlog)
			prevPush, prevPop, prevT = p, q, now
		}
	}
	stopProducers()
	stopConsumers()
	pwg.Wait()
	cwg.Wait()
	if runErr == nil {
		select {
		case runErr = <-fatal: // a failure racing with the end of the run
		default:
		}
	}
	if runErr != nil {
		return nil, runErr
	}
	res.short = short.Load()
	res.pushed, res.popped, res.foreign, res.pushErrs = pushed.Load(), popped.Load(), foreign.Load(), pushErrs.Load()
	res.pushTime, res.popTime = time.Duration(lastPush.Load()), time.Duration(lastPop.Load())
	res.interrupted = ctx.Err() != nil
	if n, err := rdb.LLen(context.Background(), cfg.Queue).Result(); err == nil {
		res.backlogEnd = n
	}
	return res, nil
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Write prints the final report.
func (r *Result) Write(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "\nmullet bench: %s, queue %q, %d producers (pipeline %d), %d consumers, %d-byte items\n",
		c.Addr, c.Queue, c.Producers, c.Pipeline, c.Consumers, c.Size)
	if r.interrupted {
		fmt.Fprintln(w, "interrupted: figures cover the run so far")
	}
	rate := func(n int64, d time.Duration) string {
		if d <= 0 {
			return "-"
		}
		return thousands(int64(float64(n)/d.Seconds())) + "/s"
	}
	if c.Producers > 0 {
		fmt.Fprintf(w, "pushed  %12s items in %7.2fs  %12s  %.1f MB/s\n", thousands(r.pushed), r.pushTime.Seconds(),
			rate(r.pushed, r.pushTime), float64(r.pushed)*float64(c.Size)/1e6/max(r.pushTime.Seconds(), 1e-9))
	}
	if c.Consumers > 0 {
		fmt.Fprintf(w, "popped  %12s items in %7.2fs  %12s\n", thousands(r.popped), r.popTime.Seconds(), rate(r.popped, r.popTime))
	}
	if r.pushErrs > 0 {
		fmt.Fprintf(w, "errors  %12s LPUSHes refused; first: %s\n", thousands(r.pushErrs), r.firstErr)
	}
	if r.foreign > 0 {
		fmt.Fprintf(w, "foreign %12s popped items had no mullet bench timestamp (not in the latency figures)\n", thousands(r.foreign))
	}
	if r.short {
		fmt.Fprintf(w, "drain   consumers did not pop everything within --drain %v\n", c.Drain)
	}
	fmt.Fprintf(w, "backlog %12s items left in %q\n\n", thousands(r.backlogEnd), c.Queue)

	fmt.Fprintf(w, "%-22s", "latency")
	for _, p := range percentiles {
		fmt.Fprintf(w, "%10s", p.name)
	}
	fmt.Fprintf(w, "%10s%10s\n", "max", "mean")
	row := func(name string, h *histogram) {
		if h.n == 0 {
			return
		}
		fmt.Fprintf(w, "%-22s", name)
		for _, p := range percentiles {
			fmt.Fprintf(w, "%10s", fmtDur(h.quantile(p.q)))
		}
		fmt.Fprintf(w, "%10s%10s\n", fmtDur(time.Duration(h.max)), fmtDur(h.mean()))
	}
	row("push (LPUSH reply)", &r.pushLat)
	row("end to end (push→pop)", &r.e2eLat)
	if r.pushLat.n > 0 {
		fmt.Fprintln(w, "\npush latency")
		r.pushLat.writeBars(w, "  ")
	}
	if r.e2eLat.n > 0 {
		fmt.Fprintln(w, "\nend-to-end latency")
		r.e2eLat.writeBars(w, "  ")
	}
}

// thousands formats n with comma separators: 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}
