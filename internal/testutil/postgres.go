//go:build linux

package testutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Names of what StartPostgres creates in a fresh cluster.
const (
	// PostgresDatabase is the database created for tests and benchmarks,
	// owned by PostgresUser (so it may create tables in schema public,
	// which PostgreSQL 15 no longer grants to everyone).
	PostgresDatabase = "mullet"
	// PostgresUser is an ordinary role (not a superuser) that logs in over
	// TCP with a password, as mullet does in production.
	PostgresUser = "mullet"
	// PostgresPassword is PostgresUser's password.
	PostgresPassword = "mullet-test"
	// postgresAdmin is the bootstrap superuser initdb creates.
	postgresAdmin = "postgres"
	// postgresAdminPassword is its password (scram over TCP).
	postgresAdminPassword = "postgres-test"
)

// PostgresBinDir is where Debian's postgresql-15 package installs the
// server programs (they are not on PATH).
const PostgresBinDir = "/usr/lib/postgresql/15/bin"

// These errors can be returned by StartPostgres.
var (
	// ErrPostgresNotInstalled is returned when initdb or postgres cannot be
	// found. Tests fail on it rather than skip: CI installs the package.
	ErrPostgresNotInstalled = errors.New("testutil: PostgreSQL 15 is not installed " +
		"(need " + PostgresBinDir + "/initdb and postgres; on Debian: apt-get install -y postgresql)")
)

// Postgres is a throwaway PostgreSQL cluster with its own data directory
// and loopback port, run as a child process. PostgreSQL refuses to run as
// root, so when the test runs as root (CI) initdb and postgres run as the
// unprivileged user the Debian package creates ("postgres"), in a
// directory that user owns. Its methods are safe for concurrent use.
type Postgres struct {
	// Dir holds the cluster (Dir/data) and the server log (Dir/postgres.log).
	Dir string
	// Port is the TCP port on 127.0.0.1; it stays the same across Stop and
	// Start, so DSNs handed out earlier keep working after a restart.
	Port int

	args []string // extra "-c name=value" settings
	cred *syscall.Credential

	mu     sync.Mutex // guards the fields below and serialises Start/Stop/Kill
	cmd    *exec.Cmd  // nil when stopped
	exited chan struct{}
	admin  *pgxpool.Pool // superuser in PostgresDatabase; nil when stopped
}

// A PostgresOption changes how StartPostgres sets up the server.
type PostgresOption func(*Postgres)

// WithSettings adds server settings as name=value, such as
// "max_connections=20" or "synchronous_commit=off" (postgres -c).
func WithSettings(settings ...string) PostgresOption {
	return func(p *Postgres) { p.args = append(p.args, settings...) }
}

// StartPostgres starts a PostgreSQL cluster for tb with a PostgresDatabase
// database owned by PostgresUser, and stops it (by PID) when tb ends. It
// fails tb (never skips it) when PostgreSQL is not installed or does not
// start; the failure includes the tail of the server log.
func StartPostgres(tb testing.TB, opts ...PostgresOption) *Postgres {
	tb.Helper()
	begin := time.Now()
	p, err := NewPostgres("", 0, opts...)
	if err != nil {
		tb.Fatalf("start PostgreSQL: %v", err)
	}
	tb.Cleanup(func() {
		if err := p.Stop(); err != nil {
			tb.Errorf("stop PostgreSQL: %v", err)
		}
		os.RemoveAll(p.Dir)
	})
	tb.Logf("PostgreSQL on 127.0.0.1:%d started in %v", p.Port, time.Since(begin).Round(time.Millisecond))
	return p
}

