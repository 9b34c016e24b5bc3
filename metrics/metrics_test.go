package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeInfo is an INFO everything reply as mullet (and Redis 7.0) writes
// it, trimmed to the fields the exporter reads plus a few it must ignore,
// with the consumer section in both shapes collectConsumer understands.
const fakeInfo = "# Server\r\n" +
	"redis_version:7.0.15\r\n" +
	"mullet_version:0.1.0\r\n" +
	"redis_mode:standalone\r\n" +
	"uptime_in_seconds:42\r\n" +
	"\r\n" +
	"# Clients\r\n" +
	"connected_clients:3\r\n" +
	"blocked_clients:2\r\n" +
	"maxclients:10000\r\n" +
	"\r\n" +
	"# Memory\r\n" +
	"used_memory:1048576\r\n" +
	"used_memory_human:1.00M\r\n" +
	"maxmemory:67108864\r\n" +
	"maxmemory_policy:noeviction\r\n" +
	"\r\n" +
	"# Persistence\r\n" +
	"loading:0\r\n" +
	"rdb_changes_since_last_save:7\r\n" +
	"aof_enabled:1\r\n" +
	"aof_rewrite_in_progress:0\r\n" +
	"aof_last_bgrewrite_status:ok\r\n" +
	"aof_rewrites:4\r\n" +
	"aof_last_write_status:err\r\n" +
	"aof_current_size:123456\r\n" +
	"aof_delayed_fsync:1\r\n" +
	"\r\n" +
	"# Stats\r\n" +
	"total_connections_received:10\r\n" +
	"total_commands_processed:1000\r\n" +
	"instantaneous_ops_per_sec:12\r\n" +
	"expired_keys:5\r\n" +
	"\r\n" +
	"# Commandstats\r\n" +
	"cmdstat_lpush:calls=600,usec=1200,usec_per_call=2.00,rejected_calls=1,failed_calls=0\r\n" +
	"cmdstat_client|id:calls=2,usec=3,usec_per_call=1.50,rejected_calls=0,failed_calls=0\r\n" +
	"\r\n" +
	"# Errorstats\r\n" +
	"errorstat_OOM:count=1\r\n" +
	"\r\n" +
	"# Keyspace\r\n" +
	"db0:keys=3,expires=1,avg_ttl=1000\r\n" +
	"db5:keys=1,expires=0,avg_ttl=0\r\n" +
	"\r\n" +
	"# Consumer\r\n" +
	"consumer_enabled:1\r\n" +
	"consumer_sink:postgres\r\n" +
	"batches_committed_total:12\r\n" +
	"route0:queue=order_queue,table=orders,pending=3,committed_total=120,status=ok\r\n" +
	"route1:queue=emails:eu,table=emails,pending=0,committed_total=7,status=err\r\n"

func fake(text string) InfoFunc {
	return func(section string) (string, error) {
		if section != "everything" {
			return "", errors.New("collector asked for " + section)
		}
		return text, nil
	}
}

