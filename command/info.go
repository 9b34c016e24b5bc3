package command

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"mullet/queue"
)

func init() {
	register(&command{name: "info", fn: cmdInfo, arity: -1, flags: flagNoTx | flagLoading | flagStale,
		group: "server", since: "1.0.0", summary: "Get information and statistics about the server", complexity: "O(1)"})
}

// adminState is the server state behind INFO, CONFIG RESETSTAT and CLIENT
// PAUSE.
type adminState struct {
	pausing atomic.Bool  // a CLIENT PAUSE may be in force: dispatch checks pause
	pause   pauseState   // cmd_client.go
	waiting atomic.Int64 // clients held by CLIENT PAUSE or WAITAOF, counted in blocked_clients
	errors  errorStats
	samples opsSampler
	peak    atomic.Int64 // used_memory_peak

	idsOnce       sync.Once
	runID, replID string
}

// ids returns the run id and the replication id: random, fixed for the
// life of the process, like Redis's.
func (a *adminState) ids() (runID, replID string) {
	a.idsOnce.Do(func() {
		var b [40]byte
		rand.Read(b[:])
		a.runID, a.replID = hex.EncodeToString(b[:20]), hex.EncodeToString(b[20:])
	})
	return a.runID, a.replID
}

// errorStats counts error replies by their code (the word before the first
// space), for INFO errorstats.
type errorStats struct {
	mu     sync.Mutex
	counts map[string]int64
}

// maxErrorCodes is Redis's ERROR_STATS_NUMBER: past that many distinct
// codes, new ones are not tracked, so odd error texts cannot grow the map
// without bound.
const maxErrorCodes = 128

// count records one error reply. As in Redis's afterErrorReply, the code
// is the text before a space found within the first 32 bytes, else ERR.
func (e *errorStats) count(msg string) {
	code := "ERR"
	if i := strings.IndexByte(msg[:min(len(msg), 32)], ' '); i > 0 {
		code = msg[:i]
	}
	e.mu.Lock()
	if e.counts == nil {
		e.counts = make(map[string]int64)
	}
	if _, ok := e.counts[code]; ok || len(e.counts) < maxErrorCodes {
		e.counts[code]++
	}
	e.mu.Unlock()
}

func (e *errorStats) reset() {
	e.mu.Lock()
	e.counts = nil
	e.mu.Unlock()
}

// opsSampler keeps the instantaneous_* rates of INFO stats: like Redis's
// serverCron, it samples the counters every 100 ms and averages the last
// 16 rates.
type opsSampler struct {
	mu    sync.Mutex
	last  [3]int64 // commands, net in, net out at the last sample
	at    time.Time
	rates [3][16]float64
	n     int // samples taken
}

const sampleEvery = 100 * time.Millisecond

func (o *opsSampler) sample(now time.Time, cur [3]int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.at.IsZero() {
		if ms := now.Sub(o.at).Milliseconds(); ms > 0 {
			for i := range cur {
				o.rates[i][o.n%16] = float64(cur[i]-o.last[i]) * 1000 / float64(ms)
			}
			o.n++
		}
	}
	o.last, o.at = cur, now
}

// rate returns the average of the samples of counter i, per second.
func (o *opsSampler) rate(i int) float64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var sum float64
	for _, r := range o.rates[i] {
		sum += r
	}
	return sum / 16
}

func (o *opsSampler) reset() {
	o.mu.Lock()
	o.last, o.at, o.rates, o.n = [3]int64{}, time.Time{}, [3][16]float64{}, 0
	o.mu.Unlock()
}

// cron is the core's periodic work, like the parts of Redis's serverCron
// that do the same, every sampleEvery: it samples the INFO rates and the
// memory peak, and deletes expired keys nobody reads (Redis's active
// expire cycle; not while the AOF loads, which owns the keyspace then).
func (s *Core) cron() {
	defer s.wg.Done()
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			s.admin.samples.sample(now, [3]int64{s.Stats.Commands.Load(), s.Stats.NetIn.Load(), s.Stats.NetOut.Load()})
			s.notePeak()
			if !s.loading.Load() {
				s.expireCycle()
			}
		}
	}
}

