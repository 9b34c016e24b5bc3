package command

import "time"

// monoStart anchors the server's monotonic clock.
var monoStart = time.Now()

// MonoNow returns the monotonic clock in nanoseconds since monoStart. It
// is one clock read where time.Now is two (wall and monotonic): per
// command, call and account read the clock twice, and a clock read is
// slow on VMs. Being monotonic, the idle times it measures do not jump
// when NTP steps the wall clock.
func MonoNow() int64 { return int64(time.Since(monoStart)) }

// monoTime converts a MonoNow reading to wall-clock time.
func monoTime(m int64) time.Time { return monoStart.Add(time.Duration(m)) }
