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
	"strings"
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
	// Sink measures the server's embedded consumer instead of BRPOP
	// consumers: producers push Item, and the run counts the rows the
	// route of Queue commits (INFO consumer), until all are committed or
	// Drain runs out. Consumers must be 0; Size is ignored.
	Sink bool
	// Item is the JSON object pushed with Sink; each {n} in it becomes a
	// number counting up from Start, so primary keys differ.
	Item  string
	Start int64
}

// DefaultItem is Item's default: a row of README.md's orders table.
const DefaultItem = `{"id":{n},"total":12.50}`

func (c *Config) validate() error {
	switch {
	case c.Producers < 0 || c.Consumers < 0 || c.Producers+c.Consumers == 0:
		return errors.New("bench: need at least one producer or consumer")
	case c.Size < minItemSize && !c.Sink:
		return fmt.Errorf("bench: --size must be at least %d bytes (the timestamp)", minItemSize)
	case c.Pipeline < 1:
		return errors.New("bench: --pipeline must be at least 1")
	case c.Count < 0:
		return errors.New("bench: --count must not be negative")
	case c.Count == 0 && c.Duration <= 0:
		return errors.New("bench: need --duration or --count")
	case c.Queue == "":
		return errors.New("bench: --queue must not be empty")
	case c.Sink && c.Consumers != 0:
		return errors.New("bench: --sink measures the server's consumer: --consumers must be 0")
	case c.Sink && c.Producers == 0:
		return errors.New("bench: --sink needs producers")
	case c.Sink && !strings.HasPrefix(strings.TrimSpace(c.Item), "{"):
		return errors.New("bench: --item must be a JSON object (the consumer writes objects as rows)")
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
	deadEvents         int64 // Sink: items dead-lettered during the run
	interrupted, short bool  // stopped by a signal; drain timed out
}

// Run runs producers and consumers against cfg.Addr until the count
// or duration is reached and consumers have drained what was pushed.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rdb := redis.NewClient(&redis.Options{
		Addr: cfg.Addr, Password: cfg.Password,
		PoolSize: cfg.Producers + cfg.Consumers + 3, // + the progress line's LLEN, the sink's INFO
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
		deadEvents                        atomic.Int64 // Sink: items the consumer dead-lettered
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
	var seq atomic.Int64     // {n} of the next sink item
	seq.Store(cfg.Start)
	var sinkBase routeCounts // the route's counters before the run (Sink)
	if cfg.Sink {
		var err error
		if sinkBase, err = consumerCounts(ctx, rdb, cfg.Queue); err != nil {
			return nil, err
		}
	}

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
					if cfg.Sink {
						items[i] = appendItem(items[i][:0], cfg.Item, seq.Add(1)-1)
					} else {
						stampItem(items[i], t0)
					}
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
		if cfg.Sink {
			// A dead-lettered item never becomes a row.
			return isClosed(producersDone) && popped.Load()+deadEvents.Load() >= pushed.Load()
		}
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
	if cfg.Sink {
		// The server's consumer pops; "popped" counts the rows its route
		// committed since the start, read from INFO consumer.
		cwg.Go(func() {
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-cctx.Done():
					return
				case <-t.C:
				}
				now, err := consumerCounts(cctx, rdb, cfg.Queue)
				if err != nil {
					if cctx.Err() == nil {
						fatal <- err
					}
					return
				}
				if rows := now.rows - sinkBase.rows; rows != popped.Load() {
					popped.Store(rows)
					lastPop.Store(int64(time.Since(start)))
				}
				deadEvents.Store(now.deadEvents - sinkBase.deadEvents)
				if finished() {
					stopConsumers()
				}
			}
		})
	}
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
			fmt.Fprintf(cfg.Progress, "%6.1fs  pushed %10s/s  %s %10s/s  backlog %s\n",
				now.Sub(start).Seconds(), thousands(int64(float64(p-prevPush)/secs)), popWord(cfg),
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
	res.deadEvents = deadEvents.Load()
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
	if c.Sink {
		fmt.Fprintf(w, "\nmullet bench --sink: %s, queue %q, %d producers (pipeline %d), the server's consumer, items %s\n",
			c.Addr, c.Queue, c.Producers, c.Pipeline, c.Item)
	} else {
		fmt.Fprintf(w, "\nmullet bench: %s, queue %q, %d producers (pipeline %d), %d consumers, %d-byte items\n",
			c.Addr, c.Queue, c.Producers, c.Pipeline, c.Consumers, c.Size)
	}
	if r.interrupted {
		fmt.Fprintln(w, "interrupted: figures cover the run so far")
	}
	rate := func(n int64, d time.Duration) string {
		if d <= 0 {
			return "-"
		}
		return thousands(int64(float64(n)/d.Seconds())) + "/s"
	}
	if c.Sink {
		fmt.Fprintf(w, "pushed  %12s items in %7.2fs  %12s\n", thousands(r.pushed), r.pushTime.Seconds(), rate(r.pushed, r.pushTime))
		fmt.Fprintf(w, "committed %10s rows  in %7.2fs  %12s  (INFO consumer: the route's rows, from start to the last commit)\n",
			thousands(r.popped), r.popTime.Seconds(), rate(r.popped, r.popTime))
		if r.deadEvents > 0 {
			fmt.Fprintf(w, "dead    %12s items dead-lettered (see 'mullet dead list %s')\n", thousands(r.deadEvents), c.Queue)
		}
	} else if c.Producers > 0 {
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
		fmt.Fprintf(w, "drain   consumers did not %s everything within --drain %v\n", popWord(c), c.Drain)
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

// popWord names what consumers do in the progress line and report.
func popWord(c Config) string {
	if c.Sink {
		return "committed"
	}
	return "popped"
}

// appendItem renders tmpl with every {n} replaced by n.
func appendItem(buf []byte, tmpl string, n int64) []byte {
	for {
		i := strings.Index(tmpl, "{n}")
		if i < 0 {
			return append(buf, tmpl...)
		}
		buf = append(buf, tmpl[:i]...)
		buf = strconv.AppendInt(buf, n, 10)
		tmpl = tmpl[i+3:]
	}
}

// routeCounts are a consumer route's counters in INFO consumer.
type routeCounts struct{ rows, deadEvents int64 }

// consumerCounts reads the counters of the route draining queue from
// INFO consumer (route lines: routeN:queue=Q,table=T,...,rows=N,...).
func consumerCounts(ctx context.Context, rdb *redis.Client, queue string) (routeCounts, error) {
	info, err := rdb.Info(ctx, "consumer").Result()
	if err != nil {
		return routeCounts{}, fmt.Errorf("bench: INFO consumer: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		_, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(line, "route") || !strings.HasPrefix(v, "queue="+queue+",") {
			continue
		}
		var rc routeCounts
		for _, kv := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(kv, "=")
			switch k {
			case "rows":
				rc.rows, _ = strconv.ParseInt(val, 10, 64)
			case "dead_letter_events":
				rc.deadEvents, _ = strconv.ParseInt(val, 10, 64)
			}
		}
		return rc, nil
	}
	return routeCounts{}, fmt.Errorf("bench: --sink: the server has no consumer route for queue %q (INFO consumer); route it with consumer-route %s TABLE", queue, queue)
}

// Committed returns, for a Sink run, the rows the consumer committed and
// the seconds from the start to the last commit.
func (r *Result) Committed() (rows int64, seconds float64) { return r.popped, r.popTime.Seconds() }
