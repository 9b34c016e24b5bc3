package command

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"mullet/config"
	"mullet/queue"
)

// Version is the Redis version mullet reports in INFO and HELLO: the one
// whose behaviour it matches, so clients that check it enable the right
// features.
const Version = "7.0.15"

// Persistence is what the commands need from the append-only file; cmd
// wires it, so neither command nor server imports aof.
type Persistence interface {
	// Rewrite starts a background rewrite (BGREWRITEAOF). An error that
	// Is queue.ErrRewriteInProgress is shown to the client as Redis's
	// "Background append only file rewriting already in progress"; any
	// other as Redis's generic failure, and logged.
	Rewrite() error
	// Info calls add for each INFO persistence field, in order.
	Info(add func(name, value string))
}

// InfoSection adds a section to INFO (the consumer's, for example).
type InfoSection struct {
	Name string
	Info func(add func(name, value string))
}

// Host is what the commands need from the front end that runs the core
// (server.Server for RESP): the sessions it serves and the listening
// port, for CLIENT LIST/KILL/UNBLOCK and INFO, and MONITOR's feed.
type Host interface {
	// Sessions returns the connected sessions in connection order.
	Sessions() []*Session
	// Session returns the session with this id, or nil.
	Session(id int64) *Session
	// Port is the TCP port listened on, for INFO (0: none).
	Port() int64
	// FeedMonitors shows a command that ran to the MONITOR clients.
	FeedMonitors(from *Session, line []byte)
	// Shutdown stops serving (SHUTDOWN with no Config.Shutdown).
	Shutdown(ctx context.Context) error
}

// Config wires a Core. Keyspace and Settings are required.
type Config struct {
	Keyspace *queue.Keyspace
	Settings *config.Config
	Logger   *slog.Logger // nil: slog.Default()

	// Persistence is the AOF; nil when appendonly is off.
	Persistence Persistence

	// Sections are extra INFO sections, shown after Redis's.
	Sections []InfoSection

	// Shutdown is called by the SHUTDOWN command (in its own goroutine);
	// save is false for NOSAVE. Nil: SHUTDOWN asks the Host to shut down.
	Shutdown func(save bool)

	// Version is mullet's own version, shown as mullet_version in INFO.
	Version string
}

// Core runs commands for every front end: the command table's per-core
// statistics, the keyspace, the settings the commands read, the slow log,
// INFO's counters and samplers, CLIENT PAUSE. One Core belongs to one
// server; nothing in it is shared between servers in a process.
type Core struct {
	cfg  Config
	host Host
	ks   *queue.Keyspace
	set  *config.Config
	log  *slog.Logger
	done chan struct{} // closed by Close: waits end

	stats    []cmdStats // per command, by command.idx
	unsized  cmdStats   // for commands registered after New (tests'), not shown
	loading  atomic.Bool
	monitors atomic.Int32
	started  time.Time
	lastSave atomic.Int64
	slowlog  slowlog
	settings settingsCache
	// Stats are the server-wide counters of INFO stats; the transport
	// updates the network and connection ones.
	Stats     Stats
	shutdownF atomic.Bool
	admin     adminState // INFO sampling, error stats, CLIENT PAUSE (info.go, client.go)

	cronOnce sync.Once
	closing  sync.Once
	wg       sync.WaitGroup // the cron goroutine
}

// Stats are the server-wide counters INFO stats shows.
type Stats struct {
	Connections   atomic.Int64 // total_connections_received
	Commands      atomic.Int64 // total_commands_processed
	Rejected      atomic.Int64 // rejected_connections
	NetIn         atomic.Int64
	NetOut        atomic.Int64
	ErrorReplies  atomic.Int64
	UnexpectedErr atomic.Int64
	OutputLimited atomic.Int64 // client_output_buffer_limit_disconnections
	QueryLimited  atomic.Int64 // client_query_buffer_limit_disconnections
}