// NewPostgres starts a cluster for programs outside tests (bench/). dir ""
// makes a fresh directory under os.TempDir(), which the caller removes
// after Stop; an initialised dir is reused. Running as root, user postgres
// must be able to reach dir (every parent searchable), which "" ensures. port 0 picks a free loopback
// port. The caller must call Stop.
func NewPostgres(dir string, port int, opts ...PostgresOption) (*Postgres, error) {
	p := &Postgres{Port: port}
	for _, o := range opts {
		o(p)
	}
	for _, prog := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(PostgresBinDir, prog)); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrPostgresNotInstalled, err)
		}
	}
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("%w: running as root needs the user postgres: %v", ErrPostgresNotInstalled, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	var err error
	if dir == "" {
		// Not tb.TempDir(): its parent is private to root, and postgres
		// must reach its own directory.
		dir, err = os.MkdirTemp("", "mullet-pg-")
	} else {
		dir, err = filepath.Abs(dir)
		if err == nil {
			err = os.MkdirAll(dir, 0o700)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("testutil: %w", err)
	}
	p.Dir = dir
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, fmt.Errorf("testutil: %w", err)
		}
	}
	if err := p.initdb(); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		if port == 0 {
			if p.Port, err = freePort(); err != nil {
				return nil, err
			}
		}
		err = p.Start()
		if err == nil || port != 0 || attempt == 2 || !strings.Contains(err.Error(), "could not bind") {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// initdb creates Dir/data unless a previous run did. The superuser logs in
// with a password over TCP (scram-sha-256); there is no Unix socket.
func (p *Postgres) initdb() error {
	data := filepath.Join(p.Dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err == nil {
		return nil
	}
	pwfile := filepath.Join(p.Dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(postgresAdminPassword+"\n"), 0o600); err != nil {
		return fmt.Errorf("testutil: %w", err)
	}
	defer os.Remove(pwfile)
	if p.cred != nil {
		os.Chown(pwfile, int(p.cred.Uid), int(p.cred.Gid))
	}
	cmd := exec.Command(filepath.Join(PostgresBinDir, "initdb"),
		"-D", data, "-U", postgresAdmin, "--pwfile="+pwfile,
		"--auth-host=scram-sha-256", "--auth-local=trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-instructions",
		// A test cluster need not survive a power loss before its first
		// checkpoint; skipping the fsyncs halves the start-up time.
		"--no-sync")
	cmd.Dir = p.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Pdeathsig: syscall.SIGKILL}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("testutil: initdb: %w\n%s", err, tail(out, 2000))
	}
	return nil
}

// Start starts the server again on the same cluster and port after Stop,
// Restart or Kill, and waits until it accepts connections. It is a no-op if
// the server is running.
func (p *Postgres) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return nil
	}
	// After a Kill the old backends exit on their own once they notice
	// the postmaster is gone (they are not in its process group: each
	// calls setsid), and until the last one has, a new postmaster refuses
	// the data directory. Retry that case for a while.
	for deadline := time.Now().Add(startTimeout); ; {
		err := p.startLocked()
		if err == nil || !strings.Contains(err.Error(), "pre-existing shared memory block") || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *Postgres) startLocked() error {
	logPath := filepath.Join(p.Dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("testutil: %w", err)
	}
	logStart, _ := logf.Seek(0, io.SeekEnd)
	args := []string{"-D", filepath.Join(p.Dir, "data"),
		"-p", strconv.Itoa(p.Port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "max_connections=100",
		"-c", "shared_buffers=128MB",
		// The bar is measured with durable commits, PostgreSQL's default;
		// spelled out so no conf.d can change it.
		"-c", "synchronous_commit=on",
		"-c", "fsync=on",
		"-c", "logging_collector=off",
	}
	for _, s := range p.args {
		args = append(args, "-c", s)
	}
	cmd := exec.Command(filepath.Join(PostgresBinDir, "postgres"), args...)
	cmd.Dir = p.Dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Setpgid: Kill takes down the postmaster and whatever stays in its
	// group; the backends leave it (setsid) and exit when they see the
	// postmaster gone, as after a crash of the postmaster. Pdeathsig: a dying test binary does not leak
	// the server (see MariaDB.Start).
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("testutil: start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	if err := p.waitReadyLocked(exited); err != nil {
		p.killLocked()
		log, _ := os.ReadFile(logPath)
		if int64(len(log)) > logStart {
			log = log[logStart:]
		}
		return fmt.Errorf("testutil: postgres on port %d: %w\n--- %s (tail):\n%s", p.Port, err, logPath, tail(log, 3000))
	}
	return nil
}

// waitReadyLocked polls until the superuser can connect, creates the test
// role and database on a fresh cluster, and opens the admin pool.
func (p *Postgres) waitReadyLocked(exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	var err error
	for {
		err = p.bootstrap()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting connections after %v: %w", startTimeout, err)
		}
		select {
		case <-exited:
			return fmt.Errorf("exited during start-up: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cfg, err := pgxpool.ParseConfig(p.url(postgresAdmin, postgresAdminPassword, PostgresDatabase))
	if err != nil {
		return err
	}
	cfg.MaxConns = 4
	p.admin, err = pgxpool.NewWithConfig(context.Background(), cfg)
	return err
}

// bootstrap creates PostgresUser and PostgresDatabase if missing.
func (p *Postgres) bootstrap() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := pgxpool.New(ctx, p.url(postgresAdmin, postgresAdminPassword, "postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname = $1", PostgresUser).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := db.Exec(ctx, "CREATE ROLE "+PostgresUser+" LOGIN PASSWORD '"+PostgresPassword+"'"); err != nil {
			return err
		}
	}
	if err := db.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", PostgresDatabase).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := db.Exec(ctx, "CREATE DATABASE "+PostgresDatabase+" OWNER "+PostgresUser); err != nil {
			return err
		}
	}
	// Tables the tests create as the superuser are PostgresUser's to
	// write, as a DBA's GRANT would make them.
	app, err := pgxpool.New(ctx, p.url(postgresAdmin, postgresAdminPassword, PostgresDatabase))
	if err != nil {
		return err
	}
	defer app.Close()
	_, err = app.Exec(ctx, "ALTER DEFAULT PRIVILEGES FOR ROLE "+postgresAdmin+" GRANT ALL ON TABLES TO "+PostgresUser+"; "+
		"ALTER DEFAULT PRIVILEGES FOR ROLE "+postgresAdmin+" GRANT ALL ON SEQUENCES TO "+PostgresUser)
	return err
}

