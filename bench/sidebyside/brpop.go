package main

import (
	"mullet/internal/resp"

	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// brpopConfig shapes the BRPOP wake-up latency figure.
type brpopConfig struct {
	Queues    int     // lists the consumers wait on
	Consumers int     // connections blocked in BRPOP, spread over the queues
	Items     int     // measured items
	Rate      float64 // items per second the producer pushes
	Size      int     // payload bytes
}

// latencies are the measured wake-up latencies.
type latencies struct {
	P50, P99, P999 time.Duration
}

// brpopLatency measures how long an item takes from the producer's LPUSH
// to a consumer blocked in BRPOP: consumers wait on Queues lists, one
// producer LPUSHes items round robin at a fixed Rate, each stamped with
// its send time on this process's monotonic clock; latency = receive time
// - stamp. The rate stays well below what either server can do, so
// consumers are blocked when an item arrives: this is the wake-up path,
// not a saturated queue.
func brpopLatency(addr string, cfg brpopConfig) (latencies, error) {
	base := time.Now()
	now := func() int64 { return int64(time.Since(base)) }
	queues := make([]string, cfg.Queues)
	for i := range queues {
		queues[i] = "lat:" + strconv.Itoa(i)
	}

	type sample struct {
		lat  int64
		warm bool
	}
	results := make(chan sample, 1024)
	var wg sync.WaitGroup
	errc := make(chan error, cfg.Consumers+1)
	// On an early return, closing the connections ends the consumers'
	// BRPOPs and quit their sends: no goroutine outlives the call.
	quit := make(chan struct{})
	var conns []*resp.Conn
	defer func() {
		close(quit)
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	for i := 0; i < cfg.Consumers; i++ {
		c, err := resp.Dial(addr)
		if err != nil {
			return latencies{}, err
		}
		conns = append(conns, c)
		q := queues[i%len(queues)]
		wg.Go(func() {
			for {
				v, err := c.Do("BRPOP", q, "0")
				if err != nil {
					select {
					case <-quit: // closed by us
					default:
						errc <- fmt.Errorf("BRPOP: %w", err)
					}
					return
				}
				arr, ok := v.([]any)
				if !ok || len(arr) != 2 {
					errc <- fmt.Errorf("BRPOP: unexpected reply %v", v)
					return
				}
				item, _ := arr[1].(string)
				t := now()
				if item == "stop" {
					return
				}
				warm := item[0] == 'w'
				colon := strings.IndexByte(item, ':')
				stamp, err := strconv.ParseInt(item[1:max(colon, 1)], 10, 64)
				if err != nil {
					errc <- fmt.Errorf("bad item %.40q", item)
					return
				}
				select {
				case results <- sample{t - stamp, warm}:
				case <-quit:
					return
				}
			}
		})
	}

	prod, err := resp.Dial(addr)
	if err != nil {
		return latencies{}, err
	}
	defer prod.Close()
	payload := func(tag byte, stamp int64) []byte {
		b := make([]byte, 0, cfg.Size)
		b = append(b, tag)
		b = strconv.AppendInt(b, stamp, 10)
		b = append(b, ':')
		for len(b) < cfg.Size {
			b = append(b, 'x')
		}
		return b
	}
	push := func(q string, item []byte) error {
		prod.Send("LPUSH", q, item)
		if err := prod.Flush(); err != nil {
			return err
		}
		_, err := prod.Read()
		return err
	}

	// Warm up: one item per consumer, all received, before measuring, so
	// every connection has been served once and is back in BRPOP. Waiting
	// for the items (not sleeping) is what tells us they are.
	var out []int64
	collect := func(n int, warm bool) error {
		timeout := time.After(60 * time.Second)
		for got := 0; got < n; {
			select {
			case s := <-results:
				got++
				if !s.warm && !warm {
					out = append(out, s.lat)
				}
			case err := <-errc:
				return err
			case <-timeout:
				return fmt.Errorf("received %d of %d items in 60 s", got, n)
			}
		}
		return nil
	}
	for i := 0; i < cfg.Consumers; i++ {
		if err := push(queues[i%len(queues)], payload('w', now())); err != nil {
			return latencies{}, err
		}
	}
	if err := collect(cfg.Consumers, true); err != nil {
		return latencies{}, err
	}

	// Measure: item i is due at start + i/Rate. Sleeping until then
	// keeps the average rate exact; Go's timer resolution makes the
	// pushes come in small bursts, which is what real producers do too.
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	collected := make(chan error, 1)
	go func() { collected <- collect(cfg.Items, false) }()
	startAt := time.Now()
	for i := 0; i < cfg.Items; i++ {
		if d := time.Until(startAt.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		if err := push(queues[i%len(queues)], payload('m', now())); err != nil {
			return latencies{}, err
		}
	}
	if err := <-collected; err != nil {
		return latencies{}, err
	}
	for i := 0; i < cfg.Consumers; i++ {
		if err := push(queues[i%len(queues)], []byte("stop")); err != nil {
			return latencies{}, err
		}
	}
	select {
	case err := <-errc:
		return latencies{}, err
	default:
	}
	if len(out) == 0 {
		return latencies{}, errors.New("no samples")
	}
	slices.Sort(out)
	return latencies{
		P50:  time.Duration(percentile(out, 0.50)),
		P99:  time.Duration(percentile(out, 0.99)),
		P999: time.Duration(percentile(out, 0.999)),
	}, nil
}

// percentile returns the value at quantile q of sorted (nearest rank).
func percentile(sorted []int64, q float64) int64 {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