// expireCycle deletes a sample of expired keys, as Redis's
// activeExpireCycle does, and waits until the log has the deletions.
func (s *Core) expireCycle() {
	tx := s.ks.Begin()
	tx.ExpireCycle(20)
	s.ks.Wait(tx.End())
}

// notePeak records used memory in used_memory_peak and returns it.
func (s *Core) notePeak() int64 {
	used := s.ks.UsedMemory()
	for {
		p := s.admin.peak.Load()
		if used <= p || s.admin.peak.CompareAndSwap(p, used) {
			return used
		}
	}
}

// resetStats is CONFIG RESETSTAT: the server, command, error and keyspace
// counters go back to zero, as in Redis's resetServerStats,
// resetCommandTableStats and resetErrorTableStats. The slow log and the
// memory peak are kept, as Redis keeps them.
func (s *Core) resetStats() {
	st := &s.Stats
	for _, a := range []*atomic.Int64{&st.Connections, &st.Commands, &st.Rejected, &st.NetIn,
		&st.NetOut, &st.ErrorReplies, &st.UnexpectedErr} {
		a.Store(0)
	}
	for i := range s.stats {
		s.stats[i].reset()
	}
	s.admin.errors.reset()
	s.admin.samples.reset()
	s.ks.ResetStats()
}

func (st *cmdStats) reset() {
	st.calls.Store(0)
	st.usec.Store(0)
	st.rejected.Store(0)
	st.failed.Store(0)
}

// infoSection is one section of INFO, in Redis's order.
type infoSection struct {
	name     string // as INFO takes it: lower case
	title    string // as its header shows it
	dflt     bool   // part of INFO and INFO default
	generate func(s *Core, w *infoWriter, ks *keyspaceInfo)
}

var infoSections = []infoSection{
	{"server", "Server", true, (*Core).infoServer},
	{"clients", "Clients", true, (*Core).infoClients},
	{"memory", "Memory", true, (*Core).infoMemory},
	{"persistence", "Persistence", true, (*Core).infoPersistence},
	{"stats", "Stats", true, (*Core).infoStats},
	{"replication", "Replication", true, (*Core).infoReplication},
	{"cpu", "CPU", true, (*Core).infoCPU},
	{"modules", "Modules", true, func(*Core, *infoWriter, *keyspaceInfo) {}},
	{"commandstats", "Commandstats", false, (*Core).infoCommandStats},
	{"errorstats", "Errorstats", true, (*Core).infoErrorStats},
	// No per-command latency histograms are kept, so the section is
	// there, as with latency-tracking no in Redis, but empty.
	{"latencystats", "Latencystats", false, func(*Core, *infoWriter, *keyspaceInfo) {}},
	{"cluster", "Cluster", true, func(_ *Core, w *infoWriter, _ *keyspaceInfo) { w.add("cluster_enabled", "0") }},
	{"keyspace", "Keyspace", true, (*Core).infoKeyspace},
}

// infoWriter builds INFO's text: "# Title" headers, "name:value" lines,
// CRLF line ends and a blank line between sections, as Redis writes it.
type infoWriter struct {
	b        []byte
	sections int
}

func (w *infoWriter) section(title string) {
	if w.sections > 0 {
		w.b = append(w.b, "\r\n"...)
	}
	w.sections++
	w.b = append(w.b, "# "...)
	w.b = append(w.b, title...)
	w.b = append(w.b, "\r\n"...)
}

func (w *infoWriter) add(name, value string) {
	w.b = append(w.b, name...)
	w.b = append(w.b, ':')
	w.b = append(w.b, value...)
	w.b = append(w.b, "\r\n"...)
}

func (w *infoWriter) addInt(name string, v int64) { w.add(name, strconv.FormatInt(v, 10)) }

// keyspaceInfo is what INFO reads from the keyspace, in one Tx.
type keyspaceInfo struct {
	blocked int
	dbs     []dbInfo
}