// settingsCache holds directives the commands read on every call, as
// atomics refreshed by CONFIG SET hooks, so the hot path takes no lock.
type settingsCache struct {
	requirepass atomic.Pointer[string]
	maxClients  atomic.Int64
	maxBulk     atomic.Int64 // bytes; proto-max-bulk-len bounds APPEND and SETRANGE too
	slowerThan  atomic.Int64 // microseconds; <0: off
	slowlogLen  atomic.Int64
}

// New returns a Core for host.
func New(cfg Config, host Host) *Core {
	s := &Core{
		cfg:     cfg,
		host:    host,
		ks:      cfg.Keyspace,
		set:     cfg.Settings,
		log:     cfg.Logger,
		done:    make(chan struct{}),
		stats:   make([]cmdStats, len(byIndex)),
		started: time.Now(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.lastSave.Store(time.Now().Unix())
	s.loadSettings()
	// The keyspace's maxmemory is set here and by CONFIG SET only.
	s.ks.SetMaxMemory(s.set.Size("maxmemory"))
	for _, name := range []string{"requirepass", "maxclients", "proto-max-bulk-len",
		"slowlog-log-slower-than", "slowlog-max-len"} {
		s.set.OnChange(name, func(string) error { s.loadSettings(); return nil })
	}
	s.set.OnChange("maxmemory", func(string) error {
		s.ks.SetMaxMemory(s.set.Size("maxmemory"))
		return nil
	})
	return s
}

func (s *Core) loadSettings() {
	pass := s.set.String("requirepass")
	s.settings.requirepass.Store(&pass)
	s.settings.maxClients.Store(s.set.Int("maxclients"))
	s.settings.maxBulk.Store(s.set.Size("proto-max-bulk-len"))
	s.settings.slowerThan.Store(s.set.Int("slowlog-log-slower-than"))
	s.settings.slowlogLen.Store(s.set.Int("slowlog-max-len"))
	s.slowlog.trim(int(s.settings.slowlogLen.Load()))
}

// Keyspace returns the keyspace the commands run against.
func (s *Core) Keyspace() *queue.Keyspace { return s.ks }

// Logger returns the core's logger.
func (s *Core) Logger() *slog.Logger { return s.log }

// SetLoading marks the core as loading the AOF: sessions get -LOADING for
// everything but a few connection commands, and for CONFIG SET of
// appendonly (config's DenyLoading directives).
func (s *Core) SetLoading(b bool) {
	s.set.SetLoading(b)
	s.loading.Store(b)
}

// SetMonitors records how many MONITOR clients the host feeds, so that
// commands skip formatting their line when there are none.
func (s *Core) SetMonitors(n int) { s.monitors.Store(int32(n)) }

// AuthRequired reports whether a new session must authenticate first.
func (s *Core) AuthRequired() bool { return *s.settings.requirepass.Load() != "" }

// Done is closed when the core is closed: waiting commands end.
func (s *Core) Done() <-chan struct{} { return s.done }

// Start starts the core's periodic work (INFO's samplers); the first call
// starts it, later ones do nothing. Close stops it and waits.
func (s *Core) Start() {
	s.cronOnce.Do(func() {
		s.wg.Add(1)
		go s.cron()
	})
}

// Close ends waits (CLIENT PAUSE, WAITAOF) and the periodic work, and
// waits for it. It is safe to call more than once.
func (s *Core) Close() {
	s.closing.Do(func() { close(s.done) })
	s.cronOnce.Do(func() {}) // a later Start starts nothing
	s.wg.Wait()
}

// NoteSuspended counts a session the transport holds in Suspend (on) or
// releases: INFO counts them in blocked_clients, as Redis counts clients
// held by CLIENT PAUSE or WAITAOF.
func (s *Core) NoteSuspended(on bool) {
	if on {
		s.admin.waiting.Add(1)
	} else {
		s.admin.waiting.Add(-1)
	}
}

// statsOf returns cmd's statistics in this core.
func (s *Core) statsOf(cmd *command) *cmdStats {
	if cmd.idx < len(s.stats) {
		return &s.stats[cmd.idx]
	}
	return &s.unsized
}

// Started is when the core was created: the server's start, LASTSAVE's
// value until a save.
func (s *Core) Started() time.Time { return s.started }
