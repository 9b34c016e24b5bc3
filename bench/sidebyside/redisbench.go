package main

import (
	"mullet/internal/resp"

	"bytes"
	"encoding/csv"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
)

// listTests are the redis-benchmark tests we run, by the name its CSV
// output gives them, and the short name used in the table.
var listTests = []struct{ csv, short string }{
	{"LPUSH", "LPUSH"},
	{"RPUSH", "RPUSH"},
	{"LPOP", "LPOP"},
	{"RPOP", "RPOP"},
	{"LRANGE_100 (first 100 elements)", "LRANGE_100"},
}

// redisBenchmark runs redis-benchmark's list tests against addr and
// returns requests per second by short test name.
//
// redis-benchmark runs LPUSH, RPUSH, LPOP, RPOP, then an untimed "LPUSH
// (needed to benchmark LRANGE)", then LRANGE_100, all with the same -n on
// the one key "mylist": the pops take exactly the 2n items the pushes
// left, so every pop pops a real item. checkList verifies that afterwards.
func redisBenchmark(addr string, clients, requests, pipeline, size int) (map[string]float64, error) {
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-benchmark", "-h", host, "-p", port,
		"-c", strconv.Itoa(clients), "-n", strconv.Itoa(requests),
		"-d", strconv.Itoa(size), "-P", strconv.Itoa(pipeline),
		"-t", "lpush,rpush,lpop,rpop,lrange_100", "--csv")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("redis-benchmark: %w: %s", err, stderr.String())
	}
	// redis-benchmark prints errors ("Error: Server closed the connection")
	// but still exits 0.
	if strings.Contains(stderr.String(), "Error") {
		return nil, fmt.Errorf("redis-benchmark: %s", strings.TrimSpace(stderr.String()))
	}
	return parseBenchmarkCSV(stdout.Bytes())
}

// parseBenchmarkCSV reads redis-benchmark --csv output:
//
//	"test","rps","avg_latency_ms",...
//	"LPUSH","158227.84","0.179",...
func parseBenchmarkCSV(out []byte) (map[string]float64, error) {
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark csv: %w", err)
	}
	byName := map[string]float64{}
	for _, r := range recs {
		if len(r) < 2 || r[0] == "test" {
			continue
		}
		rps, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			return nil, fmt.Errorf("redis-benchmark csv %q: %w", r, err)
		}
		byName[r[0]] = rps
	}
	res := map[string]float64{}
	for _, t := range listTests {
		rps, ok := byName[t.csv]
		if !ok {
			return nil, fmt.Errorf("redis-benchmark printed no %q line:\n%s", t.csv, out)
		}
		res[t.short] = rps
	}
	return res, nil
}

// checkList verifies that the pops popped real items: after a run only the
// n items pushed for LRANGE remain. With pipelining redis-benchmark may
// issue a few requests more than -n per test, so a small difference is
// reported, not fatal.
func checkList(addr string, requests int) (string, error) {
	c, err := resp.Dial(addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	n, err := c.Int("LLEN", "mylist")
	if err != nil {
		return "", err
	}
	if _, err := c.Do("DEL", "mylist"); err != nil {
		return "", err
	}
	if n != int64(requests) {
		return fmt.Sprintf("mylist held %d items after the run, want %d", n, requests), nil
	}
	return "", nil
}
