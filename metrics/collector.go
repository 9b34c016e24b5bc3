package metrics

import (
	"regexp"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// InfoFunc returns the text of the INFO command for section, exactly as a
// client would receive it ("# Clients" headers, "name:value" lines). The
// collector asks for "everything", which includes commandstats. It returns
// an error when INFO could not be had (a remote server that is down); an
// in-process implementation never fails and can be adapted with
//
//	func(s string) (string, error) { return srv.Info(s), nil }
//
// The error result is why this is not func(string) string: a scrape must be
// able to say "server down" (mullet_up 0) rather than export an empty set.
type InfoFunc func(section string) (string, error)

// namespace prefixes every metric.
const namespace = "mullet"

// Collector is a prometheus.Collector that turns one INFO reply per scrape
// into metrics. It is unchecked (Describe sends nothing), because the set
// of metrics follows what INFO reports: one series per command called, per
// database with keys, per consumer route. It is safe for concurrent use as
// long as the InfoFunc is.
type Collector struct {
	info InfoFunc
	up   *prometheus.Desc
}

// NewCollector returns a collector reading info.
func NewCollector(info InfoFunc) *Collector {
	return &Collector{
		info: info,
		up:   prometheus.NewDesc(namespace+"_up", "1 if the last INFO succeeded, 0 if not.", nil, nil),
	}
}

// Describe sends nothing: the collector is unchecked (see Collector).
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect calls INFO everything and sends the metrics it yields.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	text, err := c.info("everything")
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, s := range ParseInfo(text) {
		switch s.Name {
		case "commandstats":
			collectCommandStats(ch, s)
		case "keyspace":
			collectKeyspace(ch, s)
		case "persistence":
			collectPlain(ch, s, func(name string) bool {
				return strings.HasPrefix(name, "aof_") || name == "loading"
			})
		case "consumer":
			collectConsumer(ch, s)
		case "server":
			collectVersions(ch, s)
			collectPlain(ch, s, nil)
		default:
			collectPlain(ch, s, nil)
		}
	}
}

// plain maps the single-value fields exported by name. Other fields of
// those sections are left out: INFO has ~150 and most mean nothing for a
// queue (fork times, replication offsets); the aof_* fields and the
// consumer's section are exported whole instead (see Collect).
var plain = map[string]struct {
	name, help string
	counter    bool
}{
	"uptime_in_seconds":          {"uptime_seconds", "Seconds since the server started.", false},
	"connected_clients":          {"connected_clients", "Client connections open, except replicas.", false},
	"blocked_clients":            {"blocked_clients", "Clients waiting in a blocking command (BRPOP, BLMOVE...).", false},
	"maxclients":                 {"max_clients", "The maxclients setting.", false},
	"used_memory":                {"memory_used_bytes", "Bytes the data takes, as maxmemory counts them.", false},
	"used_memory_rss":            {"memory_rss_bytes", "Resident set size of the server process in bytes.", false},
	"maxmemory":                  {"memory_max_bytes", "The maxmemory setting in bytes; 0 means no limit.", false},
	"total_connections_received": {"connections_received_total", "Connections accepted.", true},
	"rejected_connections":       {"rejected_connections_total", "Connections refused because of maxclients.", true},
	"total_commands_processed":   {"commands_processed_total", "Commands run.", true},
	"total_net_input_bytes":      {"net_input_bytes_total", "Bytes read from clients.", true},
	"total_net_output_bytes":     {"net_output_bytes_total", "Bytes written to clients.", true},
	"expired_keys":               {"expired_keys_total", "Keys deleted because their TTL passed.", true},
	"keyspace_hits":              {"keyspace_hits_total", "Key lookups that found the key.", true},
	"keyspace_misses":            {"keyspace_misses_total", "Key lookups that did not find the key.", true},
	"total_error_replies":        {"error_replies_total", "Error replies sent.", true},
	"aof_rewrites":               {"aof_rewrites_total", "AOF rewrites run.", true},
	"aof_delayed_fsync":          {"aof_delayed_fsync_total", "Times an everysec fsync was late because the previous one had not finished.", true},
}

// collectPlain exports the fields of s named in plain, plus every numeric
// field for which extra returns true (as a gauge named after the field).
func collectPlain(ch chan<- prometheus.Metric, s Section, extra func(string) bool) {
	for _, f := range s.Fields {
		v, ok := number(f.Value)
		if !ok {
			continue
		}
		if m, ok := plain[f.Name]; ok {
			typ := prometheus.GaugeValue
			if m.counter {
				typ = prometheus.CounterValue
			}
			ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(namespace+"_"+m.name, m.help, nil, nil), typ, v)
			continue
		}
		if extra != nil && extra(f.Name) {
			ch <- prometheus.MustNewConstMetric(
				prometheus.NewDesc(namespace+"_"+metricName(f.Name), fieldHelp(s.Name, f.Name), nil, nil),
				prometheus.GaugeValue, v)
		}
	}
}

var serverInfo = prometheus.NewDesc(namespace+"_server_info", "Always 1; the labels say which versions run.",
	[]string{"redis_version", "mullet_version"}, nil)

// collectVersions exports the server section's versions as labels of a
// constant metric, the Prometheus idiom for build information.
func collectVersions(ch chan<- prometheus.Metric, s Section) {
	var redis, mullet string
	for _, f := range s.Fields {
		switch f.Name {
		case "redis_version":
			redis = f.Value
		case "mullet_version":
			mullet = f.Value
		}
	}
	ch <- prometheus.MustNewConstMetric(serverInfo, prometheus.GaugeValue, 1, redis, mullet)
}

