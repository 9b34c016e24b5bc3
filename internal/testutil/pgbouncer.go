//go:build linux

package testutil

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// PgBouncerBinary is where Debian's pgbouncer package installs it.
const PgBouncerBinary = "/usr/sbin/pgbouncer"

// ErrPgBouncerNotInstalled is returned when pgbouncer cannot be found.
// Tests fail on it rather than skip: CI installs the package.
var ErrPgBouncerNotInstalled = errors.New("testutil: PgBouncer is not installed (on Debian: apt-get install -y pgbouncer)")

// PgBouncer is a throwaway PgBouncer in transaction pool mode in front of
// a Postgres, on its own loopback port, run as a child process (as user
// postgres when the test runs as root: it refuses root too).
type PgBouncer struct {
	Port int
	// ServerConns is the most server connections it opens to PostgreSQL
	// for the test database (default_pool_size).
	ServerConns int
	dir         string
}

// StartPgBouncer starts PgBouncer in transaction mode in front of p's
// PostgresDatabase, with at most serverConns connections to PostgreSQL,
// and stops it by PID when tb ends.
func StartPgBouncer(tb testing.TB, p *Postgres, serverConns int) *PgBouncer {
	tb.Helper()
	if _, err := os.Stat(PgBouncerBinary); err != nil {
		tb.Fatalf("%v: %v", ErrPgBouncerNotInstalled, err)
	}
	dir, err := os.MkdirTemp("", "mullet-pgbouncer-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if p.cred != nil {
		os.Chown(dir, int(p.cred.Uid), int(p.cred.Gid))
	}
	port, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	b := &PgBouncer{Port: port, ServerConns: serverConns, dir: dir}
	ini := fmt.Sprintf(`[databases]
%s = host=127.0.0.1 port=%d dbname=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = plain
auth_file = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 100
server_reset_query =
logfile = %s
pidfile = %s
`, PostgresDatabase, p.Port, PostgresDatabase, port, filepath.Join(dir, "users.txt"), serverConns,
		filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	files := map[string]string{
		"pgbouncer.ini": ini,
		"users.txt":     fmt.Sprintf("%q %q\n", PostgresUser, PostgresPassword),
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			tb.Fatal(err)
		}
		if p.cred != nil {
			os.Chown(path, int(p.cred.Uid), int(p.cred.Gid))
		}
	}
	cmd := exec.Command(PgBouncerBinary, filepath.Join(dir, "pgbouncer.ini"))
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("testutil: start pgbouncer: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			tb.Fatalf("testutil: pgbouncer exited during start-up: %s", tail(log, 2000))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testutil: pgbouncer not accepting connections after %v: %v", startTimeout, err)
		}
	}
	return b
}

// DSN returns a pgx URL for PostgresUser through the pooler.
func (b *PgBouncer) DSN() string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(PostgresUser, PostgresPassword),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port)), Path: "/" + PostgresDatabase,
		RawQuery: "sslmode=disable&connect_timeout=5"}
	return u.String()
}
