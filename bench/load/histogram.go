package load

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
	"time"
)

// histogram counts durations in log-linear buckets, as HdrHistogram does:
// values below 128 ns are exact, and every power of two above is split
// into 64 buckets, so any recorded value is known to within 1/64 (1.6%).
// Recording is one array increment: each goroutine keeps its own and they
// are merged at the end. The zero value is ready to use; it is not safe
// for concurrent use.
type histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      float64 // ns, for the mean
	min, max int64   // ns
}

const (
	histSubBits = 6
	histSub     = 1 << histSubBits // buckets per power of two
	// Values below 2*histSub are their own bucket; the rest take
	// histSub buckets per power of two up to 2^63.
	histBuckets = 2*histSub + (64-histSubBits-1)*histSub
)

// bucketOf returns the bucket index of v (ns, >= 0).
func bucketOf(v int64) int {
	if v < 2*histSub {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - (histSubBits + 1) // >= 1
	top := int(v >> shift)                             // in [histSub, 2*histSub)
	return 2*histSub + (shift-1)*histSub + (top - histSub)
}

// bucketBounds returns the smallest and largest value of bucket i.
func bucketBounds(i int) (lo, hi int64) {
	if i < 2*histSub {
		return int64(i), int64(i)
	}
	shift := (i-2*histSub)/histSub + 1
	top := int64((i-2*histSub)%histSub + histSub)
	return top << shift, (top+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0 // clocks of different hosts: clamp rather than corrupt
	}
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the value at quantile q (0..1): the upper bound of the
// bucket holding the rank, never more than the largest value recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketBounds(i)
			return time.Duration(min(hi, h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// percentiles are the quantiles reported, with their column names.
var percentiles = []struct {
	name string
	q    float64
}{{"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}, {"p99.9", 0.999}}

// writeBars prints the distribution in 1-2-5 steps, one line per step
// from the smallest to the largest value seen, with the share of samples
// and a bar:
//
//	≤ 100µs    61.20%  ████████████████████████████████████████
//	≤ 200µs    30.10%  ███████████████████▋
func (h *histogram) writeBars(w io.Writer, indent string) {
	if h.n == 0 {
		return
	}
	var bounds []int64 // ns: 1µs 2µs 5µs 10µs ...
	for b := int64(1000); ; b *= 10 {
		bounds = append(bounds, b, 2*b, 5*b)
		if 5*b >= h.max {
			break
		}
	}
	counts := make([]uint64, len(bounds))
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		lo, hi := bucketBounds(i)
		mid := lo + (hi-lo)/2
		j := 0
		for j < len(bounds)-1 && bounds[j] < mid {
			j++
		}
		counts[j] += c
	}
	first, last := -1, 0
	var most uint64
	for j, c := range counts {
		if c > 0 {
			if first < 0 {
				first = j
			}
			last = j
			most = max(most, c)
		}
	}
	const width = 40
	for j := first; j <= last; j++ {
		c := counts[j]
		bar := strings.Repeat("█", int(math.Round(float64(c)/float64(most)*width)))
		if c > 0 && bar == "" {
			bar = "▏"
		}
		fmt.Fprintf(w, "%s≤ %-7s %7.2f%%  %s\n", indent, time.Duration(bounds[j]).String(), float64(c)/float64(h.n)*100, bar)
	}
}

// fmtDur prints a duration with three significant digits: 85.3µs, 1.21ms.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		return sig3(float64(d)/1e3) + "µs"
	case d < time.Second:
		return sig3(float64(d)/1e6) + "ms"
	}
	return sig3(d.Seconds()) + "s"
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
