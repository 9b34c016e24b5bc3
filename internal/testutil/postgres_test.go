//go:build linux

package testutil

import (
	"strings"
	"testing"
)

// TestPostgres starts a cluster, checks the test role is an ordinary user
// that may create tables, restarts it (pg_ctl restart -m fast) and kills
// it, and checks data survives both.
func TestPostgres(t *testing.T) {
	p := StartPostgres(t)
	if err := p.Exec("CREATE TABLE t (a int)"); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec("INSERT INTO t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	if n, err := p.QueryInt("SELECT count(*) FROM pg_roles WHERE rolname = $1 AND NOT rolsuper", PostgresUser); err != nil || n != 1 {
		t.Fatalf("role %s: %d, %v", PostgresUser, n, err)
	}
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if n, err := p.QueryInt("SELECT sum(a) FROM t"); err != nil || n != 3 {
		t.Fatalf("after restart and crash: sum %d, %v", n, err)
	}
	if !strings.HasPrefix(p.DSN(PostgresDatabase), "postgres://mullet:") {
		t.Errorf("DSN %s", p.DSN(PostgresDatabase))
	}
	if n, err := p.ConnectionsFrom(PostgresUser); err != nil || n != 0 {
		t.Errorf("connections from %s: %d, %v", PostgresUser, n, err)
	}
}
