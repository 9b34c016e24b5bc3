package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"mullet/internal/testutil"
)

// routeField returns field of route0 in an INFO consumer reply, or "".
func routeField(info, field string) string {
	m := regexp.MustCompile(`(?m)^route0:.*\b` + field + `=([^,\r\n]*)`).FindStringSubmatch(info)
	if m == nil {
		return ""
	}
	return m[1]
}

// waitRoute polls INFO consumer until route0's fields hold want.
func waitRoute(t *testing.T, r *resp, want map[string]string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := r.do("INFO", "consumer")
		if err != nil {
			t.Fatal(err)
		}
		ok := true
		for k, v := range want {
			ok = ok && routeField(info, k) == v
		}
		if ok {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("route0 never reached %v:\n%s", want, info)
		}
		time.Sleep(20 * time.Millisecond) // polling another process
	}
}

// runDead runs 'mullet dead ARGS' in process and returns its output.
func runDead(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	app := &cli.App{Name: "mullet", Writer: &out, ErrWriter: &out, Commands: []*cli.Command{deadCommand()}}
	err := app.Run(append([]string{"mullet", "dead"}, args...))
	return out.String(), err
}

// TestDeadLetterWorkflow is docs/consumer.md's workflow against the real
// binary and MariaDB: items too long for a column and one that is not
// JSON die; the column is widened; one letter is requeued by index, the
// others of that reason by pattern, then all, and the hopeless one dies
// again; finally it is dropped. dead_letters follows the items that are
// dead, dead_letter_events every death.
func TestDeadLetterWorkflow(t *testing.T) {
	m := testutil.StartMariaDB(t)
	if err := m.Exec("CREATE TABLE orders (id INT PRIMARY KEY, sku VARCHAR(4) NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	p := startMullet(t, 0, "--appendonly", "no", "--consumer-route", "order_queue", "orders",
		"--consumer-mysql-dsn", m.DSN(testutil.MariaDBDatabase), "--consumer-linger", "0")
	r, err := dialResp(p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	push := func(items ...string) {
		t.Helper()
		if _, err := r.do(append([]string{"LPUSH", "order_queue"}, items...)...); err != nil {
			t.Fatal(err)
		}
	}
	// One at a time, so their order in the dead list is known.
	for _, it := range []string{`{"id":1,"sku":"LONGSKU1"}`, `not json`, `{"id":2,"sku":"ok"}`, `{"id":3,"sku":"LONGSKU3"}`, `{"id":4,"sku":"LONGSKU4"}`} {
		push(it)
		waitRoute(t, r, map[string]string{"backlog": "0", "inflight_batches": "0"})
	}
	waitRoute(t, r, map[string]string{"rows": "1", "dead_letters": "4", "dead_letter_events": "4"})
	t.Log("dead")

	addr := []string{"--addr", p.addr}
	out, err := runDead(t, append(append([]string{"list"}, addr...), "order_queue")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4 dead letters, oldest first", `#0  `, `item:   {"id":1,"sku":"LONGSKU1"}`,
		"#1  ", "item:   not json", `#3  `, `item:   {"id":4,"sku":"LONGSKU4"}`, "reason: Data too long for column 'sku'", "reason: not valid JSON", "table orders"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	// The reason records carry nanosecond timestamps (RFC 3339).
	if !regexp.MustCompile(`#0  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z`).MatchString(out) {
		t.Errorf("list shows no timestamp:\n%s", out)
	}

	// Nothing selected, or two selectors, or a bad index: refused, nothing moves.
	if _, err := runDead(t, append(append([]string{"requeue"}, addr...), "order_queue")...); err == nil || !strings.Contains(err.Error(), "exactly one of") {
		t.Errorf("requeue without a selector: %v", err)
	}
	if _, err := runDead(t, append(append([]string{"requeue", "--all", "--index", "1"}, addr...), "order_queue")...); err == nil {
		t.Error("requeue with two selectors succeeded")
	}
	if _, err := runDead(t, append(append([]string{"drop", "--index", "9"}, addr...), "order_queue")...); err == nil || !strings.Contains(err.Error(), "no dead letter with that index") {
		t.Errorf("drop --index 9: %v", err)
	}
	if n, _ := r.do("LLEN", "order_queue:dead"); n != "4" {
		t.Fatalf("refused commands changed the dead list: LLEN %s", n)
	}

	if err := m.Exec("ALTER TABLE orders MODIFY sku VARCHAR(20) NOT NULL"); err != nil {
		t.Fatal(err)
	}
	// By index: #3 is {"id":4,...}.
	out, err = runDead(t, append(append([]string{"requeue", "--index", "3"}, addr...), "order_queue")...)
	if err != nil || !strings.Contains(out, `#3 requeued to order_queue: {"id":4,"sku":"LONGSKU4"}`) {
		t.Fatalf("requeue --index 3: %v\n%s", err, out)
	}
	waitRoute(t, r, map[string]string{"rows": "2", "dead_letters": "3", "dead_letter_events": "4"})
	// By reason: the other two too-long ones, not the JSON one.
	out, err = runDead(t, append(append([]string{"requeue", "--reason", "^Data too long"}, addr...), "order_queue")...)
	if err != nil || !strings.Contains(out, "2 dead letters requeued") {
		t.Fatalf("requeue --reason: %v\n%s", err, out)
	}
	waitRoute(t, r, map[string]string{"rows": "4", "dead_letters": "1", "dead_letter_events": "4"})
	// All: the one left is hopeless and dies again.
	out, err = runDead(t, append(append([]string{"requeue", "--all"}, addr...), "order_queue")...)
	if err != nil || !strings.Contains(out, "1 dead letters requeued") {
		t.Fatalf("requeue --all: %v\n%s", err, out)
	}
	waitRoute(t, r, map[string]string{"rows": "4", "dead_letters": "1", "dead_letter_events": "5", "backlog": "0", "inflight_batches": "0"})
	if n, _ := r.do("LLEN", "order_queue:dead:reasons"); n != "1" {
		t.Errorf("reasons left: %s, want 1 (paired with the one letter)", n)
	}
	out, err = runDead(t, append(append([]string{"drop", "--all"}, addr...), "order_queue")...)
	if err != nil || !strings.Contains(out, "#0 dropped: not json") {
		t.Fatalf("drop --all: %v\n%s", err, out)
	}
	waitRoute(t, r, map[string]string{"dead_letters": "0"})
	for _, k := range []string{"order_queue:dead", "order_queue:dead:reasons"} {
		if n, _ := r.do("EXISTS", k); n != "0" {
			t.Errorf("%s still exists", k)
		}
	}
	rows, err := m.QueryInt("SELECT COUNT(*) FROM orders WHERE id IN (1,2,3,4)")
	if err != nil || rows != 4 {
		t.Errorf("orders holds %d of ids 1-4 (%v), want 4", rows, err)
	}
}

// TestDeadAuth: 'mullet dead' authenticates with -a (or --password), as
// redis-cli and 'mullet bench' do.
func TestDeadAuth(t *testing.T) {
	addr := startInProcess(t, []string{"requirepass", "pw"})
	out, err := runDead(t, "list", "--addr", addr, "-a", "pw", "order_queue")
	if err != nil || !strings.Contains(out, "order_queue:dead: 0 dead letters") {
		t.Errorf("with -a: %v\n%s", err, out)
	}
	if _, err := runDead(t, "list", "--addr", addr, "order_queue"); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("without a password: %v, want NOAUTH", err)
	}
}
