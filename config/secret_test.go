package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMaskDSN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"worker:secret@tcp(127.0.0.1:3306)/shop", "worker:***@tcp(127.0.0.1:3306)/shop"},
		{"worker:se:c@r/et@tcp(db:3306)/shop?parseTime=true", "worker:***@tcp(db:3306)/shop?parseTime=true"},
		{"worker@tcp(127.0.0.1:3306)/shop", "worker@tcp(127.0.0.1:3306)/shop"},
		{"worker:@unix(/run/mysqld/mysqld.sock)/shop", "worker:@unix(/run/mysqld/mysqld.sock)/shop"},
		{"/shop", "/shop"},
		{"postgres://u:p%40ss@db.example:5432/shop?sslmode=disable", "postgres://u:***@db.example:5432/shop?sslmode=disable"},
		{"postgresql://u@h/db", "postgresql://u@h/db"},
		{"postgres://u@h/db?password=secret&sslmode=disable", "postgres://u@h/db?password=***&sslmode=disable"},
		{"host=h user=u password=secret dbname=shop", "host=h user=u password=*** dbname=shop"},
		{"host=h password = 'a b\\' c' dbname=shop", "host=h password = *** dbname=shop"},
		{"PASSWORD=x", "PASSWORD=***"},
		{"", ""},
	} {
		if got := MaskDSN(tc.in); got != tc.want {
			t.Errorf("MaskDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(MaskDSN(tc.in), "secret") {
			t.Errorf("MaskDSN(%q) still shows the password", tc.in)
		}
	}
}

const testDSN = "worker:s3cret@tcp(127.0.0.1:3306)/shop"

// TestDSNMasked: CONFIG GET's paths (Get, Match, MatchAll) mask the
// password; the typed accessor the consumer reads gives the real DSN.
func TestDSNMasked(t *testing.T) {
	c := New()
	if err := c.Load("", [][]string{{"consumer-mysql-dsn", testDSN}}); err != nil {
		t.Fatal(err)
	}
	const masked = "worker:***@tcp(127.0.0.1:3306)/shop"
	if got, _ := c.Get("consumer-mysql-dsn"); got != masked {
		t.Errorf("Get = %q, want %q", got, masked)
	}
	for _, pat := range []string{"consumer-mysql-dsn", "consumer-*", "*"} {
		found := false
		for _, kv := range c.MatchAll(pat) {
			if strings.Contains(kv[1], "s3cret") {
				t.Errorf("CONFIG GET %s shows %s = %q", pat, kv[0], kv[1])
			}
			found = found || kv[0] == "consumer-mysql-dsn" && kv[1] == masked
		}
		if !found {
			t.Errorf("CONFIG GET %s lacks the masked DSN", pat)
		}
	}
	if got := c.String("consumer-mysql-dsn"); got != testDSN {
		t.Errorf("String = %q, want the real DSN", got)
	}
}

// TestDSNErrorsMasked: a refused flag or file line naming a DSN does not
// print the password.
func TestDSNErrorsMasked(t *testing.T) {
	err := New().Load("", [][]string{{"consumer-mysql-dsn", testDSN, "extra"}})
	var fe *FlagError
	if !errors.As(err, &fe) || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "worker:***@tcp") {
		t.Errorf("flag error %v: want a FlagError with the password masked", err)
	}
	path := filepath.Join(t.TempDir(), "m.conf")
	os.WriteFile(path, []byte("consumer-mysql-dsn "+testDSN+" extra\n"), 0o644)
	err = New().Load(path, nil)
	var fle *FileError
	if !errors.As(err, &fle) || strings.Contains(err.Error(), "s3cret") || strings.Contains(fle.Report(), "s3cret") ||
		!strings.Contains(err.Error(), "worker:***@tcp") {
		t.Errorf("file error %v: want a FileError with the password masked", err)
	}
}

// TestRewriteDSN: CONFIG REWRITE writes a DSN the file gave as it is
// (never the masked form), and never writes one given outside the file.
func TestRewriteDSN(t *testing.T) {
	dir := t.TempDir()
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// From the file: kept verbatim, real password.
	inFile := filepath.Join(dir, "file.conf")
	os.WriteFile(inFile, []byte("port 7000\nconsumer-mysql-dsn "+testDSN+"\n"), 0o644)
	c := New()
	if err := c.Load(inFile, [][]string{{"port", "7001"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(""); err != nil {
		t.Fatal(err)
	}
	if got := read(inFile); !strings.HasPrefix(got, "port 7001\nconsumer-mysql-dsn "+Quote(testDSN)+"\n") {
		t.Errorf("rewritten file with its own DSN:\n%s", got)
	}

	// From a flag, over the file's: the file's line stays.
	c = New()
	if err := c.Load(inFile, [][]string{{"consumer-mysql-dsn", "other:flagpw@tcp(h:1)/x"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(""); err != nil {
		t.Fatal(err)
	}
	if got := read(inFile); strings.Contains(got, "flagpw") || strings.Contains(got, "***") || !strings.Contains(got, "s3cret") {
		t.Errorf("rewrite with a flag DSN over the file's:\n%s", got)
	}

	// From the environment, the file has none: nothing appended.
	bare := filepath.Join(dir, "bare.conf")
	os.WriteFile(bare, []byte("port 7000\n"), 0o644)
	c = New()
	if err := c.Load(bare, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.SetExternal("consumer-mysql-dsn", testDSN); err != nil {
		t.Fatal(err)
	}
	if got := c.String("consumer-mysql-dsn"); got != testDSN {
		t.Fatalf("SetExternal: String = %q", got)
	}
	if err := c.Set("maxmemory", "1mb"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(""); err != nil {
		t.Fatal(err)
	}
	if got := read(bare); strings.Contains(got, "dsn") || !strings.Contains(got, "maxmemory 1mb") {
		t.Errorf("rewrite with a DSN from the environment:\n%s", got)
	}
	if err := c.SetExternal("no-such-directive", "x"); err == nil {
		t.Error("SetExternal of an unknown directive succeeded")
	}
}