func TestParseInfo(t *testing.T) {
	got := ParseInfo("stray:1\n# Clients\r\nconnected_clients:3\r\nnot a field\r\n\r\n# Consumer\nroute0:queue=a:b,table=t\n")
	want := []Section{
		{Name: "", Fields: []Field{{"stray", "1"}}},
		{Name: "clients", Fields: []Field{{"connected_clients", "3"}}},
		// The value keeps everything after the first ':'.
		{Name: "consumer", Fields: []Field{{"route0", "queue=a:b,table=t"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseInfo:\n got %+v\nwant %+v", got, want)
	}
}

func TestNumberAndPairs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"12", 12, true}, {"-1", -1, true}, {"2.50", 2.5, true},
		{"ok", 1, true}, {"err", 0, true}, {"1.00M", 0, false}, {"noeviction", 0, false}, {"", 0, false},
	} {
		got, ok := number(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("number(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := pairs("keys=1,expires"); ok {
		t.Error(`pairs("keys=1,expires") accepted a part without '='`)
	}
	if ps, ok := pairs("a=1,b=x=y"); !ok || !reflect.DeepEqual(ps, []Field{{"a", "1"}, {"b", "x=y"}}) {
		t.Errorf("pairs: %v %v", ps, ok)
	}
}

// TestCollector pins the exposition of every kind of field exactly.
func TestCollector(t *testing.T) {
	want := `
# HELP mullet_aof_current_size INFO persistence field aof_current_size.
# TYPE mullet_aof_current_size gauge
mullet_aof_current_size 123456
# HELP mullet_aof_delayed_fsync_total Times an everysec fsync was late because the previous one had not finished.
# TYPE mullet_aof_delayed_fsync_total counter
mullet_aof_delayed_fsync_total 1
# HELP mullet_aof_enabled INFO persistence field aof_enabled.
# TYPE mullet_aof_enabled gauge
mullet_aof_enabled 1
# HELP mullet_aof_last_bgrewrite_status INFO persistence field aof_last_bgrewrite_status (1: ok, 0: err).
# TYPE mullet_aof_last_bgrewrite_status gauge
mullet_aof_last_bgrewrite_status 1
# HELP mullet_aof_last_write_status INFO persistence field aof_last_write_status (1: ok, 0: err).
# TYPE mullet_aof_last_write_status gauge
mullet_aof_last_write_status 0
# HELP mullet_aof_rewrite_in_progress INFO persistence field aof_rewrite_in_progress.
# TYPE mullet_aof_rewrite_in_progress gauge
mullet_aof_rewrite_in_progress 0
# HELP mullet_aof_rewrites_total AOF rewrites run.
# TYPE mullet_aof_rewrites_total counter
mullet_aof_rewrites_total 4
# HELP mullet_blocked_clients Clients waiting in a blocking command (BRPOP, BLMOVE...).
# TYPE mullet_blocked_clients gauge
mullet_blocked_clients 2
# HELP mullet_commands_duration_seconds_total Time spent in each command.
# TYPE mullet_commands_duration_seconds_total counter
mullet_commands_duration_seconds_total{cmd="client|id"} 3e-06
mullet_commands_duration_seconds_total{cmd="lpush"} 0.0012
# HELP mullet_commands_failed_calls_total Calls that ran and replied with an error.
# TYPE mullet_commands_failed_calls_total counter
mullet_commands_failed_calls_total{cmd="client|id"} 0
mullet_commands_failed_calls_total{cmd="lpush"} 0
# HELP mullet_commands_processed_total Commands run.
# TYPE mullet_commands_processed_total counter
mullet_commands_processed_total 1000
# HELP mullet_commands_rejected_calls_total Calls refused before running (arity, OOM, NOAUTH...).
# TYPE mullet_commands_rejected_calls_total counter
mullet_commands_rejected_calls_total{cmd="client|id"} 0
mullet_commands_rejected_calls_total{cmd="lpush"} 1
# HELP mullet_commands_total Calls of each command (INFO commandstats).
# TYPE mullet_commands_total counter
mullet_commands_total{cmd="client|id"} 2
mullet_commands_total{cmd="lpush"} 600
# HELP mullet_connected_clients Client connections open, except replicas.
# TYPE mullet_connected_clients gauge
mullet_connected_clients 3
# HELP mullet_connections_received_total Connections accepted.
# TYPE mullet_connections_received_total counter
mullet_connections_received_total 10
# HELP mullet_consumer_batches_committed_total INFO consumer field batches_committed_total.
# TYPE mullet_consumer_batches_committed_total counter
mullet_consumer_batches_committed_total{sink="postgres"} 12
# HELP mullet_consumer_enabled INFO consumer field consumer_enabled.
# TYPE mullet_consumer_enabled gauge
mullet_consumer_enabled{sink="postgres"} 1
# HELP mullet_consumer_route_committed_total INFO consumer per-route field committed_total.
# TYPE mullet_consumer_route_committed_total counter
mullet_consumer_route_committed_total{queue="emails:eu",route="route1",sink="postgres",table="emails"} 7
mullet_consumer_route_committed_total{queue="order_queue",route="route0",sink="postgres",table="orders"} 120
# HELP mullet_consumer_route_pending INFO consumer per-route field pending.
# TYPE mullet_consumer_route_pending gauge
mullet_consumer_route_pending{queue="emails:eu",route="route1",sink="postgres",table="emails"} 0
mullet_consumer_route_pending{queue="order_queue",route="route0",sink="postgres",table="orders"} 3
# HELP mullet_consumer_route_status INFO consumer per-route field status (1: ok, 0: err).
# TYPE mullet_consumer_route_status gauge
mullet_consumer_route_status{queue="emails:eu",route="route1",sink="postgres",table="emails"} 0
mullet_consumer_route_status{queue="order_queue",route="route0",sink="postgres",table="orders"} 1
# HELP mullet_db_keys Keys in each database (INFO keyspace).
# TYPE mullet_db_keys gauge
mullet_db_keys{db="db0"} 3
mullet_db_keys{db="db5"} 1
# HELP mullet_db_keys_expiring Keys with a TTL in each database.
# TYPE mullet_db_keys_expiring gauge
mullet_db_keys_expiring{db="db0"} 1
mullet_db_keys_expiring{db="db5"} 0
# HELP mullet_expired_keys_total Keys deleted because their TTL passed.
# TYPE mullet_expired_keys_total counter
mullet_expired_keys_total 5
# HELP mullet_loading INFO persistence field loading.
# TYPE mullet_loading gauge
mullet_loading 0
# HELP mullet_max_clients The maxclients setting.
# TYPE mullet_max_clients gauge
mullet_max_clients 10000
# HELP mullet_memory_max_bytes The maxmemory setting in bytes; 0 means no limit.
# TYPE mullet_memory_max_bytes gauge
mullet_memory_max_bytes 6.7108864e+07
# HELP mullet_memory_used_bytes Bytes the data takes, as maxmemory counts them.
# TYPE mullet_memory_used_bytes gauge
mullet_memory_used_bytes 1.048576e+06
# HELP mullet_server_info Always 1; the labels say which versions run.
# TYPE mullet_server_info gauge
mullet_server_info{mullet_version="0.1.0",redis_version="7.0.15"} 1
# HELP mullet_up 1 if the last INFO succeeded, 0 if not.
# TYPE mullet_up gauge
mullet_up 1
# HELP mullet_uptime_seconds Seconds since the server started.
# TYPE mullet_uptime_seconds gauge
mullet_uptime_seconds 42
`
	if err := testutil.CollectAndCompare(NewCollector(fake(fakeInfo)), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	// Fields the exporter must leave out: no metric for text values,
	// instantaneous rates (Prometheus computes its own), rdb_* fields.
	if n := testutil.CollectAndCount(NewCollector(fake(fakeInfo))); n != 39 {
		t.Errorf("%d series, want 39", n)
	}
}

func TestCollectorDown(t *testing.T) {
	down := func(string) (string, error) { return "", errors.New("connection refused") }
	want := "# HELP mullet_up 1 if the last INFO succeeded, 0 if not.\n# TYPE mullet_up gauge\nmullet_up 0\n"
	if err := testutil.CollectAndCompare(NewCollector(down), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// TestCollectorLint runs Prometheus's own naming and help checks.
func TestCollectorLint(t *testing.T) {
	problems, err := testutil.CollectAndLint(NewCollector(fake(fakeInfo)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestServe scrapes /metrics over HTTP from a Listen'ed server.
func TestServe(t *testing.T) {
	s, err := Listen("127.0.0.1:0", fake(fakeInfo))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Not t.Context(): it is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	body := scrape(t, "http://"+s.Addr().String()+"/metrics")
	for _, want := range []string{
		"mullet_up 1\n",
		"mullet_connected_clients 3\n",
		`mullet_commands_total{cmd="lpush"} 600` + "\n",
		"# TYPE go_goroutines gauge\n",
		"# TYPE process_resident_memory_bytes gauge\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	resp, err := http.Get("http://" + s.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET / = %d, want 404", resp.StatusCode)
	}
}

func scrape(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}