type dbInfo struct {
	keys, expires int
	avgTTL        int64
}

// cmdInfo is INFO [section ...]: Redis 7.0's sections, names and order,
// plus mullet's own sections (Config.Sections) after Redis's. The reply
// is a bulk string, or a verbatim string in RESP3, as in Redis 7.
func cmdInfo(c *Session, args [][]byte) {
	c.verbatim(string(c.core.info(c, args[1:])))
}

// Info returns the INFO text of a section ("" for the default ones, "all"
// for all), as the INFO command would; the metrics exporter reads it in
// process.
func (s *Core) Info(section string) (string, error) {
	var req [][]byte
	if section != "" {
		req = [][]byte{[]byte(section)}
	}
	c := &Session{core: s, addr: "internal", created: time.Now()}
	return string(s.info(c, req)), nil
}

// info generates the INFO text for the requested sections.
func (s *Core) info(c *Session, req [][]byte) []byte {
	want := map[string]bool{}
	all, dflt := false, len(req) == 0
	for _, a := range req {
		switch name := strings.ToLower(string(a)); name {
		case "default":
			dflt = true
		case "all", "everything":
			all = true
		default:
			want[name] = true
		}
	}
	included := func(name string, inDefault bool) bool {
		return all || dflt && inDefault || want[name]
	}
	var ks *keyspaceInfo
	if included("keyspace", true) || included("clients", true) {
		ks = s.keyspaceInfo(c)
	}
	w := &infoWriter{}
	for _, sec := range infoSections {
		if included(sec.name, sec.dflt) {
			w.section(sec.title)
			sec.generate(s, w, ks)
		}
	}
	for _, sec := range s.cfg.Sections {
		name := strings.ToLower(sec.Name)
		if included(name, true) {
			w.section(strings.ToUpper(name[:1]) + name[1:])
			sec.Info(w.add)
		}
	}
	return w.b
}

// keyspaceInfo reads the counts INFO shows from the keyspace. While the
// AOF loads, the loader has the keyspace, and INFO (node-redis polls it
// until loading:0) must not wait for it: the counts are left out.
func (s *Core) keyspaceInfo(c *Session) *keyspaceInfo {
	ki := &keyspaceInfo{}
	if s.loading.Load() {
		return ki
	}
	c.withTx(func(tx *queue.Tx) bool {
		ki.blocked = tx.Blocked()
		ki.dbs = make([]dbInfo, tx.Databases())
		for i := range ki.dbs {
			k, e := tx.KeyCounts(i)
			ki.dbs[i] = dbInfo{keys: k, expires: e}
			if e > 0 {
				ki.dbs[i].avgTTL = tx.AvgTTL(i)
			}
		}
		return true
	})
	return ki
}

// The fields of the sections below are Redis 7.0.15's, in its order.
// Where mullet has nothing behind a field (forks, replicas, eviction,
// pub/sub, defragmentation), it shows the value Redis shows when that
// feature is idle, so tools that read the field keep working.

func (s *Core) infoServer(w *infoWriter, _ *keyspaceInfo) {
	runID, _ := s.admin.ids()
	now := time.Now()
	uptime := int64(now.Sub(s.started) / time.Second)
	exe, _ := os.Executable()
	w.add("redis_version", Version)
	w.add("redis_git_sha1", "00000000")
	w.add("redis_git_dirty", "0")
	w.add("redis_build_id", buildID(s.cfg.Version))
	w.add("redis_mode", "standalone")
	w.add("os", osName())
	w.add("arch_bits", strconv.Itoa(strconv.IntSize))
	w.add("monotonic_clock", "POSIX clock_gettime")
	w.add("multiplexing_api", "epoll")
	w.add("atomicvar_api", "c11-builtin")
	w.add("gcc_version", "0.0.0")
	w.addInt("process_id", int64(os.Getpid()))
	w.add("process_supervised", "no")
	w.add("run_id", runID)
	w.addInt("tcp_port", s.tcpPort())
	w.addInt("server_time_usec", now.UnixMicro())
	w.addInt("uptime_in_seconds", uptime)
	w.addInt("uptime_in_days", uptime/86400)
	w.addInt("hz", s.set.Int("hz"))
	w.addInt("configured_hz", s.set.Int("hz"))
	w.addInt("lru_clock", now.Unix()&(1<<24-1))
	w.add("executable", exe)
	w.add("config_file", s.set.File())
	w.add("io_threads_active", "0")
	w.add("mullet_version", s.cfg.Version)
}

