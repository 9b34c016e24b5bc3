//go:build linux

// Package testutil holds helpers shared by mullet's tests and bench programs.
package testutil

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Names of what StartMariaDB and Start create in a fresh server.
const (
	// MariaDBDatabase is the database created for tests and benchmarks.
	MariaDBDatabase = "mullet"
	// MariaDBUser is a user with every privilege on every database, but
	// connecting over TCP with a password, as mullet does in production.
	MariaDBUser = "mullet"
	// MariaDBPassword is MariaDBUser's password.
	MariaDBPassword = "mullet-test"
)

// These errors can be returned by Start and StartMariaDB.
var (
	// ErrMariaDBNotInstalled is returned when mariadbd or mariadb-install-db
	// cannot be found. Tests fail on it rather than skip: CI installs the
	// server, so a missing binary is a broken machine, not an optional test.
	ErrMariaDBNotInstalled = errors.New("testutil: MariaDB is not installed " +
		"(need mariadbd and mariadb-install-db; on Debian: apt-get install -y mariadb-server)")
)

// startTimeout bounds how long Start waits for a new server to accept
// connections. A fresh server (mariadb-install-db, then mariadbd) starts
// within a few seconds even on a loaded machine, a restart on an existing
// datadir much faster; the bound only matters when something is badly
// wrong.
const startTimeout = 60 * time.Second

// stopTimeout is how long Stop waits after SIGTERM before it sends SIGKILL.
// A clean InnoDB shutdown of a test-sized server takes well under a second.
const stopTimeout = 30 * time.Second

// MariaDB is a throwaway MariaDB server with its own datadir, socket and
// loopback port, run as a child process. Its methods are safe for concurrent
// use.
type MariaDB struct {
	// Dir holds the datadir (Dir/data), the socket, the pid file and the
	// server log (Dir/mariadbd.log).
	Dir string
	// Port is the TCP port on 127.0.0.1. It stays the same across Stop and
	// Start, so DSNs handed out earlier keep working after a restart.
	Port int

	args []string  // extra server flags
	logw io.Writer // extra copy of the server's log, or nil

	mu     sync.Mutex // guards the fields below and serialises Start/Stop/Kill
	cmd    *exec.Cmd  // nil when stopped
	exited chan struct{}
	admin  *sql.DB // root over TCP; nil when stopped
}

// A MariaDBOption changes how StartMariaDB sets up the server.
type MariaDBOption func(*mariaDBConfig)

type mariaDBConfig struct {
	dir  string
	args []string
}

// WithDir makes StartMariaDB use dir instead of a fresh tb.TempDir(). An
// already initialised datadir in dir is reused.
func WithDir(dir string) MariaDBOption {
	return func(c *mariaDBConfig) { c.dir = dir }
}

// WithServerArgs adds mariadbd flags, such as "--max-connections=20" or
// "--innodb-lock-wait-timeout=1". Later flags override the defaults.
func WithServerArgs(args ...string) MariaDBOption {
	return func(c *mariaDBConfig) { c.args = append(c.args, args...) }
}

// StartMariaDB starts a MariaDB for the test or benchmark tb, with a
// MariaDBDatabase database and a MariaDBUser user, and stops it when tb ends.
// It fails tb (never skips it) when MariaDB is not installed or does not
// start; the failure includes the tail of the server log.
func StartMariaDB(tb testing.TB, opts ...MariaDBOption) *MariaDB {
	tb.Helper()
	var cfg mariaDBConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.dir == "" {
		cfg.dir = tb.TempDir()
	}
	begin := time.Now()
	m, err := start(cfg.dir, 0, nil, cfg.args)
	if err != nil {
		tb.Fatalf("start MariaDB: %v", err)
	}
	// Registered after TempDir's cleanup, so it runs before the dir is removed.
	tb.Cleanup(func() {
		if err := m.Stop(); err != nil {
			tb.Errorf("stop MariaDB: %v", err)
		}
	})
	tb.Logf("MariaDB on 127.0.0.1:%d started in %v", m.Port, time.Since(begin).Round(time.Millisecond))
	return m
}

// Start starts a MariaDB in dir for programs outside tests (bench/). It
// initialises dir/data on first use and reuses it afterwards. port 0 picks a
// free loopback port. When logw is not nil it receives a copy of the server
// log, which is always written to dir/mariadbd.log. The caller must call Stop.
func Start(dir string, port int, logw io.Writer) (*MariaDB, error) {
	return start(dir, port, logw, nil)
}

