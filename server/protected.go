package server

import (
	"net"
	"syscall"
)

var (
	syscallEMFILE = syscall.EMFILE
	syscallENFILE = syscall.ENFILE
)

// msgMaxClients refuses a connection past maxclients.
const msgMaxClients = "ERR max number of clients reached"

// msgDenied is Redis 7.0's protected-mode refusal, word for word (its
// "Setup a an" typo included: clients may match on the text).
const msgDenied = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

// protectedRefusal returns the error to send a client that protected mode
// refuses, or "". As in Redis 7, a client from outside the loopback
// interface is refused while protected-mode is on and no password is set.
func (s *Server) protectedRefusal(conn net.Conn) string {
	if !s.cur().Protected || s.core.AuthRequired() {
		return ""
	}
	addr, ok := conn.RemoteAddr().(*net.TCPAddr)
	if !ok || addr.IP.IsLoopback() {
		return ""
	}
	return msgDenied
}