// buildID is a stable 16-hex-digit id of mullet's version, in the shape of
// Redis's redis_build_id.
func buildID(version string) string {
	h := uint64(14695981039346656037) // FNV-1a
	for i := 0; i < len(version); i++ {
		h ^= uint64(version[i])
		h *= 1099511628211
	}
	return strconv.FormatUint(h|1<<60, 16)[:16]
}

// osName is Redis's "os" field: sysname, release and machine, as uname(2)
// gives them.
func osName() string {
	name, rel := runtime.GOOS, ""
	if b, err := os.ReadFile("/proc/sys/kernel/ostype"); err == nil {
		name = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		rel = strings.TrimSpace(string(b))
	}
	machine := runtime.GOARCH
	switch machine {
	case "amd64":
		machine = "x86_64"
	case "arm64":
		machine = "aarch64"
	case "386":
		machine = "i686"
	}
	return name + " " + rel + " " + machine
}

// tcpPort is the port the first TCP listener is bound to (which differs
// from the port directive when the server was given its own listener), or
// the port directive.
func (s *Core) tcpPort() int64 {
	if p := s.host.Port(); p != 0 {
		return p
	}
	return s.set.Int("port")
}

func (s *Core) infoClients(w *infoWriter, ki *keyspaceInfo) {
	clients := s.host.Sessions()
	var maxIn int64
	for _, cl := range clients {
		maxIn = max(maxIn, cl.qbuf.Load())
	}
	w.addInt("connected_clients", int64(len(clients)))
	w.add("cluster_connections", "0")
	w.addInt("maxclients", s.settings.maxClients.Load())
	w.addInt("client_recent_max_input_buffer", maxIn)
	w.add("client_recent_max_output_buffer", "0")
	w.addInt("blocked_clients", int64(ki.blocked)+s.admin.waiting.Load())
	w.add("tracking_clients", "0")
	w.add("clients_in_timeout_table", "0")
}

