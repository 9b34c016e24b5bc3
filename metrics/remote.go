package metrics

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// remoteTimeout bounds a dial and an INFO round trip. Prometheus scrapes
// time out after 10 s by default; a server that takes more than 5 s to
// answer INFO is reported down rather than making the scrape fail.
const remoteTimeout = 5 * time.Second

// Remote returns an InfoFunc that asks the server at addr with the INFO
// command over RESP, on one connection kept open between scrapes (so the
// exporter counts as one steady client in connected_clients, not a
// connection per scrape) and re-dialled after any error. password is
// called before each dial; it returns "" when requirepass is off, so a
// CONFIG SET requirepass takes effect on the next reconnect.
//
// mullet wires its exporter this way, through its own listener, so that
// the metrics package depends on nothing but the INFO text, the same
// contract as any Redis exporter. The scrape's INFO is itself counted in
// total_commands_processed and cmdstat_info.
func Remote(addr string, password func() string) InfoFunc {
	r := &remote{addr: addr, password: password}
	return r.info
}

type remote struct {
	addr     string
	password func() string

	mu sync.Mutex // guards the connection: one INFO at a time
	c  net.Conn
	br *bufio.Reader
}

func (r *remote) info(section string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		if err := r.dialLocked(); err != nil {
			return "", err
		}
	}
	text, err := r.doLocked("INFO", section)
	if err != nil {
		r.c.Close()
		r.c = nil
		return "", err
	}
	return text, nil
}

func (r *remote) dialLocked() error {
	c, err := net.DialTimeout("tcp", r.addr, remoteTimeout)
	if err != nil {
		return fmt.Errorf("metrics: dial %s: %w", r.addr, err)
	}
	r.c, r.br = c, bufio.NewReader(c)
	if pw := r.passwordOrEmpty(); pw != "" {
		if _, err := r.doLocked("AUTH", pw); err != nil {
			c.Close()
			r.c = nil
			return fmt.Errorf("metrics: AUTH: %w", err)
		}
	}
	return nil
}

func (r *remote) passwordOrEmpty() string {
	if r.password == nil {
		return ""
	}
	return r.password()
}

// doLocked sends one command and reads a simple or bulk string reply.
func (r *remote) doLocked(args ...string) (string, error) {
	r.c.SetDeadline(time.Now().Add(remoteTimeout))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(r.c, b.String()); err != nil {
		return "", err
	}
	line, err := r.br.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("metrics: empty reply")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("metrics: %s replied %s", args[0], line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 || n > 64<<20 {
			return "", fmt.Errorf("metrics: bad bulk length %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r.br, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("metrics: unexpected reply %q to %s", line, args[0])
}