func start(dir string, port int, logw io.Writer, args []string) (*MariaDB, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("testutil: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("testutil: %w", err)
	}
	if err := install(dir); err != nil {
		return nil, err
	}
	m := &MariaDB{Dir: dir, Port: port, args: args, logw: logw}
	// A port chosen by us may be taken by someone else before mariadbd binds
	// it; try a few fresh ones in that case.
	for attempt := 0; ; attempt++ {
		if port == 0 {
			if m.Port, err = freePort(); err != nil {
				return nil, err
			}
		}
		err = m.Start()
		if err == nil || port != 0 || attempt == 2 || !strings.Contains(err.Error(), "Bind on TCP/IP port") {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	// '%' matches 127.0.0.1 under --skip-name-resolve.
	for _, q := range []string{
		"CREATE USER IF NOT EXISTS '" + MariaDBUser + "'@'%' IDENTIFIED BY '" + MariaDBPassword + "'",
		"GRANT ALL PRIVILEGES ON *.* TO '" + MariaDBUser + "'@'%'",
	} {
		if err := m.Exec(q); err != nil {
			m.Stop()
			return nil, err
		}
	}
	return m, nil
}

// binary finds a MariaDB program on PATH or in the Debian locations, which
// are not on PATH for every user (/usr/sbin).
func binary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/bin", "/usr/local/mysql/bin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s not found", ErrMariaDBNotInstalled, name)
}

// install initialises dir/data unless a previous run did.
func install(dir string) error {
	datadir := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(datadir, "mysql")); err == nil {
		return nil
	}
	bin, err := binary("mariadb-install-db")
	if err != nil {
		return err
	}
	if _, err := binary("mariadbd"); err != nil {
		return err
	}
	args := []string{
		"--no-defaults", // the Debian config in /etc/mysql must not leak in
		"--datadir=" + datadir,
		// Concurrent bootstraps sharing /tmp fail ~1 in 4 ("Error on delete
		// of '/tmp/#sql-temptable-...'", "Unknown table
		// 'mysql.tmp_user_sys'"): go test runs packages in parallel.
		"--tmpdir=" + filepath.Join(dir, "tmp"),
		"--auth-root-authentication-method=normal", // root without unix_socket auth
		"--skip-test-db",
		// Same redo log size as the server, so the first start does not
		// resize it.
		"--innodb-log-file-size=256M",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("testutil: mariadb-install-db: %w\n%s", err, tail(out, 2000))
	}
	return nil
}

// serverArgs are the mariadbd flags. Buffers are sized for a 2-core CI
// machine shared with the code under test.
func (m *MariaDB) serverArgs() []string {
	args := []string{
		"--no-defaults", // must come first
		"--datadir=" + filepath.Join(m.Dir, "data"),
		"--socket=" + m.socketPath(),
		"--pid-file=" + filepath.Join(m.Dir, "mariadbd.pid"),
		"--tmpdir=" + filepath.Join(m.Dir, "tmp"),
		"--port=" + strconv.Itoa(m.Port),
		"--bind-address=127.0.0.1",
		"--skip-name-resolve",
		"--innodb-buffer-pool-size=256M",
		"--innodb-log-file-size=256M",
		"--max-connections=200",
		// MariaDB's compiled-in default is latin1; Debian's config (skipped
		// by --no-defaults) and every sane deployment use utf8mb4.
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
		"--skip-log-bin",
		"--performance-schema=OFF",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	return append(args, m.args...)
}

// socketPath keeps the unix socket under the 108-byte sun_path limit even
// when the test's temp dir is deep.
func (m *MariaDB) socketPath() string {
	p := filepath.Join(m.Dir, "mariadbd.sock")
	if len(p) < 100 {
		return p
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("mullet-mariadb-%d.sock", m.Port))
}

// Start starts the server again on the same datadir and port after Stop or
// Kill, and waits until it accepts connections. It is a no-op if the server
// is running.
func (m *MariaDB) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return nil
	}
	bin, err := binary("mariadbd")
	if err != nil {
		return err
	}
	logPath := filepath.Join(m.Dir, "mariadbd.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("testutil: %w", err)
	}
	logStart, _ := logf.Seek(0, io.SeekEnd)
	cmd := exec.Command(bin, m.serverArgs()...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	if m.logw != nil {
		cmd.Stdout = io.MultiWriter(logf, m.logw)
		cmd.Stderr = cmd.Stdout
	}
	// If the test binary dies (a panic, go test's -timeout) no Cleanup runs;
	// the kernel then kills the server rather than leak it with its port and
	// buffer pool. Pdeathsig fires when the forking OS thread exits, which Go
	// threads do not do unless locked with LockOSThread.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("testutil: start mariadbd: %w", err)
	}
	exited := make(chan struct{})
	// This goroutine owns cmd.Wait; everyone else waits on exited.
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	m.cmd, m.exited = cmd, exited

	admin, err := m.waitReady(exited)
	if err != nil {
		m.killLocked()
		log, _ := os.ReadFile(logPath)
		if int64(len(log)) > logStart {
			log = log[logStart:]
		}
		return fmt.Errorf("testutil: mariadbd on port %d: %w\n--- %s (tail):\n%s", m.Port, err, logPath, tail(log, 3000))
	}
	// The database exists before the admin pool that uses it by default.
	_, err = admin.Exec("CREATE DATABASE IF NOT EXISTS `" + MariaDBDatabase + "`")
	admin.Close()
	if err != nil {
		m.killLocked()
		return fmt.Errorf("testutil: create database: %w", err)
	}
	m.admin = sql.OpenDB(m.rootConnector(MariaDBDatabase))
	m.admin.SetMaxOpenConns(4)
	return nil
}

