package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
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

// Persistence is what the server needs from the append-only file; cmd wires
// it, so server never imports aof.
type Persistence interface {
	// Rewrite starts a background rewrite (BGREWRITEAOF). An error whose
	// text is Redis's "Background append only file rewriting already in
	// progress" (the aof package's ErrRewriteInProgress) is shown to the
	// client as such; any other as Redis's generic failure, and logged.
	Rewrite() error
	// Info calls add for each INFO persistence field, in order.
	Info(add func(name, value string))
}

// InfoSection adds a section to INFO (the consumer's, for example).
type InfoSection struct {
	Name string
	Info func(add func(name, value string))
}

// Config wires a Server. Keyspace and Settings are required.
type Config struct {
	Keyspace *queue.Keyspace
	Settings *config.Config
	Logger   *slog.Logger // nil: slog.Default()

	// Persistence is the AOF; nil when appendonly is off.
	Persistence Persistence

	// Sections are extra INFO sections, shown after Redis's.
	Sections []InfoSection

	// Shutdown is called by the SHUTDOWN command (in its own goroutine);
	// save is false for NOSAVE. Nil: SHUTDOWN just closes the server.
	Shutdown func(save bool)

	// Version is mullet's own version, shown as mullet_version in INFO.
	Version string
}

// Server speaks RESP to clients and runs their commands against the
// keyspace. Each connection has one goroutine, which owns the connection
// and everything written to it.
type Server struct {
	cfg  Config
	ks   *queue.Keyspace
	set  *config.Config
	log  *slog.Logger
	done chan struct{} // closed by Shutdown: blocked clients wake and leave

	mu          sync.Mutex // guards the fields below
	listeners   []net.Listener
	clients     map[int64]*client
	closing     bool
	monitorList []*client

	wg        sync.WaitGroup // connections (goroutines and loop clients)
	loopsOnce sync.Once
	loops     []*loop
	nextLoop  atomic.Uint64
	loading   atomic.Bool
	monitors  atomic.Int32
	nextID    atomic.Int64
	started   time.Time
	lastSave  atomic.Int64
	slowlog   slowlog
	settings  settingsCache
	stats     serverStats
	shutdownF atomic.Bool
	drainBy   atomic.Int64 // unix ns; set by Shutdown: pending replies must be written by then
	admin     adminState   // INFO sampling, error stats, CLIENT PAUSE (cmd_info.go, cmd_client.go)
}

type serverStats struct {
	connections   atomic.Int64 // total_connections_received
	commands      atomic.Int64 // total_commands_processed
	rejected      atomic.Int64 // rejected_connections
	netIn         atomic.Int64
	netOut        atomic.Int64
	errorReplies  atomic.Int64
	unexpectedErr atomic.Int64
	outputLimited atomic.Int64 // client_output_buffer_limit_disconnections
	queryLimited  atomic.Int64 // client_query_buffer_limit_disconnections
}

// settingsCache holds directives read on every command or connection, as
// atomics refreshed by CONFIG SET hooks, so the hot path takes no lock.
type settingsCache struct {
	requirepass atomic.Pointer[string]
	maxClients  atomic.Int64
	timeout     atomic.Int64 // seconds; 0: never
	maxBulk     atomic.Int64
	maxQuery    atomic.Int64
	slowerThan  atomic.Int64 // microseconds; <0: off
	slowlogLen  atomic.Int64
	protected   atomic.Bool
	keepalive   atomic.Int64 // seconds
	syncAlways  atomic.Bool  // appendfsync always: loops do not wait out fdatasync

	output atomic.Pointer[config.OutputBufferLimit] // normal class, see limits.go
}

