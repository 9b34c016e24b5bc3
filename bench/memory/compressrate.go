package main

import (
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// figureCompressRate measures what list-compress-depth 1 costs mullet in
// throughput: redis-benchmark LPUSH then RPOP (-c 50, -d size, the pops
// pop what the pushes left), at pipeline 1 and 16, against mullet with
// depth 0 and 1 in alternating rounds; it prints the median requests/s of
// each and the ratio. redis-benchmark's payload is one byte repeated, which
// compresses to almost nothing: BenchmarkFIFO in queue/ measures the CPU
// per item on JSON orders.
func figureCompressRate(f flavour, work string, rounds, n, size int) error {
	type key struct {
		test     string
		pipeline int
		depth    int
	}
	res := map[key][]float64{}
	for range rounds {
		for _, depth := range []int{0, 1} {
			s, err := f.start(work, "--list-compress-depth", strconv.Itoa(depth))
			if err != nil {
				return err
			}
			host, port, _ := strings.Cut(s.addr, ":")
			for _, p := range []int{1, 16} {
				out, err := exec.Command("redis-benchmark", "-h", host, "-p", port, "-c", "50", "-n", strconv.Itoa(n),
					"-d", strconv.Itoa(size), "-P", strconv.Itoa(p), "-t", "lpush,rpop", "--csv").Output()
				if err != nil {
					s.stop()
					return fmt.Errorf("redis-benchmark: %w", err)
				}
				for _, line := range strings.Split(string(out), "\n") {
					fields := strings.Split(line, ",")
					if len(fields) < 2 {
						continue
					}
					test := strings.Trim(fields[0], `"`)
					rps, err := strconv.ParseFloat(strings.Trim(fields[1], `"`), 64)
					if err != nil {
						continue
					}
					k := key{test, p, depth}
					res[k] = append(res[k], rps)
				}
			}
			s.stop()
		}
	}
	median := func(v []float64) float64 {
		sort.Float64s(v)
		if len(v) == 0 {
			return 0
		}
		return v[len(v)/2]
	}
	for _, test := range []string{"LPUSH", "RPOP"} {
		for _, p := range []int{1, 16} {
			off, on := median(res[key{test, p, 0}]), median(res[key{test, p, 1}])
			fmt.Printf("%-8s %3d %14.0f %14.0f %8.3f\n", test, p, off, on, on/off)
		}
	}
	return nil
}