func (p *Postgres) url(usr, pass, db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(usr, pass),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port)), Path: "/" + db,
		RawQuery: "sslmode=disable&connect_timeout=5"}
	return u.String()
}

// DSN returns a pgx URL for PostgresUser over TCP to database db.
func (p *Postgres) DSN(db string) string { return p.url(PostgresUser, PostgresPassword, db) }

// Stop shuts the server down with SIGINT (PostgreSQL's fast shutdown:
// sessions are ended, transactions rolled back, then a checkpoint), sends
// SIGKILL to its process group after stopTimeout, and waits for it. It is
// a no-op if the server is not running.
func (p *Postgres) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil
	}
	p.closeAdminLocked()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("testutil: stop postgres: %w", err)
	}
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		p.killLocked()
		return fmt.Errorf("testutil: postgres ignored SIGINT for %v; killed it", stopTimeout)
	}
	p.cmd = nil
	return nil
}

// Restart is pg_ctl restart -m fast: Stop, then Start on the same port.
func (p *Postgres) Restart() error {
	if err := p.Stop(); err != nil {
		return err
	}
	return p.Start()
}

// Kill kills the postmaster and every backend with SIGKILL, as a crash
// would; the next Start runs crash recovery. No-op if not running.
func (p *Postgres) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		p.killLocked()
	}
}

func (p *Postgres) killLocked() {
	p.closeAdminLocked()
	// The process group is the postmaster's (Setpgid): its own PID.
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	p.cmd = nil
}

func (p *Postgres) closeAdminLocked() {
	if p.admin != nil {
		p.admin.Close()
		p.admin = nil
	}
}

func (p *Postgres) adminPool() (*pgxpool.Pool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.admin == nil {
		return nil, errors.New("testutil: PostgreSQL is not running")
	}
	return p.admin, nil
}

// Exec runs statements as the superuser in PostgresDatabase. Without args
// it uses the simple protocol, so query may hold several statements.
func (p *Postgres) Exec(query string, args ...any) error {
	db, err := p.adminPool()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.Exec(ctx, query, args...); err != nil {
		return fmt.Errorf("testutil: %s: %w", shorten(query), err)
	}
	return nil
}

// QueryInt runs a query returning one integer (any integer type, or a
// numeric with no fraction) as the superuser in PostgresDatabase.
func (p *Postgres) QueryInt(query string, args ...any) (int64, error) {
	db, err := p.adminPool()
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var n *int64
	if err := db.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("testutil: %s: %w", shorten(query), err)
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}

// QueryStrings runs a query returning one text column, as the superuser.
func (p *Postgres) QueryStrings(query string, args ...any) ([]string, error) {
	db, err := p.adminPool()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("testutil: %s: %w", shorten(query), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ConnectionsFrom returns how many sessions user has open, as listed in
// pg_stat_activity.
func (p *Postgres) ConnectionsFrom(usr string) (int, error) {
	n, err := p.QueryInt("SELECT count(*) FROM pg_stat_activity WHERE usename = $1", usr)
	return int(n), err
}
