package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"mullet/config"
	respc "mullet/internal/resp"
)

// TestDSNFromEnvironment runs the binary with the DSN in MULLET_MYSQL_DSN
// only: the consumer uses it (its connection errors name the address), and
// neither CONFIG GET, CONFIG REWRITE's file, INFO nor the log shows the
// password.
func TestDSNFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "mullet.conf")
	os.WriteFile(conf, []byte("dir "+dir+"\nappendonly no\nconsumer-route order_queue orders\n"), 0o644)
	port := freePort(t) // nothing listens there: the sink keeps retrying
	dsn := "worker:Sup3rSecret@tcp(127.0.0.1:" + strconv.Itoa(port) + ")/shop"
	t.Setenv("MULLET_MYSQL_DSN", dsn)
	p := startMullet(t, 0, conf)
	c, err := respc.Dial(p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	do := func(args ...string) string {
		v, err := c.Do(respc.Args(args...)...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return fmt.Sprint(v)
	}
	masked := "worker:***@tcp(127.0.0.1:" + strconv.Itoa(port) + ")/shop"

	if s := do("CONFIG", "GET", "consumer-mysql-dsn"); !strings.Contains(s, masked) || strings.Contains(s, "Sup3rSecret") {
		t.Errorf("CONFIG GET consumer-mysql-dsn = %s, want %s", s, masked)
	}
	if s := do("CONFIG", "REWRITE"); s != "OK" {
		t.Fatalf("CONFIG REWRITE: %s", s)
	}
	data, _ := os.ReadFile(conf)
	if strings.Contains(string(data), "dsn") {
		t.Errorf("CONFIG REWRITE wrote the DSN from the environment into the file:\n%s", data)
	}
	info := do("INFO", "consumer")
	if strings.Contains(info, "Sup3rSecret") {
		t.Errorf("INFO shows the password:\n%s", info)
	}
	p.stop()
	log := p.logText()
	if strings.Contains(log, "Sup3rSecret") || !strings.Contains(log, config.MaskDSN(dsn)) {
		t.Errorf("log shows the password, or not the masked DSN:\n%s", log)
	}
	if !strings.Contains(log, "cannot open the sink") {
		t.Errorf("the consumer did not use the DSN from the environment:\n%s", log)
	}
}

// TestApplyEnv: the environment sets a DSN directive unless a flag names
// it; a variable for a directive this build lacks is reported, not fatal.
func TestApplyEnv(t *testing.T) {
	env := map[string]string{"MULLET_MYSQL_DSN": "a:b@tcp(h:1)/env", "MULLET_POSTGRES_DSN": "postgres://u:p@h/db"}
	getenv := func(k string) string { return env[k] }
	_, hasPG := config.Describe("consumer-postgres-dsn")

	set := config.New()
	ignored, err := applyEnv(set, nil, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if got := set.String("consumer-mysql-dsn"); got != "a:b@tcp(h:1)/env" {
		t.Errorf("from the environment: %q", got)
	}
	if hasPG == (len(ignored) == 1) || !hasPG && ignored[0] != "MULLET_POSTGRES_DSN" {
		t.Errorf("ignored %v (build has consumer-postgres-dsn: %v)", ignored, hasPG)
	}

	set = config.New()
	flags := [][]string{{"CONSUMER-MYSQL-DSN", "a:b@tcp(h:1)/flag"}}
	if err := set.Load("", flags); err != nil {
		t.Fatal(err)
	}
	if _, err := applyEnv(set, flags, getenv); err != nil {
		t.Fatal(err)
	}
	if got := set.String("consumer-mysql-dsn"); got != "a:b@tcp(h:1)/flag" {
		t.Errorf("flag and environment: %q, want the flag's", got)
	}
}
