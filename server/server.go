package server

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"mullet/command"
	"mullet/config"
	"mullet/queue"
)

// Version is the Redis version mullet reports in INFO and HELLO.
const Version = command.Version

// Persistence is what the server needs from the append-only file; cmd wires
// it, so server never imports aof.
type Persistence = command.Persistence

// InfoSection adds a section to INFO (the consumer's, for example).
type InfoSection = command.InfoSection

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

	// GoroutinePerConn serves every plain-TCP connection with a goroutine
	// of its own, as TLS connections always are, instead of the event
	// loops (cmd/mullet sets it when MULLET_EVENTLOOP=0).
	GoroutinePerConn bool
}

// Server speaks RESP to clients and runs their commands in its
// command.Core. Plain-TCP connections are served by event loops, one per
// thread running Go code (loop_linux.go); TLS connections, and all of
// them with event loops off, by a goroutine each (client.serve). The owner
// of a connection is the only one that reads from and writes to it.
type Server struct {
	cfg  Config
	core *command.Core
	ks   *queue.Keyspace
	set  *config.Config
	log  *slog.Logger
	done chan struct{} // closed by Shutdown: blocked clients wake and leave

	mu          sync.Mutex // guards the fields below
	listeners   []net.Listener
	clients     map[int64]*client
	closing     bool
	monitorList []*client

	wg         sync.WaitGroup // connections (goroutines and loop clients)
	loopsOnce  sync.Once
	loops      []*loop
	loopCronWG sync.WaitGroup // loopCron
	nextLoop   atomic.Uint64
	nextID     atomic.Int64
	settings   atomic.Pointer[Settings]
	drainBy    atomic.Int64 // unix ns; set by Shutdown: pending replies must be written by then
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
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.core = command.New(command.Config{
		Keyspace:    cfg.Keyspace,
		Settings:    cfg.Settings,
		Logger:      s.log,
		Persistence: cfg.Persistence,
		Sections:    cfg.Sections,
		Shutdown:    cfg.Shutdown,
		Version:     cfg.Version,
	}, s)
	s.SetSettings(SettingsFrom(s.set))
	for _, name := range settingsDirectives {
		s.set.OnChange(name, func(string) error { s.SetSettings(SettingsFrom(s.set)); return nil })
	}
	return s
}

// SetLoading marks the server as loading the AOF: clients get -LOADING
// for everything but a few connection commands, and for CONFIG SET of
// appendonly (config's DenyLoading directives).
func (s *Server) SetLoading(b bool) { s.core.SetLoading(b) }

// Replay returns a function that runs one command read back from the
// append-only file (command.Core.Replay).
func (s *Server) Replay() func(argv [][]byte) error { return s.core.Replay() }

// Info returns the INFO text of a section ("" for the default ones, "all"
// for all), as the INFO command would; the metrics exporter reads it in
// process.
func (s *Server) Info(section string) (string, error) { return s.core.Info(section) }

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
	s.core.Start()
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
	s.core.Stats.Connections.Add(1)
	if tc := tcpConn(conn); tc != nil {
		tc.SetNoDelay(true)
		if ka := s.cur().KeepAlive; ka > 0 {
			tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: ka, Interval: ka / 3, Count: 3})
		}
	}
	if msg := s.protectedRefusal(conn); msg != "" {
		s.core.Stats.Rejected.Add(1)
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
	if int64(len(s.clients)) >= s.cur().MaxClients {
		s.mu.Unlock()
		s.core.Stats.Rejected.Add(1)
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

// Sessions returns the sessions of the connected clients in connection
// order, as Redis lists them (command.Host).
func (s *Server) Sessions() []*command.Session {
	s.mu.Lock()
	out := make([]*command.Session, 0, len(s.clients))
	for _, cl := range s.clients {
		out = append(out, cl.sess)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *command.Session) int { return cmp.Compare(a.ID(), b.ID()) })
	return out
}

// Session returns the session of a connected client (command.Host).
func (s *Server) Session(id int64) *command.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[id]; c != nil {
		return c.sess
	}
	return nil
}

// Port is the port the first TCP listener is bound to (which differs
// from the port directive when the server was given its own listener), or
// 0 (command.Host).
func (s *Server) Port() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range s.listeners {
		if a, ok := ln.Addr().(*net.TCPAddr); ok {
			return int64(a.Port)
		}
	}
	return 0
}

// removeClient forgets a client whose goroutine is ending.
func (s *Server) removeClient(c *client) {
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
	s.wg.Done()
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
	s.core.Close()
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
