package store

import (
	"context"
	"sync"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
)

// The change feed. Every Insert, Update and Delete of an instance of a
// recorded class (Recorded) appends one Event, in the transaction that
// makes the change: the feed holds a change exactly when the change was
// committed. Events are numbered 1, 2, … in commit order and never
// renumbered, so a reader that has seen the events up to position n reads
// on from n (ReadTx.Events) and misses none, whichever server made them.
// Events hold ids, never values.

// EventOp says what a change did.
type EventOp string

// The changes of the feed.
const (
	Created  EventOp = "create"
	Modified EventOp = "update"
	Deleted  EventOp = "delete"
)

// Event is one change of the feed.
type Event struct {
	Seq     int64     // position in the feed: commit order, from 1
	Time    time.Time // when the change was made (UTC)
	Op      EventOp
	Class   string
	Key     string // Instance.Key of the changed instance
	Version int64  // Record.Version after the change; 0 for Deleted
}

// MaxEventsPage bounds the events one ReadTx.Events returns.
const MaxEventsPage = 1000

// Recorded reports whether the changes of class c's instances go into the
// feed: those of every stored class but the Private ones (credentials,
// the audit trail), whose keys must not leave the server.
func Recorded(c *cim.Class) bool { return !c.IsPrivate() }

// Fanout hands feed positions to the subscribers of one process
// (Store.Subscribe): each subscriber holds at most one position, the
// newest, so a slow subscriber never blocks a writer and never loses more
// than positions it would have skipped anyway.
type Fanout struct {
	mu     sync.Mutex
	subs   map[chan int64]struct{}
	last   int64 // the newest position published
	closed bool
}

// Subscribe returns a channel that receives the positions Publish is given
// from now on (the newest one when the receiver lags), closed when ctx ends
// or the Fanout closes.
func (f *Fanout) Subscribe(ctx context.Context) <-chan int64 {
	ch := make(chan int64, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(ch)
		return ch
	}
	if f.subs == nil {
		f.subs = map[chan int64]struct{}{}
	}
	f.subs[ch] = struct{}{}
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
	})
	return ch
}

// Publish gives pos to every subscriber, replacing a position it has not
// received yet, unless a position as new was published before (a commit
// may be heard twice: from this process and back from the database). It
// never blocks.
func (f *Fanout) Publish(pos int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if pos <= f.last {
		return
	}
	f.last = pos
	for ch := range f.subs {
		select {
		case <-ch: // older than pos
		default:
		}
		ch <- pos
	}
}

// Close closes every subscriber's channel; later subscribers get a closed
// channel.
func (f *Fanout) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for ch := range f.subs {
		delete(f.subs, ch)
		close(ch)
	}
}
