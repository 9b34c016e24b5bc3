// Package dead is the dead-letter tool behind 'mullet dead': it lists the
// dead letters of a queue with their reasons, and requeues or drops them,
// talking to a running server over RESP (any Redis client could do the
// same).
//
// The consumer keeps a queue's dead letters in two lists, QUEUE:dead (the
// items) and QUEUE:dead:reasons (a JSON record of why each died), both
// pushed on the left in one atomic step, so index i of one belongs to
// index i of the other. Letters are numbered here from the oldest (0), the
// right end: new dead letters arrive on the left, so the numbers a list
// printed stay valid while the consumer works.
//
// Every change is one MULTI/EXEC under WATCH of both lists: the item and
// its reason record leave together or not at all, and if the consumer (or
// anyone) touches either list between the read and the EXEC, the EXEC
// fails and the change is recomputed from a fresh read.
package dead

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Letter is one dead letter and its reason record.
type Letter struct {
	// Index counts from the oldest dead letter of the queue (0).
	Index int
	// Item is the item as it was in the queue.
	Item string
	// Reason is the decoded reason record; Raw is the record as stored.
	Reason Reason
	Raw    string
}

// A Reason is the JSON record the consumer stores beside a dead letter
// (consumer/poison.go).
type Reason struct {
	Reason    string    `json:"reason"`
	Table     string    `json:"table"`
	Batch     string    `json:"batch"`
	At        time.Time `json:"at"`
	Item      string    `json:"item"`
	ItemBytes int       `json:"item_bytes"`
}

// A Selector picks dead letters: All, those whose reason matches Reason
// (a regular expression), or the one at Index. Exactly one must be set.
type Selector struct {
	All    bool
	Reason *regexp.Regexp
	Index  *int
}

func (s Selector) check() error {
	n := 0
	if s.All {
		n++
	}
	if s.Reason != nil {
		n++
	}
	if s.Index != nil {
		n++
	}
	if n != 1 {
		return errors.New("dead: choose exactly one of --all, --reason REGEXP or --index N")
	}
	return nil
}

func (s Selector) picks(l Letter) bool {
	switch {
	case s.All:
		return true
	case s.Reason != nil:
		return s.Reason.MatchString(l.Reason.Reason)
	}
	return l.Index == *s.Index
}

// These errors can be returned by List, Requeue and Drop.
var (
	// ErrUnpaired is returned when QUEUE:dead and QUEUE:dead:reasons have
	// different lengths (someone changed one by hand): letters no longer
	// pair with their reasons by index, and nothing is moved.
	ErrUnpaired = errors.New("dead: the dead-letter lists no longer pair up")
	// ErrBusy is returned when the lists kept changing under every try.
	ErrBusy = errors.New("dead: the dead-letter lists kept changing; try again")
	// ErrNoSuchIndex is returned when --index names no dead letter.
	ErrNoSuchIndex = errors.New("dead: no dead letter with that index")
)

// maxTries bounds the WATCH/MULTI/EXEC retries of one change.
const maxTries = 20

func keys(queue string) (dead, reasons string) { return queue + ":dead", queue + ":dead:reasons" }

// errMoved reports lists read unpaired under WATCH: two reads are not one
// moment, so either they changed between the reads (and the EXEC would
// fail anyway) or they are unpaired for good; change tells which.
var errMoved = errors.New("dead: the lists changed while being read")

// read returns the letters of queue, oldest first, reading the two lists
// with two commands (under a WATCH: an EXEC after it fails if they
// changed meanwhile).
func read(ctx context.Context, c redis.Cmdable, queue string) ([]Letter, error) {
	dk, rk := keys(queue)
	items, err := c.LRange(ctx, dk, 0, -1).Result()
	if err != nil {
		return nil, err
	}
	recs, err := c.LRange(ctx, rk, 0, -1).Result()
	if err != nil {
		return nil, err
	}
	if len(items) != len(recs) {
		return nil, errMoved
	}
	return pair(items, recs), nil
}

// snapshot reads both lists in one MULTI/EXEC, so at one moment.
func snapshot(ctx context.Context, c *redis.Client, queue string) ([]Letter, error) {
	dk, rk := keys(queue)
	var items, recs *redis.StringSliceCmd
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		items, recs = p.LRange(ctx, dk, 0, -1), p.LRange(ctx, rk, 0, -1)
		return nil
	}); err != nil {
		return nil, err
	}
	if len(items.Val()) != len(recs.Val()) {
		return nil, fmt.Errorf("%w: %s holds %d items, %s %d records; pair them by hand (each record repeats its item)",
			ErrUnpaired, dk, len(items.Val()), rk, len(recs.Val()))
	}
	return pair(items.Val(), recs.Val()), nil
}