// rootConnector connects as root over TCP to database db ("" for none).
func (m *MariaDB) rootConnector(db string) driver.Connector {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "tcp"
	cfg.Addr = m.addr()
	cfg.DBName = db
	cfg.Timeout = time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		panic(err) // the config is ours and valid
	}
	return conn
}

// waitReady polls until root can run a query over TCP, the server exits, or
// startTimeout passes.
func (m *MariaDB) waitReady(exited <-chan struct{}) (*sql.DB, error) {
	db := sql.OpenDB(m.rootConnector(""))
	db.SetMaxOpenConns(1)
	var err error
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return db, nil
		}
		if time.Now().After(deadline) {
			db.Close()
			return nil, fmt.Errorf("not accepting connections after %v: %w", startTimeout, err)
		}
		select {
		case <-exited:
			db.Close()
			return nil, fmt.Errorf("exited during start-up")
		case <-tick.C:
		}
	}
}

func (m *MariaDB) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port)) }

// DSN returns a go-sql-driver/mysql DSN for MariaDBUser over TCP to database
// db ("" for none).
func (m *MariaDB) DSN(db string) string {
	cfg := mysql.NewConfig()
	cfg.User = MariaDBUser
	cfg.Passwd = MariaDBPassword
	cfg.Net = "tcp"
	cfg.Addr = m.addr()
	cfg.DBName = db
	return cfg.FormatDSN()
}

// Stop shuts the server down cleanly with SIGTERM, sends SIGKILL if it is
// still running after stopTimeout, and waits for it to exit. It is a no-op
// if the server is not running.
func (m *MariaDB) Stop() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return nil
	}
	m.closeAdminLocked()
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("testutil: stop mariadbd: %w", err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-m.exited:
	case <-timer.C:
		m.killLocked()
		return fmt.Errorf("testutil: mariadbd ignored SIGTERM for %v; killed it", stopTimeout)
	}
	m.cmd = nil
	return nil
}

// Kill kills the server with SIGKILL, as a crash would, and waits for it to
// exit. InnoDB recovers on the next Start. It is a no-op if the server is not
// running.
func (m *MariaDB) Kill() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		m.killLocked()
	}
}

func (m *MariaDB) killLocked() {
	m.closeAdminLocked()
	m.cmd.Process.Kill()
	<-m.exited
	m.cmd = nil
}

func (m *MariaDB) closeAdminLocked() {
	if m.admin != nil {
		m.admin.Close()
		m.admin = nil
	}
}

// Exec runs one statement as root, in database MariaDBDatabase.
func (m *MariaDB) Exec(query string, args ...any) error {
	db, err := m.adminDB()
	if err != nil {
		return err
	}
	if _, err := db.Exec(query, args...); err != nil {
		return fmt.Errorf("testutil: %s: %w", shorten(query), err)
	}
	return nil
}

// QueryInt runs a query returning one integer, as root, in database
// MariaDBDatabase.
func (m *MariaDB) QueryInt(query string, args ...any) (int64, error) {
	db, err := m.adminDB()
	if err != nil {
		return 0, err
	}
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("testutil: %s: %w", shorten(query), err)
	}
	return n, nil
}

// ConnectionsFrom returns how many connections user has open, as listed in
// information_schema.PROCESSLIST.
func (m *MariaDB) ConnectionsFrom(user string) (int, error) {
	n, err := m.QueryInt("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?", user)
	return int(n), err
}

func (m *MariaDB) adminDB() (*sql.DB, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.admin == nil {
		return nil, errors.New("testutil: MariaDB is not running")
	}
	return m.admin, nil
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before mariadbd binds it; start retries in that case.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testutil: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func shorten(q string) string {
	if len(q) > 80 {
		return q[:80] + "..."
	}
	return q
}
