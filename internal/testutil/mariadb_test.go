//go:build linux

package testutil

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestMariaDB starts a server, uses it as MariaDBUser, restarts it on the
// same datadir after a clean stop and after a crash, and checks that data
// survives and that Stop leaves no process behind.
func TestMariaDB(t *testing.T) {
	m := StartMariaDB(t)

	db, err := sql.Open("mysql", m.DSN(MariaDBDatabase))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(3)
	mustExec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec("CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20))")
	mustExec("INSERT INTO t VALUES (1, 'héllo ✓')")

	var cs string
	if err := db.QueryRow("SELECT @@character_set_server").Scan(&cs); err != nil || cs != "utf8mb4" {
		t.Errorf("character_set_server = %q, %v; want utf8mb4", cs, err)
	}

	// Hold three connections open and count them from the server's side.
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		if conns[i], err = db.Conn(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := conns[i].PingContext(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := m.ConnectionsFrom(MariaDBUser); err != nil || n != 3 {
		t.Errorf("ConnectionsFrom = %d, %v; want 3", n, err)
	}
	for _, c := range conns {
		c.Close()
	}

	for _, restart := range []struct {
		name string
		stop func() error
	}{
		{"after Stop", m.Stop},
		{"after Kill", func() error { m.Kill(); return nil }},
	} {
		if err := restart.stop(); err != nil {
			t.Fatal(err)
		}
		if err := db.Ping(); err == nil {
			t.Fatalf("%s: ping succeeded while stopped", restart.name)
		}
		if err := m.Exec("SELECT 1"); err == nil {
			t.Fatalf("%s: Exec succeeded while stopped", restart.name)
		}
		begin := time.Now()
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		t.Logf("restart %s took %v", restart.name, time.Since(begin).Round(time.Millisecond))
		var s string
		if err := db.QueryRow("SELECT s FROM t WHERE id = 1").Scan(&s); err != nil || s != "héllo ✓" {
			t.Fatalf("%s: row = %q, %v", restart.name, s, err)
		}
	}

	pid, err := os.ReadFile(filepath.Join(m.Dir, "mariadbd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/proc/" + string(trimNL(pid))); !os.IsNotExist(err) {
		t.Errorf("mariadbd pid %s still exists after Stop (%v)", pid, err)
	}
	if err := m.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// TestMariaDBServerArgs checks that extra flags reach the server and that a
// bad flag fails with the server's own explanation.
func TestMariaDBServerArgs(t *testing.T) {
	m := StartMariaDB(t, WithServerArgs("--max-connections=23"))
	if n, err := m.QueryInt("SELECT @@max_connections"); err != nil || n != 23 {
		t.Errorf("max_connections = %d, %v; want 23", n, err)
	}

	_, err := start(t.TempDir(), 0, nil, []string{"--no-such-flag"})
	if err == nil {
		t.Fatal("start with a bad flag succeeded")
	}
	t.Logf("bad flag: %v", err)
}

func TestMariaDBDSN(t *testing.T) {
	m := &MariaDB{Port: 3307}
	cfg, err := mysql.ParseDSN(m.DSN("app"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:3307" || cfg.DBName != "app" || cfg.User != MariaDBUser || cfg.Passwd != MariaDBPassword {
		t.Errorf("DSN parsed to %+v", cfg)
	}
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// TestMariaDBNotInstalled pins the message a machine without MariaDB gets.
func TestMariaDBNotInstalled(t *testing.T) {
	_, err := binary("mariadbd-that-does-not-exist")
	if !errors.Is(err, ErrMariaDBNotInstalled) || !strings.Contains(err.Error(), "apt-get install -y mariadb-server") {
		t.Errorf("err = %v", err)
	}
}