// New returns a server; call Serve to accept clients.
func New(cfg Config) *Server {
	s := &Server{
		cfg:     cfg,
		ks:      cfg.Keyspace,
		set:     cfg.Settings,
		log:     cfg.Logger,
		done:    make(chan struct{}),
		clients: make(map[int64]*client),
		started: time.Now(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.lastSave.Store(time.Now().Unix())
	s.loadSettings()
	for _, name := range []string{"requirepass", "maxclients", "timeout", "proto-max-bulk-len",
		"client-query-buffer-limit", "slowlog-log-slower-than", "slowlog-max-len", "protected-mode", "tcp-keepalive",
		"client-output-buffer-limit", "appendfsync"} {
		s.set.OnChange(name, func(string) error { s.loadSettings(); return nil })
	}
	s.set.OnChange("maxmemory", func(string) error {
		s.ks.SetMaxMemory(s.set.Size("maxmemory"))
		return nil
	})
	return s
}

func (s *Server) loadSettings() {
	pass := s.set.String("requirepass")
	s.settings.requirepass.Store(&pass)
	s.settings.maxClients.Store(s.set.Int("maxclients"))
	s.settings.timeout.Store(s.set.Int("timeout"))
	s.settings.maxBulk.Store(s.set.Size("proto-max-bulk-len"))
	s.settings.maxQuery.Store(s.set.Size("client-query-buffer-limit"))
	s.settings.slowerThan.Store(s.set.Int("slowlog-log-slower-than"))
	s.settings.slowlogLen.Store(s.set.Int("slowlog-max-len"))
	s.settings.protected.Store(s.set.Bool("protected-mode"))
	s.settings.keepalive.Store(s.set.Int("tcp-keepalive"))
	s.settings.syncAlways.Store(s.set.String("appendfsync") == "always")
	s.loadOutputLimit()
	s.slowlog.trim(int(s.settings.slowlogLen.Load()))
}

// SetLoading marks the server as loading the AOF: clients get -LOADING
// for everything but a few connection commands, and for CONFIG SET of
// appendonly (config's DenyLoading directives).
func (s *Server) SetLoading(b bool) {
	s.set.SetLoading(b)
	s.loading.Store(b)
}

// Serve accepts connections on ln until Shutdown. Temporary accept errors
// back off from 5 ms to 1 s, as net/http does, rather than spinning.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, ln)
	s.startCron()
	s.mu.Unlock()
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return ErrServerClosed
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscallEMFILE) || errors.Is(err, syscallENFILE) {
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else {
					delay = min(2*delay, time.Second)
				}
				s.log.Error("accept error; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.accept(conn)
	}
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("server: closed")

func (s *Server) accept(conn net.Conn) {
	s.stats.connections.Add(1)
	if tc := tcpConn(conn); tc != nil {
		tc.SetNoDelay(true)
		if ka := s.settings.keepalive.Load(); ka > 0 {
			tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Duration(ka) * time.Second,
				Interval: time.Duration(ka) * time.Second / 3, Count: 3})
		}
	}
	if msg := s.protectedRefusal(conn); msg != "" {
		s.stats.rejected.Add(1)
		go s.refuse(conn, "-"+msg+"\r\n")
		return
	}
	c := newClient(s, conn)
	looped := s.takeOver(c)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.closeSocket()
		return
	}
	if int64(len(s.clients)) >= s.settings.maxClients.Load() {
		s.mu.Unlock()
		s.stats.rejected.Add(1)
		c.writeAndClose("-" + msgMaxClients + "\r\n")
		return
	}
	s.clients[c.id] = c
	s.wg.Add(1)
	s.mu.Unlock()
	if looped {
		c.start()
		return
	}
	go c.serve()
}

// removeClient forgets a client whose goroutine is ending.
func (s *Server) removeClient(c *client) {
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
	s.wg.Done()
}

// client finds a connected client by id.
func (s *Server) client(id int64) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[id]
}

// Shutdown stops accepting, wakes blocked clients, closes every connection
// after its pending replies, and waits for the connection goroutines or
// ctx. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		s.beginDrain()
		close(s.done)
		for _, ln := range s.listeners {
			ln.Close()
		}
		for _, c := range s.clients {
			c.interrupt()
		}
	}
	s.mu.Unlock()
	s.stopLoops()
	waited := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for _, c := range s.clients {
			c.conn.Close()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// Done is closed when the server begins shutting down.
func (s *Server) Done() <-chan struct{} { return s.done }

// ClientCount returns the number of connected clients.
func (s *Server) ClientCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}