// infoMemory reports memory as mullet accounts it. used_memory is the
// data's accounted size, the quantity maxmemory limits, so that comparing
// the two (as operators and tools do) predicts OOM errors; the process's
// real footprint is used_memory_rss.
func (s *Core) infoMemory(w *infoWriter, _ *keyspaceInfo) {
	used := s.notePeak()
	peak := s.admin.peak.Load()
	rss := rssBytes()
	maxmem := s.ks.MaxMemory()
	total := totalSystemMemory()
	w.addInt("used_memory", used)
	w.add("used_memory_human", bytesToHuman(used))
	w.addInt("used_memory_rss", rss)
	w.add("used_memory_rss_human", bytesToHuman(rss))
	w.addInt("used_memory_peak", peak)
	w.add("used_memory_peak_human", bytesToHuman(peak))
	w.add("used_memory_peak_perc", percent(used, peak))
	w.add("used_memory_overhead", "0")
	w.add("used_memory_startup", "0")
	w.addInt("used_memory_dataset", used)
	w.add("used_memory_dataset_perc", percent(used, used))
	// mullet's allocator is the Go runtime; the data's size stands in for
	// what jemalloc allocated and the process's resident memory for what
	// it holds.
	w.addInt("allocator_allocated", used)
	w.addInt("allocator_active", used)
	w.addInt("allocator_resident", rss)
	w.addInt("total_system_memory", total)
	w.add("total_system_memory_human", bytesToHuman(total))
	w.add("used_memory_lua", "0")
	w.add("used_memory_vm_eval", "0")
	w.add("used_memory_lua_human", "0B")
	w.add("used_memory_scripts_eval", "0")
	w.add("number_of_cached_scripts", "0")
	w.add("number_of_functions", "0")
	w.add("number_of_libraries", "0")
	w.add("used_memory_vm_functions", "0")
	w.add("used_memory_vm_total", "0")
	w.add("used_memory_vm_total_human", "0B")
	w.add("used_memory_functions", "0")
	w.add("used_memory_scripts", "0")
	w.add("used_memory_scripts_human", "0B")
	w.addInt("maxmemory", maxmem)
	w.add("maxmemory_human", bytesToHuman(maxmem))
	w.add("maxmemory_policy", s.set.String("maxmemory-policy"))
	ratio := "0.00"
	if used > 0 {
		ratio = strconv.FormatFloat(float64(rss)/float64(used), 'f', 2, 64)
	}
	w.add("allocator_frag_ratio", "1.00")
	w.add("allocator_frag_bytes", "0")
	w.add("allocator_rss_ratio", ratio)
	w.addInt("allocator_rss_bytes", rss-used)
	w.add("rss_overhead_ratio", "1.00")
	w.add("rss_overhead_bytes", "0")
	w.add("mem_fragmentation_ratio", ratio)
	w.addInt("mem_fragmentation_bytes", rss-used)
	w.add("mem_not_counted_for_evict", "0")
	w.add("mem_replication_backlog", "0")
	w.add("mem_total_replication_buffers", "0")
	w.add("mem_clients_slaves", "0")
	w.add("mem_clients_normal", "0")
	w.add("mem_cluster_links", "0")
	w.add("mem_aof_buffer", "0")
	w.add("mem_allocator", runtime.Version())
	w.add("active_defrag_running", "0")
	w.add("lazyfree_pending_objects", "0")
	w.add("lazyfreed_objects", "0")
}

func percent(a, b int64) string {
	p := 0.0
	if b > 0 {
		p = float64(a) * 100 / float64(b)
	}
	return strconv.FormatFloat(p, 'f', 2, 64) + "%"
}

// bytesToHuman is Redis's: B below 1 KiB, then K, M, G, T, P with two
// decimals.
func bytesToHuman(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + "B"
	}
	f := float64(n)
	for _, unit := range []string{"K", "M", "G", "T", "P"} {
		f /= 1024
		if f < 1024 || unit == "P" {
			return strconv.FormatFloat(f, 'f', 2, 64) + unit
		}
	}
	panic("unreachable")
}

// rssBytes reads the resident set size from /proc/self/statm (its second
// field, in pages), as Redis's zmalloc_get_rss does; 0 where there is no
// /proc.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// totalSystemMemory reads MemTotal from /proc/meminfo; 0 where there is
// no /proc.
func totalSystemMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// infoPersistence reports loading (node-redis 3's ready check waits for
// loading:0), the RDB fields as Redis shows them with no snapshot ever
// taken (mullet writes none), and the AOF fields: the AOF's own when it
// is on, Redis's appendonly-no values when it is off.
func (s *Core) infoPersistence(w *infoWriter, _ *keyspaceInfo) {
	loading := "0"
	if s.loading.Load() {
		loading = "1"
	}
	w.add("loading", loading)
	w.add("async_loading", "0")
	w.add("current_cow_peak", "0")
	w.add("current_cow_size", "0")
	w.add("current_cow_size_age", "0")
	w.add("current_fork_perc", "0.00")
	w.add("current_save_keys_processed", "0")
	w.add("current_save_keys_total", "0")
	w.add("rdb_changes_since_last_save", "0")
	w.add("rdb_bgsave_in_progress", "0")
	w.addInt("rdb_last_save_time", s.lastSave.Load())
	w.add("rdb_last_bgsave_status", "ok")
	w.add("rdb_last_bgsave_time_sec", "-1")
	w.add("rdb_current_bgsave_time_sec", "-1")
	w.add("rdb_saves", "0")
	w.add("rdb_last_cow_size", "0")
	w.add("rdb_last_load_keys_expired", "0")
	w.add("rdb_last_load_keys_loaded", "0")
	if p := s.cfg.Persistence; p != nil {
		p.Info(w.add)
	} else {
		w.add("aof_enabled", "0")
		w.add("aof_rewrite_in_progress", "0")
		w.add("aof_rewrite_scheduled", "0")
		w.add("aof_last_rewrite_time_sec", "-1")
		w.add("aof_current_rewrite_time_sec", "-1")
		w.add("aof_last_bgrewrite_status", "ok")
		w.add("aof_rewrites", "0")
		w.add("aof_rewrites_consecutive_failures", "0")
		w.add("aof_last_write_status", "ok")
		w.add("aof_last_cow_size", "0")
	}
	w.add("module_fork_in_progress", "0")
	w.add("module_fork_last_cow_size", "0")
}

