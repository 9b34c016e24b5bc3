package server

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mullet/config"
	"mullet/internal/testutil"
)

// testCerts is a CA with a server and a client certificate, as PEM files.
type testCerts struct {
	dir                                              string
	ca, serverCert, serverKey, clientCert, clientKey string
	pool                                             *x509.CertPool
	client                                           tls.Certificate
}

// newTestCerts generates a CA and the two certificates it signs. The
// server's is valid for 127.0.0.1 and localhost.
func newTestCerts(t testing.TB) *testCerts {
	t.Helper()
	dir := t.TempDir()
	tc := &testCerts{dir: dir, pool: x509.NewCertPool()}
	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mullet test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	tc.pool.AddCert(caCert)
	tc.ca = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string, tls.Certificate) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
		certFile := writePEM(t, dir, name+".pem", "CERTIFICATE", der)
		keyFile := writePEM(t, dir, name+".key", "PRIVATE KEY", keyDER)
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		return certFile, keyFile, pair
	}
	tc.serverCert, tc.serverKey, _ = issue("server", 2, x509.ExtKeyUsageServerAuth)
	tc.clientCert, tc.clientKey, tc.client = issue("client", 3, x509.ExtKeyUsageClientAuth)
	return tc
}

func writePEM(t testing.TB, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tlsServer is a test server that also serves TLS.
type tlsServer struct {
	*testServer
	tlsAddr string
	certs   *testCerts
	logs    *logBuffer
}

// startTLSServer starts a server with a TLS listener beside the plain
// one, configured by the tls-* directives (tls-auth-clients as given).
func startTLSServer(t testing.TB, authClients string, directives ...[]string) *tlsServer {
	t.Helper()
	certs := newTestCerts(t)
	directives = append(directives,
		[]string{"tls-cert-file", certs.serverCert}, []string{"tls-key-file", certs.serverKey},
		[]string{"tls-ca-cert-file", certs.ca}, []string{"tls-auth-clients", authClients})
	ts, logs := startLoggedServer(t, directives...)
	cfg, err := TLSConfig(ts.set)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ts.s.Serve(tls.NewListener(ln, cfg))
	return &tlsServer{testServer: ts, tlsAddr: ln.Addr().String(), certs: certs, logs: logs}
}

// clientTLS is the client side: trusts the test CA, presents the client
// certificate.
func (ts *tlsServer) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: ts.certs.pool, Certificates: []tls.Certificate{ts.certs.client}, ServerName: "localhost"}
}

// rawTLS is ts.raw over TLS.
func (ts *tlsServer) rawTLS(t testing.TB) *raw {
	t.Helper()
	c, err := tls.Dial("tcp", ts.tlsAddr, ts.clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &raw{t: t, c: c, br: bufio.NewReader(c)}
}

func redisCli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatal("redis-cli is required (apt-get install redis-tools)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestTLSWithRedisCli(t *testing.T) {
	t.Run("tls-auth-clients no", func(t *testing.T) {
		ts := startTLSServer(t, "no")
		_, port, _ := net.SplitHostPort(ts.tlsAddr)
		if out, err := redisCli(t, "--tls", "--cacert", ts.certs.ca, "-p", port, "PING"); err != nil || out != "PONG" {
			t.Fatalf("redis-cli --tls PING: %q %v", out, err)
		}
		// The plain port still serves plain RESP.
		if got := ts.raw(t).do("PING"); got != "+PONG\r\n" {
			t.Fatalf("plain PING: %q", got)
		}
	})
	t.Run("tls-auth-clients yes", func(t *testing.T) {
		ts := startTLSServer(t, "yes")
		_, port, _ := net.SplitHostPort(ts.tlsAddr)
		if out, err := redisCli(t, "--tls", "--cacert", ts.certs.ca, "-p", port, "PING"); out == "PONG" {
			t.Fatalf("no client certificate, but PING worked (%v)", err)
		}
		out, err := redisCli(t, "--tls", "--cacert", ts.certs.ca, "--cert", ts.certs.clientCert, "--key", ts.certs.clientKey,
			"-p", port, "RPUSH", "q", "a", "b")
		if err != nil || out != "2" {
			t.Fatalf("redis-cli --tls --cert RPUSH: %q %v", out, err)
		}
		// A plain-text client on the TLS port gets nowhere and costs nothing.
		got, closed := exchange(t, tcpDialer(ts.tlsAddr), "PING\r\n", 2*time.Second)
		if strings.Contains(got, "PONG") || !closed {
			t.Errorf("plain text on the TLS port: %q (closed %v)", got, closed)
		}
	})
}

func TestTLSGoRedisBlockingAndMonitor(t *testing.T) {
	ts := startTLSServer(t, "yes", []string{"tcp-keepalive", "5"})
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: ts.tlsAddr, TLSConfig: ts.clientTLS(), Protocol: 3, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}

	mon := ts.rawTLS(t)
	if got := mon.do("MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR over TLS: %q", got)
	}

	// A blocked client over TLS: woken by a push, and the commands it
	// pipelined behind the BLPOP wait for it.
	blocked := ts.rawTLS(t)
	blocked.send("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n")
	testutil.WaitFor(t, 5*time.Second, "the client to block", func() bool { return ts.ks.Blocked() == 1 })
	if err := c.RPush(ctx, "q", "a", "b").Err(); err != nil {
		t.Fatal(err)
	}
	if got := blocked.reply(); got != "*2\r\n$1\r\nq\r\n$1\r\na\r\n" {
		t.Errorf("BLPOP over TLS: %q", got)
	}
	if got := blocked.reply(); got != ":1\r\n" {
		t.Errorf("LLEN after BLPOP: %q", got)
	}
	if v, err := c.BRPop(ctx, time.Second, "q").Result(); err != nil || v[1] != "b" {
		t.Errorf("go-redis BRPOP over TLS: %v %v", v, err)
	}
	if v, err := c.BRPop(ctx, time.Second, "q").Result(); err != redis.Nil {
		t.Errorf("BRPOP timeout over TLS: %v %v", v, err)
	}

	// A client that leaves while blocked takes nothing with it.
	gone := ts.rawTLS(t)
	gone.cmd("BLPOP", "q2", "0")
	testutil.WaitFor(t, 5*time.Second, "the client to block", func() bool { return ts.ks.Blocked() == 1 })
	gone.c.Close()
	testutil.WaitFor(t, 5*time.Second, "the departed client to unblock", func() bool { return ts.ks.Blocked() == 0 })
	c.RPush(ctx, "q2", "kept")
	if n := c.LLen(ctx, "q2").Val(); n != 1 {
		t.Errorf("q2 has %d items, want 1", n)
	}

	for _, want := range []string{`"BLPOP" "q" "0"`, `"rpush" "q" "a" "b"`} {
		got := mon.reply()
		for !strings.Contains(got, want) {
			got = mon.reply()
		}
	}
	mon.cmd("QUIT")
	for got := mon.reply(); got != "+OK\r\n"; got = mon.reply() {
		if !strings.HasPrefix(got, "+1") { // lines still in flight come first
			t.Fatalf("QUIT from a TLS monitor: %q", got)
		}
	}
	mon.expectClosed()
	checkKeepalive(t, ts.testServer, 5)
}

