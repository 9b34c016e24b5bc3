package aof

import (
	"container/heap"
	"sync"
)

// A waiter is one goroutine blocked in Wait or Sync. Waiters sit in a
// min-heap keyed by ticket, so each write or fdatasync wakes exactly the
// goroutines it covers: a sync.Cond broadcast would wake all 50 clients
// on every batch, only for most to go back to sleep.
type waiter struct {
	ticket uint64
	// persistent waiters (Sync) keep waiting through failures; the others
	// (Wait) are released with the error at once.
	persistent bool
	err        error
	ch         chan struct{} // buffered 1: the owner never blocks on it
	// fn, if set, is called instead of signalling ch (Notify): the log's
	// goroutine runs it, so it must be quick and not call into the log.
	fn func(error)
}

// wake ends a waiter's wait with its err set.
func (w *waiter) wake() {
	if w.fn != nil {
		w.fn(w.err)
		return
	}
	w.ch <- struct{}{}
}

// newWaiterPool returns the pool that recycles Wait's waiters and their
// channels. A waiter goes back only after its one wake-up was received, so
// it is never signalled twice. Sync's waiters are not pooled: a cancelled
// one may be signalled after its caller left. The pool is per AOF, not
// global, so that an AOF created inside a testing/synctest bubble only
// uses channels of that bubble.
func newWaiterPool() *sync.Pool {
	return &sync.Pool{New: func() any { return &waiter{ch: make(chan struct{}, 1)} }}
}

type waiterHeap []*waiter

func (h waiterHeap) Len() int           { return len(h) }
func (h waiterHeap) Less(i, j int) bool { return h[i].ticket < h[j].ticket }
func (h waiterHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *waiterHeap) Push(x any)        { *h = append(*h, x.(*waiter)) }
func (h *waiterHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return w
}

// popUpTo removes the waiters whose ticket is <= mark and appends them to
// out.
func (h *waiterHeap) popUpTo(mark uint64, out []*waiter) []*waiter {
	for len(*h) > 0 && (*h)[0].ticket <= mark {
		out = append(out, heap.Pop(h).(*waiter))
	}
	return out
}

// popFailed removes the non-persistent waiters and appends them to out.
func (h *waiterHeap) popFailed(out []*waiter) []*waiter {
	keep := (*h)[:0]
	for _, w := range *h {
		if w.persistent {
			keep = append(keep, w)
		} else {
			out = append(out, w)
		}
	}
	for i := len(keep); i < len(*h); i++ {
		(*h)[i] = nil
	}
	*h = keep
	heap.Init(h)
	return out
}

// popAll removes every waiter and appends it to out.
func (h *waiterHeap) popAll(out []*waiter) []*waiter {
	out = append(out, (*h)...)
	for i := range *h {
		(*h)[i] = nil
	}
	*h = (*h)[:0]
	return out
}