func (s *Core) infoStats(w *infoWriter, _ *keyspaceInfo) {
	st := &s.Stats
	ks := s.ks.Stats()
	kbps := func(i int) string { return strconv.FormatFloat(s.admin.samples.rate(i)/1024, 'f', 2, 64) }
	w.addInt("total_connections_received", st.Connections.Load())
	w.addInt("total_commands_processed", st.Commands.Load())
	w.addInt("instantaneous_ops_per_sec", int64(s.admin.samples.rate(0)))
	w.addInt("total_net_input_bytes", st.NetIn.Load())
	w.addInt("total_net_output_bytes", st.NetOut.Load())
	w.add("total_net_repl_input_bytes", "0")
	w.add("total_net_repl_output_bytes", "0")
	w.add("instantaneous_input_kbps", kbps(1))
	w.add("instantaneous_output_kbps", kbps(2))
	w.add("instantaneous_input_repl_kbps", "0.00")
	w.add("instantaneous_output_repl_kbps", "0.00")
	w.addInt("rejected_connections", st.Rejected.Load())
	w.add("sync_full", "0")
	w.add("sync_partial_ok", "0")
	w.add("sync_partial_err", "0")
	w.addInt("expired_keys", ks.ExpiredKeys)
	w.add("expired_stale_perc", "0.00")
	w.add("expired_time_cap_reached_count", "0")
	w.add("expire_cycle_cpu_milliseconds", "0")
	w.add("evicted_keys", "0")
	w.add("evicted_clients", "0")
	w.add("total_eviction_exceeded_time", "0")
	w.add("current_eviction_exceeded_time", "0")
	w.addInt("keyspace_hits", ks.KeyHits)
	w.addInt("keyspace_misses", ks.KeyMisses)
	w.add("pubsub_channels", "0")
	w.add("pubsub_patterns", "0")
	w.add("pubsubshard_channels", "0")
	w.add("latest_fork_usec", "0")
	w.add("total_forks", "0")
	w.add("migrate_cached_sockets", "0")
	w.add("slave_expires_tracked_keys", "0")
	w.add("active_defrag_hits", "0")
	w.add("active_defrag_misses", "0")
	w.add("active_defrag_key_hits", "0")
	w.add("active_defrag_key_misses", "0")
	w.add("total_active_defrag_time", "0")
	w.add("current_active_defrag_time", "0")
	w.add("tracking_total_keys", "0")
	w.add("tracking_total_items", "0")
	w.add("tracking_total_prefixes", "0")
	w.addInt("unexpected_error_replies", st.UnexpectedErr.Load())
	w.addInt("total_error_replies", st.ErrorReplies.Load())
	w.add("dump_payload_sanitizations", "0")
	w.add("total_reads_processed", "0")
	w.add("total_writes_processed", "0")
	w.add("io_threaded_reads_processed", "0")
	w.add("io_threaded_writes_processed", "0")
	w.add("reply_buffer_shrinks", "0")
	w.add("reply_buffer_expands", "0")
}

