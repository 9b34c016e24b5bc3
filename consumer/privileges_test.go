package consumer

import (
	"context"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"mullet/internal/testutil"
)

// TestMySQLPrivileges opens the sink as users missing one privilege each:
// INSERT or SELECT keep it from opening, with a message naming the
// privilege; CREATE only matters while the ledger does not exist; without
// DELETE it opens and PruneDenied says pruning will fail. The check leaves
// nothing in the ledger.
func TestMySQLPrivileges(t *testing.T) {
	m := testutil.StartMariaDB(t)
	db := testutil.MariaDBDatabase
	dsnFor := func(user string) string {
		cfg, err := mysql.ParseDSN(m.DSN(db))
		if err != nil {
			t.Fatal(err)
		}
		cfg.User, cfg.Passwd = user, "pw"
		return cfg.FormatDSN()
	}
	// The ledger exists for every case but "no CREATE, no ledger".
	if _, err := NewMySQL(t.Context(), m.DSN(db), 1, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, grants, ledger string
		wantErr              string // "" : opens
		pruneDenied          bool
	}{
		{"all4", "CREATE, INSERT, SELECT, DELETE", "", "", false},
		{"nocreate", "INSERT, SELECT, DELETE", "", "", false},
		{"nocreate2", "INSERT, SELECT, DELETE", "other_ledger", "cannot create the ledger table `other_ledger` (GRANT CREATE", false},
		{"noinsert", "CREATE, SELECT, DELETE", "", "lacks INSERT on the ledger table `mullet_ledger` (every batch records its ID there)", false},
		{"noselect", "CREATE, INSERT, DELETE", "", "lacks SELECT on the ledger table", false},
		{"nodelete", "CREATE, INSERT, SELECT", "", "", true},
	} {
		t.Run(tc.user, func(t *testing.T) {
			mustExec(t, m, "CREATE USER '"+tc.user+"'@'%' IDENTIFIED BY 'pw'")
			mustExec(t, m, "GRANT "+tc.grants+" ON "+db+".* TO '"+tc.user+"'@'%'")
			s, err := NewMySQL(context.Background(), dsnFor(tc.user), 1, &MySQLOptions{LedgerTable: tc.ledger})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewMySQL: %v, want an error with %q", err, tc.wantErr)
				}
				if IsRetryable(err) {
					t.Errorf("a missing privilege is retryable: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if pd := s.PruneDenied(); (pd != nil) != tc.pruneDenied ||
				pd != nil && !strings.Contains(pd.Error(), "lacks DELETE on the ledger table `mullet_ledger` (pruning") {
				t.Errorf("PruneDenied = %v, want denied: %v", pd, tc.pruneDenied)
			}
			err = s.Forget(t.Context(), []string{"x"})
			if (err != nil) != tc.pruneDenied {
				t.Errorf("Forget: %v", err)
			}
		})
	}
	if n, err := m.QueryInt("SELECT COUNT(*) FROM mullet_ledger"); err != nil || n != 0 {
		t.Errorf("the checks left %d ledger rows (%v)", n, err)
	}
}
