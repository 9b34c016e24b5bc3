// Package harness is what the benchmark programs in bench/ share besides
// the RESP client (mullet/internal/resp): readings of a server process's
// memory and CPU from /proc.
package harness

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Status returns a field of /proc/PID/status in kB (VmRSS, VmHWM).
func Status(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, errors.New(field + " not found in /proc status")
}

// SettledRSS samples VmRSS (kB) every 250 ms and returns it once it moved
// less than 0.5% over a second, or after 10 s. Redis's RSS is stable at
// once; Go's can still shrink a little while the scavenger returns freed
// pages.
func SettledRSS(pid int) (int64, error) {
	var hist []int64
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := Status(pid, "VmRSS")
		if err != nil {
			return 0, err
		}
		hist = append(hist, r)
		if n := len(hist); n >= 5 {
			lo, hi := hist[n-5], hist[n-5]
			for _, v := range hist[n-5:] {
				lo, hi = min(lo, v), max(hi, v)
			}
			if float64(hi-lo) < 0.005*float64(hi) {
				return r, nil
			}
		}
		if time.Now().After(deadline) {
			return r, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
