package consumer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mullet/internal/testutil"
	"mullet/queue"
)

// TestRetryDelayCap: with the default retry bounds (100 ms to 30 s), an
// unreachable sink (a retryable error) is retried at least every second
// whatever the attempt, so draining resumes within about a second of the
// database coming back; other failures keep the full schedule.
func TestRetryDelayCap(t *testing.T) {
	c := &Consumer{}
	d := DefaultConfig()
	c.SetRetry(d.RetryMin, d.RetryMax)
	down := retryable(errors.New("dial tcp 127.0.0.1:3306: connect: connection refused"))
	config := &TableError{Table: "orders", Reason: "no such table"}
	for attempt := 1; attempt <= 100; attempt++ {
		for range 20 {
			if got := c.retryDelay(attempt, down); got > unreachableRetryMax || got <= 0 {
				t.Fatalf("attempt %d, sink unreachable: %v, want in (0, %v]", attempt, got, unreachableRetryMax)
			}
		}
	}
	if got := c.retryDelay(1, down); got > d.RetryMin {
		t.Errorf("first retry after %v, want at most %v (the cap only shortens)", got, d.RetryMin)
	}
	if got := c.retryDelay(20, config); got < d.RetryMax/2 {
		t.Errorf("attempt 20 of a table error: %v, want the full schedule (>= %v)", got, d.RetryMax/2)
	}
}

// syncBuffer is a log destination tests read while the consumer writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRecoveryLogged stops MariaDB under a draining consumer with the
// default retry bounds, and checks what an operator sees at the default
// log level: one line when the route goes into backoff (with the cause),
// then one when it recovers, with how long, how many attempts and the
// backlog; the driver's own messages in the same format; every row once.
// The time from the database accepting connections to the first new row
// is logged (a figure, not a pass/fail bound: TestRetryDelayCap asserts
// the schedule that bounds it).
func TestRecoveryLogged(t *testing.T) {
	m := testutil.StartMariaDB(t)
	h := mariaHarness(m)
	h.newTable(t, "recov")
	ks := queue.New(queue.Config{})
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil)) // Info: the default level
	open := func(ctx context.Context) (Sink, error) {
		return NewMySQL(ctx, m.DSN(testutil.MariaDBDatabase), 4, &MySQLOptions{Logger: logger})
	}
	c := startConsumer(t, ks, open, func(cfg *Config) {
		d := DefaultConfig()
		cfg.RetryMin, cfg.RetryMax = d.RetryMin, d.RetryMax
		cfg.PoolSize, cfg.BatchSize = 4, 100
		cfg.Logger = logger
	}, Route{"rq", "recov"})

	items := orderItems("a", 3000)
	lpush(t, ks, "rq", items[:1000]...)
	testutil.WaitFor(t, 60*time.Second, "the first rows", func() bool { return routeStats(c, "rq").Rows == 1000 })
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	lpush(t, ks, "rq", items[1000:]...)
	testutil.WaitFor(t, 30*time.Second, "backoff", func() bool { return routeStats(c, "rq").State == "backoff" })
	// Let the backoff grow past the cap: without it, attempt 6 onwards
	// would sleep 1.6 s and more.
	testutil.WaitFor(t, 60*time.Second, "8 failed attempts", func() bool { return routeStats(c, "rq").Retries >= 8 })
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	ready := time.Now()
	testutil.WaitFor(t, 60*time.Second, "the first row after the restart", func() bool { return routeStats(c, "rq").Rows > 1000 })
	t.Logf("draining resumed %v after MariaDB accepted connections", time.Since(ready).Round(time.Millisecond))
	testutil.WaitFor(t, 60*time.Second, "the drain", func() bool { return routeStats(c, "rq").Rows == 3000 })
	h.checkExactlyOnce(t, "recov", "a", 3000)

	log := logs.String()
	enter := regexp.MustCompile(`level=WARN msg="route in backoff: sink write failed; retrying" component=consumer queue=rq table=recov err=".*(refused|EOF|bad connection|invalid connection|gone away|shutdown)`).FindStringIndex(log)
	recovered := regexp.MustCompile(`level=INFO msg="sink recovered after \d+\.\ds, (\d+) attempts, backlog \d+" component=consumer queue=rq table=recov`).FindStringSubmatchIndex(log)
	switch {
	case enter == nil:
		t.Errorf("no WARN when the route went into backoff:\n%s", log)
	case recovered == nil:
		t.Errorf("no recovery line:\n%s", log)
	case recovered[0] < enter[0]:
		t.Errorf("recovery logged before the backoff:\n%s", log)
	case strings.Count(log, "route in backoff:") != 1 || strings.Count(log, "sink recovered after") != 1:
		t.Errorf("want one backoff line and one recovery line (the outage was shorter than the reminder):\n%s", log)
	}
	// Every line is the handler's: the driver's messages ("closing bad
	// idle connection") have component=mysql, none its own "[mysql]" format.
	if !strings.Contains(log, `closing bad idle connection: EOF" component=mysql`) {
		t.Errorf("the driver's message about the connections the restart broke is not in the log:\n%s", log)
	}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if !strings.HasPrefix(line, "time=") {
			t.Errorf("a log line not in slog's format: %q", line)
		}
	}
	t.Logf("log:\n%s", log)
}