// pair matches items with their records (both stored newest first) and
// numbers them from the oldest.
func pair(items, recs []string) []Letter {
	out := make([]Letter, len(items))
	for i := range items {
		// Stored newest first: position p from the left is index n-1-p.
		p := len(items) - 1 - i
		l := Letter{Index: i, Item: items[p], Raw: recs[p]}
		if err := json.Unmarshal([]byte(recs[p]), &l.Reason); err != nil {
			l.Reason.Reason = "(unreadable reason record: " + err.Error() + ")"
		}
		out[i] = l
	}
	return out
}

// List returns the dead letters of queue, oldest first.
func List(ctx context.Context, c *redis.Client, queue string) ([]Letter, error) {
	return snapshot(ctx, c, queue)
}

// Requeue moves the selected dead letters back to the queue, at its right
// end (the end the consumer takes from), so they are written next, oldest
// first; their reason records are dropped in the same transaction. It
// returns the letters moved.
func Requeue(ctx context.Context, c *redis.Client, queue string, sel Selector) ([]Letter, error) {
	return change(ctx, c, queue, sel, true)
}

// Drop deletes the selected dead letters and their reason records. It
// returns the letters deleted.
func Drop(ctx context.Context, c *redis.Client, queue string, sel Selector) ([]Letter, error) {
	return change(ctx, c, queue, sel, false)
}

func change(ctx context.Context, c *redis.Client, queue string, sel Selector, requeue bool) ([]Letter, error) {
	if err := sel.check(); err != nil {
		return nil, err
	}
	dk, rk := keys(queue)
	var picked []Letter
	fn := func(tx *redis.Tx) error {
		all, err := read(ctx, tx, queue)
		if err != nil {
			return err
		}
		picked = picked[:0]
		for _, l := range all {
			if sel.picks(l) {
				picked = append(picked, l)
			}
		}
		if sel.Index != nil && len(picked) == 0 {
			return fmt.Errorf("%w: %d (there are %d)", ErrNoSuchIndex, *sel.Index, len(all))
		}
		if len(picked) == 0 {
			return nil
		}
		if requeue {
			// The queue is not watched (producers and the consumer change
			// it all the time), but it must be a list: EXEC does not roll
			// back, so an RPUSH refused with WRONGTYPE would leave the
			// letters removed. Checked here, and handled below should
			// the type change in the moment before EXEC.
			if t, err := tx.Type(ctx, queue).Result(); err != nil {
				return err
			} else if t != "list" && t != "none" {
				return fmt.Errorf("dead: %s holds a %s, not a list; nothing requeued", queue, t)
			}
		}
		// Mark each picked position in both lists with a token no item
		// can equal, then remove the marks: WATCH guarantees the
		// positions are the ones read.
		var tok [16]byte
		rand.Read(tok[:])
		mark := "mullet-dead-tombstone-" + hex.EncodeToString(tok[:])
		var push *redis.IntCmd
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, l := range picked {
				pos := int64(len(all) - 1 - l.Index)
				p.LSet(ctx, dk, pos, mark)
				p.LSet(ctx, rk, pos, mark)
			}
			p.LRem(ctx, dk, 0, mark)
			p.LRem(ctx, rk, 0, mark)
			if requeue {
				// RPUSH newest first, so the oldest ends up rightmost:
				// the consumer takes it first.
				items := make([]any, 0, len(picked))
				for i := len(picked) - 1; i >= 0; i-- {
					items = append(items, picked[i].Item)
				}
				push = p.RPush(ctx, queue, items...)
			}
			return nil
		})
		if push != nil && push.Err() != nil && !errors.Is(err, redis.TxFailedErr) {
			// The letters left the dead lists but the queue refused
			// them: put them back, paired, oldest first.
			return restore(ctx, c, queue, picked, push.Err())
		}
		return err
	}
	for try := range maxTries {
		if try > 0 {
			// The consumer may be dead-lettering a burst: wait a little
			// longer each time (1 ms doubling to 64 ms, about 1 s in all)
			// before reading the lists again.
			select {
			case <-time.After(time.Millisecond << min(try-1, 6)):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		err := c.Watch(ctx, fn, dk, rk)
		if errors.Is(err, redis.TxFailedErr) {
			continue // a list changed under us: read again
		}
		if errors.Is(err, errMoved) {
			// Unpaired for good, or only between the two reads?
			if _, err := snapshot(ctx, c, queue); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return picked, nil
	}
	return nil, ErrBusy
}

// restore pushes letters back onto the dead lists after the queue refused
// them, and returns why.
func restore(ctx context.Context, c *redis.Client, queue string, letters []Letter, why error) error {
	dk, rk := keys(queue)
	items := make([]any, len(letters))
	recs := make([]any, len(letters))
	for i, l := range letters {
		items[i], recs[i] = l.Item, l.Raw
	}
	_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, dk, items...)
		p.LPush(ctx, rk, recs...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("dead: %s refused the letters (%v) and putting them back failed: %w; the letters were: %q", queue, why, err, items)
	}
	return fmt.Errorf("dead: %s refused the letters, which stay dead: %w", queue, why)
}
