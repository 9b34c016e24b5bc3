package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mullet/config"
)

// TLS: mullet serves TLS on tls-port beside the plain port, as Redis does,
// by wrapping that port's listener with crypto/tls (cmd wires it). The
// connection's goroutine is the same for both; only the handshake, done
// first with its own deadline, and the keepalive setup, which needs the TCP
// connection under the TLS one, differ.
//
// Read deadlines, which the idle timeout and the blocked-client disconnect
// watcher use, are safe on a *tls.Conn: a read that times out leaves the
// connection usable (crypto/tls records only permanent errors). A write
// that times out corrupts it, but writeOut only times out a write to close
// the client.

// handshakeTimeout bounds a TLS handshake, so a client that opens the TLS
// port and says nothing does not hold a goroutine for ever.
var handshakeTimeout = 10 * time.Second

// TLSConfig builds the server side of TLS from the tls-* directives:
// tls-cert-file and tls-key-file (required), tls-ca-cert-file and
// tls-ca-cert-dir (the CAs client certificates are checked against),
// tls-auth-clients (yes: a client certificate is required; optional:
// checked if presented; no: not asked for), tls-protocols and
// tls-session-caching. OpenSSL-only directives (tls-ciphers,
// tls-ciphersuites, tls-dh-params-file, tls-prefer-server-ciphers) are
// accepted and ignored: Go chooses its own secure cipher suites.
func TLSConfig(set *config.Config) (*tls.Config, error) {
	certFile, keyFile := set.String("tls-cert-file"), set.String("tls-key-file")
	if certFile == "" {
		return nil, errors.New("tls: no tls-cert-file configured")
	}
	if keyFile == "" {
		return nil, errors.New("tls: no tls-key-file configured")
	}
	if set.String("tls-key-file-pass") != "" {
		// Go reads only unencrypted keys (x509.DecryptPEMBlock is
		// deprecated as insecure).
		return nil, errors.New("tls: tls-key-file-pass is not supported; decrypt the key (openssl pkey -in key.pem -out plain.pem)")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: loading tls-cert-file %s / tls-key-file %s: %w", certFile, keyFile, err)
	}
	cfg := &tls.Config{
		Certificates:           []tls.Certificate{cert},
		MinVersion:             tls.VersionTLS12,
		SessionTicketsDisabled: !set.Bool("tls-session-caching"),
	}
	if err := tlsProtocols(cfg, set.String("tls-protocols")); err != nil {
		return nil, err
	}
	switch set.String("tls-auth-clients") {
	case "no":
		cfg.ClientAuth = tls.NoClientCert
	case "optional":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	caFile, caDir := set.String("tls-ca-cert-file"), set.String("tls-ca-cert-dir")
	if caFile == "" && caDir == "" {
		if cfg.ClientAuth != tls.NoClientCert {
			// Redis's words.
			return nil, errors.New("tls: either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled")
		}
		return cfg, nil
	}
	pool := x509.NewCertPool()
	files := []string{}
	if caFile != "" {
		files = append(files, caFile)
	}
	if caDir != "" {
		ents, err := os.ReadDir(caDir)
		if err != nil {
			return nil, fmt.Errorf("tls: tls-ca-cert-dir: %w", err)
		}
		for _, e := range ents {
			if !e.IsDir() {
				files = append(files, filepath.Join(caDir, e.Name()))
			}
		}
	}
	for i, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("tls: reading CA certificates: %w", err)
		}
		// A directory may hold other files (OpenSSL's hash links point
		// at the same certificates); only tls-ca-cert-file must parse.
		if !pool.AppendCertsFromPEM(pem) && i == 0 && caFile != "" {
			return nil, fmt.Errorf("tls: tls-ca-cert-file %s holds no PEM certificate", f)
		}
	}
	cfg.ClientCAs = pool
	return cfg, nil
}

// tlsProtocols applies tls-protocols ("TLSv1.2 TLSv1.3"; empty: both).
func tlsProtocols(cfg *tls.Config, s string) error {
	if s == "" {
		return nil
	}
	var lo, hi uint16
	for _, p := range strings.Fields(s) {
		var v uint16
		switch strings.ToLower(p) {
		case "tlsv1":
			v = tls.VersionTLS10
		case "tlsv1.1":
			v = tls.VersionTLS11
		case "tlsv1.2":
			v = tls.VersionTLS12
		case "tlsv1.3":
			v = tls.VersionTLS13
		default:
			return fmt.Errorf("tls: invalid tls-protocols specified: %s", p)
		}
		if lo == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	cfg.MinVersion, cfg.MaxVersion = lo, hi
	return nil
}

// tcpConn returns the TCP connection under conn (a TLS one included), or
// nil.
func tcpConn(conn net.Conn) *net.TCPConn {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	tc, _ := conn.(*net.TCPConn)
	return tc
}

// handshake completes a TLS client's handshake before its first command,
// within handshakeTimeout. It reports false if the client must go.
func (c *client) handshake() bool {
	tc, ok := c.conn.(*tls.Conn)
	if !ok {
		return true
	}
	tc.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.Handshake(); err != nil {
		c.s.log.Info("error accepting a TLS client connection", "client", c.id, "addr", c.addr, "err", err)
		return false
	}
	tc.SetDeadline(c.s.capDrain(time.Time{}))
	return true
}
