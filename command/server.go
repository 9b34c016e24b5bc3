package command

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Server administration: TIME, LASTSAVE, ROLE, SHUTDOWN, persistence
// (BGREWRITEAOF, WAITAOF, and SAVE/BGSAVE, which mullet refuses), and the
// introspection commands tools send (MEMORY, LATENCY, DEBUG, FUNCTION and
// SCRIPT FLUSH, READONLY/READWRITE).

func init() {
	const std = flagNoTx | flagAdmin | flagNoScript | flagLoading | flagStale
	register(
		&command{name: "time", fn: cmdTime, arity: 1, flags: flagNoTx | flagLoading | flagStale | flagFast,
			group: "server", since: "2.6.0", summary: "Return the current server time", complexity: "O(1)"},
		&command{name: "lastsave", fn: cmdLastSave, arity: 1, flags: flagNoTx | flagLoading | flagStale | flagFast,
			group: "server", since: "1.0.0", summary: "Get the UNIX time stamp of the last successful save to disk", complexity: "O(1)"},
		&command{name: "role", fn: cmdRole, arity: 1, flags: flagNoTx | flagNoScript | flagLoading | flagStale | flagFast,
			group: "server", since: "2.8.12", summary: "Return the role of the instance in the context of replication", complexity: "O(1)"},
		&command{name: "readonly", fn: cmdNoCluster, arity: 1, flags: flagNoTx | flagLoading | flagStale | flagFast,
			group: "cluster", since: "3.0.0", summary: "Enables read queries for a connection to a cluster replica node", complexity: "O(1)"},
		&command{name: "readwrite", fn: cmdNoCluster, arity: 1, flags: flagNoTx | flagLoading | flagStale | flagFast,
			group: "cluster", since: "3.0.0", summary: "Disables read queries for a connection to a cluster replica node", complexity: "O(1)"},
		&command{name: "shutdown", fn: cmdShutdown, arity: -1, flags: std | flagNoMulti | flagAllowBusy,
			group: "server", since: "1.0.0", summary: "Synchronously save the dataset to disk and then shut down the server", complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"},
		&command{name: "bgrewriteaof", fn: cmdBGRewriteAOF, arity: 1, flags: flagNoTx | flagAdmin | flagNoScript,
			group: "server", since: "1.0.0", summary: "Asynchronously rewrite the append-only file", complexity: "O(1)"},
		&command{name: "bgsave", fn: cmdBGSave, arity: -1, flags: flagNoTx | flagAdmin | flagNoScript,
			group: "server", since: "1.0.0", summary: "Asynchronously save the dataset to disk", complexity: "O(1)"},
		&command{name: "save", fn: cmdSave, arity: 1, flags: flagNoTx | flagAdmin | flagNoScript | flagNoMulti,
			group: "server", since: "1.0.0", summary: "Synchronously save the dataset to disk", complexity: "O(N) where N is the total number of keys in all databases"},
		&command{name: "waitaof", fn: cmdWaitAOF, arity: 4, flags: flagNoTx | flagNoScript | flagBlocking,
			group: "generic", since: "7.2.0", summary: "Blocks until all of the preceding write commands sent by the connection are written to the append-only file of the primary and/or replicas.", complexity: "O(1)"},
		&command{name: "debug", fn: cmdDebug, arity: -2, flags: std | flagNoMulti,
			group: "server", since: "1.0.0", summary: "A container for debugging commands", complexity: "Depends on subcommand."},
		&command{name: "function", arity: -2, flags: flagNoTx,
			group: "scripting", since: "7.0.0", summary: "A container for function commands", complexity: "Depends on subcommand."},
		&command{name: "script", arity: -2, flags: flagNoTx,
			group: "scripting", since: "2.6.0", summary: "A container for Lua scripts management commands", complexity: "Depends on subcommand."},
		&command{name: "latency", arity: -2, flags: flagNoTx,
			group: "server", since: "2.8.13", summary: "A container for latency diagnostics commands", complexity: "Depends on subcommand."},
		&command{name: "memory", arity: -2, flags: flagNoTx,
			group: "server", since: "4.0.0", summary: "A container for memory diagnostics commands", complexity: "Depends on subcommand."},
	)
	help := func(fn func(*Session, [][]byte)) *command {
		return &command{name: "help", fn: fn, arity: 2, flags: flagNoTx | flagLoading | flagStale,
			since: "5.0.0", summary: "Show helpful text about the different subcommands", complexity: "O(1)"}
	}
	subcommands("function",
		&command{name: "flush", fn: cmdFunctionFlush, arity: -2, flags: flagNoTx | flagNoScript,
			since: "7.0.0", summary: "Deleting all functions", complexity: "O(N) where N is the number of functions deleted"},
		help(cmdFunctionHelp),
	)
	subcommands("script",
		&command{name: "flush", fn: cmdScriptFlush, arity: -2, flags: flagNoTx | flagNoScript,
			since: "2.6.0", summary: "Remove all the scripts from the script cache.", complexity: "O(N) with N being the number of scripts in cache"},
		help(cmdScriptHelp),
	)
	subcommands("latency",
		&command{name: "latest", fn: cmdLatencyEmpty, arity: 2, flags: std,
			since: "2.8.13", summary: "Return the latest latency samples for all events.", complexity: "O(1)"},
		&command{name: "history", fn: cmdLatencyEmpty, arity: 3, flags: std,
			since: "2.8.13", summary: "Return timestamp-latency samples for the event.", complexity: "O(1)"},
		&command{name: "reset", fn: cmdLatencyReset, arity: -2, flags: std,
			since: "2.8.13", summary: "Reset latency data for one or more events.", complexity: "O(1)"},
		&command{name: "graph", fn: cmdLatencyGraph, arity: 3, flags: std,
			since: "2.8.13", summary: "Return a latency graph for the event.", complexity: "O(1)"},
		&command{name: "doctor", fn: cmdLatencyDoctor, arity: 2, flags: std,
			since: "2.8.13", summary: "Return a human readable latency analysis report.", complexity: "O(1)"},
		&command{name: "histogram", fn: cmdLatencyHistogram, arity: -2, flags: std,
			since: "7.0.0", summary: "Return the cumulative distribution of latencies of a subset of commands or all.", complexity: "O(N) where N is the number of commands with latency information being retrieved."},
		help(cmdLatencyHelp),
	)
	subcommands("memory",
		&command{name: "usage", fn: cmdMemoryUsage, arity: -3, flags: flagReadonly, firstKey: 2, lastKey: 2, step: 1,
			since: "4.0.0", summary: "Estimate the memory usage of a key", complexity: "O(N) where N is the number of samples."},
		&command{name: "stats", fn: cmdMemoryStats, arity: 2, flags: flagNoTx,
			since: "4.0.0", summary: "Show memory usage details", complexity: "O(1)"},
		&command{name: "doctor", fn: cmdMemoryDoctor, arity: 2, flags: flagNoTx,
			since: "4.0.0", summary: "Outputs memory problems report", complexity: "O(1)"},
		&command{name: "malloc-stats", fn: cmdMemoryMallocStats, arity: 2, flags: flagNoTx,
			since: "4.0.0", summary: "Show allocator internal stats", complexity: "Depends on how much memory is allocated, could be slow"},
		&command{name: "purge", fn: cmdMemoryPurge, arity: 2, flags: flagNoTx,
			since: "4.0.0", summary: "Ask the allocator to release memory", complexity: "Depends on how much memory is allocated, could be slow"},
		help(cmdMemoryHelp),
	)
}

func cmdTime(c *Session, args [][]byte) {
	now := time.Now()
	c.array(2)
	c.bulkString(strconv.FormatInt(now.Unix(), 10))
	c.bulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// cmdLastSave answers when the server started: mullet takes no snapshots,
// and Redis answers its start time too until its first save.
func cmdLastSave(c *Session, args [][]byte) { c.int(c.core.lastSave.Load()) }

// cmdRole: a master with no replicas.
func cmdRole(c *Session, args [][]byte) {
	c.array(3)
	c.bulkString("master")
	c.int(0)
	c.array(0)
}

func cmdNoCluster(c *Session, args [][]byte) {
	c.errorReply("ERR This instance has cluster support disabled")
}

// rejectInMulti refuses a command that Redis refuses inside MULTI before
// queueing it (its no_multi flag, or a refused DEBUG): the error is
// immediate and the transaction is spoiled. The command is registered
// flagNoMulti so that it reaches its handler rather than the queue.
func (c *Session) rejectInMulti(msg string) {
	c.errorReply(msg)
	if c.multi {
		c.multiDirty = true
	}
}

// cmdShutdown asks the owner of the server (Config.Shutdown) to stop: the
// AOF is flushed and synced on the way down. As in Redis, success has no
// reply: the connection just closes. NOSAVE and SAVE are passed on; NOW
// and FORCE are accepted (there is no replica to wait for and nothing
// that could fail to save); ABORT finds nothing to abort, as a shutdown
// here never waits.
func cmdShutdown(c *Session, args [][]byte) {
	if c.multi {
		c.rejectInMulti("ERR Command not allowed inside a transaction")
		return
	}
	var nosave, save, abort, other bool
	for _, a := range args[1:] {
		switch strings.ToLower(string(a)) {
		case "nosave":
			nosave = true
		case "save":
			save = true
		case "now", "force":
			other = true
		case "abort":
			abort = true
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	if abort && (nosave || save || other) || nosave && save {
		c.errorReply(msgSyntax)
		return
	}
	if abort {
		c.errorReply("ERR No shutdown in progress.")
		return
	}
	c.closeAfter = true
	if !c.core.shutdownF.CompareAndSwap(false, true) {
		return // already on its way down
	}
	c.core.log.Info("SHUTDOWN requested by client", "client", c.id, "addr", c.addr, "nosave", nosave)
	if f := c.core.cfg.Shutdown; f != nil {
		go f(!nosave)
		return
	}
	// Shutdown waits for this client's goroutine, so it cannot run on it.
	go c.core.host.Shutdown(context.Background())
}

// cmdBGRewriteAOF starts an AOF rewrite. With appendonly off there is no
// AOF to rewrite (Redis would write one anyway); mullet answers as Redis
// does and does nothing: turning appendonly on writes a fresh AOF.
func cmdBGRewriteAOF(c *Session, args [][]byte) {
	if p := c.core.cfg.Persistence; p != nil {
		if err := p.Rewrite(); err != nil {
			c.replyErr(fmt.Errorf("%w: %w", errRewriteAOF, err))
			return
		}
	}
	c.simple("Background append only file rewriting started")
}

// msgNoRDB answers SAVE and BGSAVE. mullet keeps no RDB snapshots: the
// append-only file is its persistence, written as commands run. Claiming
// a snapshot was taken would mislead a backup script, so the commands fail
// and say what to use instead.
const msgNoRDB = " is not supported: mullet writes no RDB snapshots; it persists through the append-only file (appendonly yes), which BGREWRITEAOF compacts"

func cmdSave(c *Session, args [][]byte) {
	if c.multi {
		c.rejectInMulti("ERR Command not allowed inside a transaction")
		return
	}
	c.errorReply("ERR SAVE" + msgNoRDB)
}

func cmdBGSave(c *Session, args [][]byte) {
	if len(args) > 2 || len(args) == 2 && !strings.EqualFold(string(args[1]), "schedule") {
		c.errorReply(msgSyntax)
		return
	}
	c.errorReply("ERR BGSAVE" + msgNoRDB)
}

// cmdWaitAOF is Redis 7.2's WAITAOF numlocal numreplicas timeout: wait
// until this client's writes are fsynced to the AOF (numlocal 1), or the
// timeout (milliseconds; 0 waits forever) passes, and answer
// [local fsyncs, replica acks]. mullet has no replicas: asking for any
// waits out the timeout and counts 0, as Redis with none does.
func cmdWaitAOF(c *Session, args [][]byte) {
	numlocal, ok := parseInt(args[1])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	if numlocal < 0 || numlocal > 1 {
		c.errorReply("ERR value is out of range, value must between 0 and 1")
		return
	}
	numreplicas, ok := parseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	if numreplicas < 0 {
		c.errorReply("ERR value is out of range, must be positive")
		return
	}
	ms, msg := intTimeoutMs(args[3])
	if msg != "" {
		c.errorReply(msg)
		return
	}
	if ms > math.MaxInt64/int64(time.Millisecond) {
		c.errorReply(msgTimeoutRange)
		return
	}
	logging := c.core.ks.Logging()
	if numlocal > 0 && !logging {
		c.errorReply("ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.")
		return
	}
	ticket := max(c.ticket, c.lastTicket)
	// First without blocking: Sync with a context that is already done
	// answers at once whether the ticket is fsynced.
	local := int64(0)
	if logging {
		done, cancel := context.WithCancel(context.Background())
		cancel()
		if c.core.ks.Sync(done, ticket) == nil {
			local = 1
		}
	}
	// Inside a transaction a command may not block (Redis's
	// CLIENT_DENY_BLOCKING): it answers what is true now.
	if local >= numlocal && numreplicas == 0 || c.multi || c.inExec {
		c.waitAOFReply(local)
		return
	}
	needLocal, needRepl, timeout := local < numlocal, numreplicas > 0, time.Duration(ms)*time.Millisecond
	// The transport must not be held: the wait runs on its own goroutine
	// and the reply comes when it is over.
	c.conn.Suspend(func(stop <-chan struct{}) {
		local = c.core.waitAOFFor(stop, ticket, needLocal, needRepl, timeout)
	}, func() { c.waitAOFReply(local) })
}

// waitAOFFor waits until ticket is fsynced
// (needLocal) and replicas acknowledge (needRepl: never, there are none),
// or timeout (0: forever), or stop. It returns numlocal for the reply.
func (s *Core) waitAOFFor(stop <-chan struct{}, ticket uint64, needLocal, needRepl bool, timeout time.Duration) int64 {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	go func() {
		select {
		case <-stop:
			cancel()
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	local := int64(1)
	if needLocal {
		local = 0
		if err := s.ks.Sync(ctx, ticket); err == nil {
			local = 1
		} else if ctx.Err() == nil {
			s.log.Warn("WAITAOF: the AOF could not be synced", "err", err)
		}
	}
	if needRepl {
		<-ctx.Done() // no replica will ever acknowledge
	}
	return local
}

func (c *Session) waitAOFReply(local int64) {
	c.array(2)
	c.int(local)
	c.int(0)
}

// cmdDebug refuses DEBUG unless enable-debug-command allows it (for this
// client), with Redis's text. When allowed, it has only SLEEP: mullet's
// internals are not Redis's, so the other subcommands have nothing to act
// on.
func cmdDebug(c *Session, args [][]byte) {
	allowed := false
	switch c.core.set.String("enable-debug-command") {
	case "yes":
		allowed = true
	case "local":
		allowed = c.isLocal()
	}
	if !allowed {
		c.rejectInMulti(`ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`)
		return
	}
	if c.multi && !c.inExec {
		c.queue(commands["debug"], args) // allowed: queued like any command
		return
	}
	switch sub := strings.ToLower(string(args[1])); {
	case sub == "sleep" && len(args) == 3:
		sec, err := strconv.ParseFloat(string(args[2]), 64)
		if err != nil || math.IsNaN(sec) || sec < 0 || sec > 1e9 {
			c.errorReply("ERR value is not a valid float")
			return
		}
		time.Sleep(time.Duration(sec * float64(time.Second)))
		c.ok()
	case sub == "help" && len(args) == 2:
		c.help("DEBUG", []string{
			"SLEEP <seconds>",
			"    Stop the server for <seconds>. Decimals allowed.",
		})
	default:
		c.subcommandSyntaxError(args)
	}
}

// flushMode checks FUNCTION/SCRIPT FLUSH's optional ASYNC|SYNC.
func flushMode(args [][]byte) bool {
	if len(args) == 2 {
		return true
	}
	m := strings.ToLower(string(args[2]))
	return len(args) == 3 && (m == "async" || m == "sync")
}

// cmdFunctionFlush and cmdScriptFlush succeed: mullet runs no scripts or
// functions, so there is never anything to flush. Test suites and
// deployment tools send them to start clean.
func cmdFunctionFlush(c *Session, args [][]byte) {
	if len(args) > 3 {
		c.subcommandSyntaxError(args)
		return
	}
	if !flushMode(args) {
		c.errorReply("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	c.ok()
}

func cmdScriptFlush(c *Session, args [][]byte) {
	if !flushMode(args) {
		c.errorReply("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	c.ok()
}

func cmdFunctionHelp(c *Session, args [][]byte) {
	c.help("FUNCTION", []string{
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
	})
}

func cmdScriptHelp(c *Session, args [][]byte) {
	c.help("SCRIPT", []string{
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
	})
}

// LATENCY: mullet records no latency events (Redis records none either
// while latency-monitor-threshold is 0, its default), so the reports are
// Redis's empty ones.

func cmdLatencyEmpty(c *Session, args [][]byte) { c.array(0) }

func cmdLatencyReset(c *Session, args [][]byte) { c.int(0) }

func cmdLatencyGraph(c *Session, args [][]byte) {
	c.errorReply("ERR No samples available for event '" + string(cString(args[2])) + "'")
}

// cmdLatencyHistogram answers no histograms: per-command latency
// distributions are not kept.
func cmdLatencyHistogram(c *Session, args [][]byte) { c.mapLen(0) }

func cmdLatencyDoctor(c *Session, args [][]byte) {
	if c.core.set.Int("latency-monitor-threshold") == 0 {
		c.verbatim(`I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.` + "\n")
		return
	}
	c.verbatim("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n")
}

func cmdLatencyHelp(c *Session, args [][]byte) {
	c.help("LATENCY", []string{
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
	})
}

// cmdMemoryUsage answers the bytes a key is accounted for, the measure
// maxmemory limits. SAMPLES is checked and ignored: the size is exact.
func cmdMemoryUsage(c *Session, args [][]byte) {
	for i := 3; i < len(args); i += 2 {
		if !strings.EqualFold(string(args[i]), "samples") || i+1 >= len(args) {
			c.errorReply(msgSyntax)
			return
		}
		n, ok := parseInt(args[i+1])
		if !ok {
			c.errorReply(msgNotInteger)
			return
		}
		if n < 0 {
			c.errorReply(msgSyntax)
			return
		}
	}
	n, ok := c.tx.MemoryUsage(c.db, args[2])
	if !ok {
		c.null()
		return
	}
	c.int(n)
}

// cmdMemoryStats answers Redis's MEMORY STATS fields from mullet's
// accounting (see infoMemory): the data is the dataset, the process's
// resident memory stands in for the allocator's figures.
func cmdMemoryStats(c *Session, args [][]byte) {
	ki := c.core.keyspaceInfo(c)
	used := c.core.notePeak()
	peak := c.core.admin.peak.Load()
	rss := rssBytes()
	var keys int64
	var dbs []int
	for i, d := range ki.dbs {
		if d.keys > 0 {
			keys += int64(d.keys)
			dbs = append(dbs, i)
		}
	}
	ratio := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	perKey := int64(0)
	if keys > 0 {
		perKey = used / keys
	}
	c.mapLen(27 + len(dbs))
	kv := func(name string, v int64) {
		c.bulkString(name)
		c.int(v)
	}
	kv("peak.allocated", peak)
	kv("total.allocated", used)
	kv("startup.allocated", 0)
	kv("replication.backlog", 0)
	kv("clients.slaves", 0)
	kv("clients.normal", 0)
	kv("cluster.links", 0)
	kv("aof.buffer", 0)
	kv("lua.caches", 0)
	kv("functions.caches", 0)
	for _, i := range dbs {
		c.bulkString("db." + strconv.Itoa(i))
		c.mapLen(3)
		kv("overhead.hashtable.main", 0)
		kv("overhead.hashtable.expires", 0)
		kv("overhead.hashtable.slot-to-keys", 0)
	}
	kv("overhead.total", 0)
	kv("keys.count", keys)
	kv("keys.bytes-per-key", perKey)
	kv("dataset.bytes", used)
	c.bulkString("dataset.percentage")
	c.double(ratio(used*100, used))
	c.bulkString("peak.percentage")
	c.double(ratio(used*100, peak))
	kv("allocator.allocated", used)
	kv("allocator.active", used)
	kv("allocator.resident", rss)
	c.bulkString("allocator-fragmentation.ratio")
	c.double(1)
	kv("allocator-fragmentation.bytes", 0)
	c.bulkString("allocator-rss.ratio")
	c.double(ratio(rss, used))
	kv("allocator-rss.bytes", rss-used)
	c.bulkString("rss-overhead.ratio")
	c.double(1)
	kv("rss-overhead.bytes", 0)
	c.bulkString("fragmentation")
	c.double(ratio(rss, used))
	kv("fragmentation.bytes", rss-used)
}

// memoryDoctorSmall is the size below which Redis's MEMORY DOCTOR declines
// to diagnose (5 MB).
const memoryDoctorSmall = 5 << 20

func cmdMemoryDoctor(c *Session, args [][]byte) {
	if c.core.ks.UsedMemory() < memoryDoctorSmall {
		c.verbatim("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
		return
	}
	c.verbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n")
}

// cmdMemoryMallocStats gives Redis's answer for an allocator without
// statistics (Go's runtime is not jemalloc).
func cmdMemoryMallocStats(c *Session, args [][]byte) {
	c.verbatim("Stats not supported for the current allocator")
}

// cmdMemoryPurge returns freed memory to the operating system, as
// jemalloc's purge does for Redis.
func cmdMemoryPurge(c *Session, args [][]byte) {
	debug.FreeOSMemory()
	c.ok()
}

func cmdMemoryHelp(c *Session, args [][]byte) {
	c.help("MEMORY", []string{
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
	})
}