func (s *Core) infoReplication(w *infoWriter, _ *keyspaceInfo) {
	_, replID := s.admin.ids()
	w.add("role", "master")
	w.add("connected_slaves", "0")
	w.add("master_failover_state", "no-failover")
	w.add("master_replid", replID)
	w.add("master_replid2", strings.Repeat("0", 40))
	w.add("master_repl_offset", "0")
	w.add("second_repl_offset", "-1")
	w.add("repl_backlog_active", "0")
	w.addInt("repl_backlog_size", s.set.Size("repl-backlog-size"))
	w.add("repl_backlog_first_byte_offset", "0")
	w.add("repl_backlog_histlen", "0")
}

// infoCPU reports getrusage(2). Go runs commands on many threads, so the
// main_thread fields, which Redis measures for its one event-loop thread,
// repeat the process's totals.
func (s *Core) infoCPU(w *infoWriter, _ *keyspaceInfo) {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) string {
		us := int64(t.Usec)
		return strconv.FormatInt(int64(t.Sec), 10) + "." + strconv.FormatInt(1000000+us, 10)[1:]
	}
	w.add("used_cpu_sys", tv(self.Stime))
	w.add("used_cpu_user", tv(self.Utime))
	w.add("used_cpu_sys_children", tv(children.Stime))
	w.add("used_cpu_user_children", tv(children.Utime))
	w.add("used_cpu_sys_main_thread", tv(self.Stime))
	w.add("used_cpu_user_main_thread", tv(self.Utime))
}

// infoCommandStats lists every command and subcommand that was called,
// refused or failed, sorted by name (Redis lists them in hash order).
func (s *Core) infoCommandStats(w *infoWriter, _ *keyspaceInfo) {
	var line []byte
	emit := func(cmd *command) {
		st := s.statsOf(cmd)
		calls, usec, rej, failed := st.calls.Load(), st.usec.Load(), st.rejected.Load(), st.failed.Load()
		if calls == 0 && rej == 0 && failed == 0 {
			return
		}
		per := 0.0
		if calls > 0 {
			per = float64(usec) / float64(calls)
		}
		line = append(line[:0], "calls="...)
		line = strconv.AppendInt(line, calls, 10)
		line = append(line, ",usec="...)
		line = strconv.AppendInt(line, usec, 10)
		line = append(line, ",usec_per_call="...)
		line = strconv.AppendFloat(line, per, 'f', 2, 64)
		line = append(line, ",rejected_calls="...)
		line = strconv.AppendInt(line, rej, 10)
		line = append(line, ",failed_calls="...)
		line = strconv.AppendInt(line, failed, 10)
		w.add("cmdstat_"+cmd.name, string(line))
	}
	for _, cmd := range sortedCommands() {
		emit(cmd)
		for _, sub := range sortedSubcommands(cmd) {
			emit(sub)
		}
	}
}

// sortedSubcommands returns cmd's subcommands by name.
func sortedSubcommands(cmd *command) []*command {
	out := make([]*command, 0, len(cmd.sub))
	for _, sub := range cmd.sub {
		out = append(out, sub)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (s *Core) infoErrorStats(w *infoWriter, _ *keyspaceInfo) {
	e := &s.admin.errors
	e.mu.Lock()
	codes := make([]string, 0, len(e.counts))
	for code := range e.counts {
		codes = append(codes, code)
	}
	sort.Strings(codes) // Redis keeps them in a radix tree: sorted
	counts := make([]int64, len(codes))
	for i, code := range codes {
		counts[i] = e.counts[code]
	}
	e.mu.Unlock()
	for i, code := range codes {
		w.add("errorstat_"+code, "count="+strconv.FormatInt(counts[i], 10))
	}
}

func (s *Core) infoKeyspace(w *infoWriter, ki *keyspaceInfo) {
	var b bytes.Buffer
	for i, d := range ki.dbs {
		if d.keys == 0 {
			continue
		}
		b.Reset()
		b.WriteString("keys=")
		b.WriteString(strconv.Itoa(d.keys))
		b.WriteString(",expires=")
		b.WriteString(strconv.Itoa(d.expires))
		b.WriteString(",avg_ttl=")
		b.WriteString(strconv.FormatInt(d.avgTTL, 10))
		w.add("db"+strconv.Itoa(i), b.String())
	}
}
