package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"mullet/internal/testutil"
)

// readmeBlock returns the fenced block that follows marker in README.md.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, marker)
	if i < 0 {
		t.Fatalf("README.md has no %q", marker)
	}
	s = s[i:]
	start := strings.Index(s, "```sh\n")
	end := strings.Index(s[start+6:], "```\n")
	if start < 0 || end < 0 {
		t.Fatalf("no fenced block after %q", marker)
	}
	return s[start+6 : start+6+end]
}

// readmeDSN returns the DSN README.md gives mullet in MULLET_MYSQL_DSN,
// pointed at m.
func readmeDSN(t *testing.T, m *testutil.MariaDB) *mysql.Config {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	match := regexp.MustCompile(`MULLET_MYSQL_DSN='([^']+)' make run`).FindSubmatch(data)
	if match == nil {
		t.Fatal("README.md gives no MULLET_MYSQL_DSN='...' make run")
	}
	cfg, err := mysql.ParseDSN(string(match[1]))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:3306" {
		t.Fatalf("README's DSN addresses %s; the test expects the default 127.0.0.1:3306 to redirect", cfg.Addr)
	}
	cfg.Addr = "127.0.0.1:" + strconv.Itoa(m.Port)
	return cfg
}

// TestReadmeMySQLSetup runs README.md's MySQL setup block exactly as
// printed against a fresh MariaDB (the mysql client finds it through
// ~/.my.cnf, and sudo is the identity: the test runs as the
// administrator), then starts mullet with the README's DSN and checks an
// order arrives with no privilege warning. A second user, granted all but
// DELETE, gets rows through but the WARN and the INFO field about the
// ledger not being pruned.
func TestReadmeMySQLSetup(t *testing.T) {
	block := readmeBlock(t, "<!-- setup-mysql:")
	// With name resolution, as a stock server has it: the README's
	// 'worker'@'localhost' is matched by mullet's TCP connection from
	// 127.0.0.1.
	m := testutil.StartMariaDB(t, testutil.WithServerArgs("--skip-name-resolve=0"))

	home := t.TempDir()
	bin := filepath.Join(home, "bin")
	os.Mkdir(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "sudo"), []byte("#!/bin/sh\nexec \"$@\"\n"), 0o755)
	os.WriteFile(filepath.Join(home, ".my.cnf"),
		[]byte("[client]\nhost=127.0.0.1\nport="+strconv.Itoa(m.Port)+"\nuser=root\n"), 0o600)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
	cmd.Env = append(os.Environ(), "HOME="+home, "PATH="+bin+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("README's setup block failed: %v\n%s\nblock:\n%s", err, out, block)
	}

	dir := t.TempDir()
	conf := filepath.Join(dir, "mullet.conf")
	os.WriteFile(conf, []byte("dir "+dir+"\nappendonly no\nconsumer-route order_queue orders\nconsumer-linger 0\n"), 0o644)

	t.Run("as printed", func(t *testing.T) {
		t.Setenv("MULLET_MYSQL_DSN", readmeDSN(t, m).FormatDSN())
		p := startMullet(t, 0, conf)
		r, err := dialResp(p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer r.close()
		if _, err := r.do("LPUSH", "order_queue", `{"id":2,"total":12}`); err != nil {
			t.Fatal(err)
		}
		info := waitRoute(t, r, map[string]string{"rows": "1"})
		if n, err := m.QueryInt("SELECT COUNT(*) FROM shop.orders WHERE id = 2 AND total = 12"); err != nil || n != 1 {
			t.Errorf("shop.orders holds %d of the order (%v)", n, err)
		}
		if strings.Contains(info, "prune_error") || strings.Contains(p.logText(), "level=WARN") {
			t.Errorf("a warning with the README's grants:\n%s\n%s", info, p.logText())
		}
	})

	t.Run("without DELETE", func(t *testing.T) {
		for _, q := range []string{
			"CREATE USER 'nodelete'@'%' IDENTIFIED BY 'pw'",
			"GRANT CREATE, INSERT, SELECT ON shop.* TO 'nodelete'@'%'",
		} {
			if err := m.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		cfg := readmeDSN(t, m)
		cfg.User, cfg.Passwd = "nodelete", "pw"
		t.Setenv("MULLET_MYSQL_DSN", cfg.FormatDSN())
		p := startMullet(t, 0, conf) // loglevel notice, the default
		r, err := dialResp(p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer r.close()
		for i := 10; i < 15; i++ {
			if _, err := r.do("LPUSH", "order_queue", `{"id":`+strconv.Itoa(i)+`,"total":1}`); err != nil {
				t.Fatal(err)
			}
		}
		waitRoute(t, r, map[string]string{"rows": "5"})
		deadline := time.Now().Add(20 * time.Second)
		for {
			info, err := r.do("INFO", "consumer")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(info, "consumer_ledger_prune_error:") && strings.Contains(info, "DELETE") &&
				!strings.Contains(info, "consumer_ledger_unpruned:0\r") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("INFO shows no prune error and unpruned records:\n%s", info)
			}
			time.Sleep(50 * time.Millisecond) // polling another process
		}
		if !regexp.MustCompile(`level=WARN .*the ledger will not be pruned.*lacks DELETE on the ledger table`).MatchString(p.logText()) {
			t.Errorf("no start-up WARN about the missing DELETE:\n%s", p.logText())
		}
		// The first prune (within a second) is refused, and says so.
		waitForOutput(t, p, `level=WARN msg="cannot prune the ledger: it grows by one row per batch until this is fixed" component=consumer ledger_unpruned=`)
	})
}