var cmdDescs = []struct {
	key  string
	desc *prometheus.Desc
	div  float64
}{
	{"calls", prometheus.NewDesc(namespace+"_commands_total", "Calls of each command (INFO commandstats).", []string{"cmd"}, nil), 1},
	{"usec", prometheus.NewDesc(namespace+"_commands_duration_seconds_total", "Time spent in each command.", []string{"cmd"}, nil), 1e6},
	{"rejected_calls", prometheus.NewDesc(namespace+"_commands_rejected_calls_total", "Calls refused before running (arity, OOM, NOAUTH...).", []string{"cmd"}, nil), 1},
	{"failed_calls", prometheus.NewDesc(namespace+"_commands_failed_calls_total", "Calls that ran and replied with an error.", []string{"cmd"}, nil), 1},
}

// collectCommandStats reads "cmdstat_lpush:calls=3,usec=20,usec_per_call=6.67,rejected_calls=0,failed_calls=0".
// Subcommands come as "cmdstat_client|id".
func collectCommandStats(ch chan<- prometheus.Metric, s Section) {
	for _, f := range s.Fields {
		cmd, ok := strings.CutPrefix(f.Name, "cmdstat_")
		if !ok {
			continue
		}
		ps, ok := pairs(f.Value)
		if !ok {
			continue
		}
		for _, d := range cmdDescs {
			for _, p := range ps {
				if p.Name != d.key {
					continue
				}
				if v, ok := number(p.Value); ok {
					ch <- prometheus.MustNewConstMetric(d.desc, prometheus.CounterValue, v/d.div, cmd)
				}
			}
		}
	}
}

var (
	dbKeys     = prometheus.NewDesc(namespace+"_db_keys", "Keys in each database (INFO keyspace).", []string{"db"}, nil)
	dbExpiring = prometheus.NewDesc(namespace+"_db_keys_expiring", "Keys with a TTL in each database.", []string{"db"}, nil)
)

// collectKeyspace reads "db0:keys=3,expires=1,avg_ttl=0".
func collectKeyspace(ch chan<- prometheus.Metric, s Section) {
	for _, f := range s.Fields {
		ps, ok := pairs(f.Value)
		if !ok {
			continue
		}
		for _, p := range ps {
			v, ok := number(p.Value)
			if !ok {
				continue
			}
			switch p.Name {
			case "keys":
				ch <- prometheus.MustNewConstMetric(dbKeys, prometheus.GaugeValue, v, f.Name)
			case "expires":
				ch <- prometheus.MustNewConstMetric(dbExpiring, prometheus.GaugeValue, v, f.Name)
			}
		}
	}
}

// collectConsumer exports the embedded consumer's section. Two shapes of
// line are understood:
//
//	consumer_batches_committed:12       -> mullet_consumer_batches_committed{sink="postgres"} 12
//	route0:queue=order_queue,table=orders,pending=3,committed=120
//	                                    -> mullet_consumer_route_pending{route="route0",queue="order_queue",table="orders",sink="postgres"} 3
//	                                       mullet_consumer_route_committed{...} 120
//
// In a per-route line, numeric values become metrics and the words queue
// and table become labels (always both, empty when absent, so every series
// of a name has the same labels, which Prometheus requires). Every
// consumer metric also carries the label sink, the value of consumer_sink
// (mysql, postgres, bbolt, or none while the sink is not open), so
// dashboards can tell the sinks apart. A name ending in _total is a
// counter, anything else a gauge.
func collectConsumer(ch chan<- prometheus.Metric, s Section) {
	var sink string
	for _, f := range s.Fields {
		if f.Name == "consumer_sink" {
			sink = f.Value
		}
	}
	for _, f := range s.Fields {
		if v, ok := number(f.Value); ok {
			name := metricName(f.Name)
			if !strings.HasPrefix(name, "consumer_") {
				name = "consumer_" + name
			}
			ch <- prometheus.MustNewConstMetric(
				prometheus.NewDesc(namespace+"_"+name, fieldHelp(s.Name, f.Name), []string{"sink"}, nil),
				valueType(name), v, sink)
			continue
		}
		ps, ok := pairs(f.Value)
		if !ok {
			continue
		}
		var queue, table string
		for _, p := range ps {
			switch p.Name {
			case "queue":
				queue = p.Value
			case "table":
				table = p.Value
			}
		}
		for _, p := range ps {
			v, ok := number(p.Value)
			if !ok || p.Name == "queue" || p.Name == "table" {
				continue
			}
			name := "consumer_route_" + metricName(p.Name)
			ch <- prometheus.MustNewConstMetric(
				prometheus.NewDesc(namespace+"_"+name, fieldHelp(s.Name+" per-route", p.Name), []string{"route", "queue", "table", "sink"}, nil),
				valueType(name), v, f.Name, queue, table, sink)
		}
	}
}

// fieldHelp is the help of a metric exported under its INFO field's name.
// Help must not vary between scrapes, so it depends on the name only.
func fieldHelp(section, name string) string {
	h := "INFO " + section + " field " + name
	if name == "status" || strings.HasSuffix(name, "_status") {
		h += " (1: ok, 0: err)"
	}
	return h + "."
}

func valueType(name string) prometheus.ValueType {
	if strings.HasSuffix(name, "_total") {
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}

var notMetricChar = regexp.MustCompile(`[^a-zA-Z0-9_]+`)

// metricName makes an INFO field name a valid metric name part.
func metricName(s string) string {
	return strings.ToLower(notMetricChar.ReplaceAllString(s, "_"))
}
