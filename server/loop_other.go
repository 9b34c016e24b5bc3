//go:build !linux

package server

// Without epoll every client has its own goroutine.
type loop struct{}

type loopMsg struct{}

func (s *Server) takeOver(c *client) bool                                         { return false }
func (c *client) start()                                                          {}
func (s *Server) stopLoops()                                                      {}
func (l *loop) schedule(c *client)                                                {}
func (l *loop) post(m loopMsg)                                                    {}
func (l *loop) suspend(c *client, wait func(stop <-chan struct{}), finish func()) {}

func closeFD(fd int)           {}
func writeFD(fd int, s string) {}
