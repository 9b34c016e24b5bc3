//go:build !linux

package server

// Without epoll every client has its own goroutine.
type loop struct{}

type loopMsg struct{}

func (s *Server) handOff(c *client) bool { return false }
func (s *Server) stopLoops()             {}
func (l *loop) schedule(c *client)       {}
func (l *loop) post(m loopMsg)           {}