func TestTLSIdleTimeoutAndHandshakeTimeout(t *testing.T) {
	// Restored by a cleanup registered before the server's, so it runs
	// after every connection goroutine has ended.
	old := handshakeTimeout
	t.Cleanup(func() { handshakeTimeout = old })
	handshakeTimeout = 500 * time.Millisecond
	ts := startTLSServer(t, "no", []string{"timeout", "1"})
	idle := ts.rawTLS(t)
	idle.do("PING")
	start := time.Now()
	idle.expectClosed()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("idle TLS client closed after %v", d)
	}
	// A client that opens the TLS port and never says hello.
	silent, err := net.Dial("tcp", ts.tlsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("silent TLS client: %v, want the connection closed", err)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	certs := newTestCerts(t)
	cases := []struct {
		name string
		dirs [][]string
		err  string
	}{
		{"no cert", [][]string{{"tls-key-file", certs.serverKey}}, "no tls-cert-file"},
		{"no key", [][]string{{"tls-cert-file", certs.serverCert}}, "no tls-key-file"},
		{"no CA with client auth", [][]string{{"tls-cert-file", certs.serverCert}, {"tls-key-file", certs.serverKey}},
			"either tls-ca-cert-file or tls-ca-cert-dir must be specified"},
		{"bad protocol", [][]string{{"tls-cert-file", certs.serverCert}, {"tls-key-file", certs.serverKey},
			{"tls-auth-clients", "no"}, {"tls-protocols", "SSLv3"}}, "invalid tls-protocols"},
		{"key passphrase", [][]string{{"tls-cert-file", certs.serverCert}, {"tls-key-file", certs.serverKey},
			{"tls-key-file-pass", "x"}}, "tls-key-file-pass is not supported"},
		{"missing file", [][]string{{"tls-cert-file", "/nonexistent"}, {"tls-key-file", certs.serverKey}}, "/nonexistent"},
		{"ok, CA directory", [][]string{{"tls-cert-file", certs.serverCert}, {"tls-key-file", certs.serverKey},
			{"tls-ca-cert-dir", certs.dir}, {"tls-protocols", "TLSv1.3"}}, ""},
	}
	for _, tc := range cases {
		set := config.New()
		if err := set.Load("", tc.dirs); err != nil {
			t.Fatal(err)
		}
		cfg, err := TLSConfig(set)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err == "" && (cfg.MinVersion != tls.VersionTLS13 || cfg.ClientCAs == nil || cfg.ClientAuth != tls.RequireAndVerifyClientCert):
			t.Errorf("%s: %+v", tc.name, cfg)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
}

// Refusing a client (protected mode, maxclients) on the TLS port needs a
// handshake; a client that never does one must not stall the accept loop.
func TestRefusalDoesNotBlockAccept(t *testing.T) {
	ts := startTLSServer(t, "no", []string{"maxclients", "1"})
	cfg, err := TLSConfig(ts.set)
	if err != nil {
		t.Fatal(err)
	}
	busy := ts.raw(t) // takes the one slot
	busy.do("PING")
	for _, remote := range []string{"10.1.2.3", "127.0.0.1"} { // protected mode, then maxclients
		srv, cli := net.Pipe() // nobody reads cli: a write to srv blocks
		defer cli.Close()
		conn := tls.Server(&remoteConn{Conn: srv, remote: &net.TCPAddr{IP: net.ParseIP(remote), Port: 1}}, cfg)
		accepted := make(chan struct{})
		go func() {
			ts.s.accept(conn)
			close(accepted)
		}()
		select {
		case <-accepted:
		case <-time.After(2 * time.Second):
			t.Fatalf("accept of a silent TLS client from %s blocked", remote)
		}
	}
	if got := busy.do("PING"); got != "+PONG\r\n" {
		t.Fatal(got)
	}
}
