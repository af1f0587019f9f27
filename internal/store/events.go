package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// The change feed. Every Insert, Update and Delete of an instance of a
// recorded class (Recorded) appends one Event, in the transaction that
// makes the change: the feed holds a change exactly when the change was
// committed. Events are numbered 1, 2, … in commit order and never
// renumbered, so a reader that has seen the events up to position n reads
// on from n (ReadTx.Events) and misses none, whichever server made them.
// Each event carries the values a subscriber filters on (EventValues): the
// changed instance's non-lazy properties, and for an Update those it had
// before; never a secret. The feed keeps the newest events only
// (Tx.TrimEvents): a reader behind the oldest one kept gets errs.Gone.

// EventOp says what a change did.
type EventOp string

// The changes of the feed.
const (
	Created  EventOp = "create"
	Modified EventOp = "update"
	Deleted  EventOp = "delete"
	// Invoked: a state-changing method ran on the instance (Event.Method).
	Invoked EventOp = "method"
)

// WMI event classes, the intrinsic events WMI raises for each change.
const (
	OperationEventClass    = "__InstanceOperationEvent"
	CreationEventClass     = "__InstanceCreationEvent"
	ModificationEventClass = "__InstanceModificationEvent"
	DeletionEventClass     = "__InstanceDeletionEvent"
	MethodEventClass       = "__MethodInvocationEvent"
)

// EventClass returns the WMI event class of a change made by op:
// __InstanceCreationEvent, __InstanceModificationEvent,
// __InstanceDeletionEvent (the three derive from __InstanceOperationEvent)
// or __MethodInvocationEvent; "" for an unknown op.
func (op EventOp) EventClass() string {
	switch op {
	case Created:
		return CreationEventClass
	case Modified:
		return ModificationEventClass
	case Deleted:
		return DeletionEventClass
	case Invoked:
		return MethodEventClass
	}
	return ""
}

// Event is one change of the feed.
type Event struct {
	Seq     int64     // position in the feed: commit order, from 1
	Time    time.Time // when the change was made (UTC)
	Op      EventOp
	Class   string
	Key     string // Instance.Key of the changed instance
	Version int64  // Record.Version after the change; 0 for Deleted
	// Method names the method an Invoked event reports; "" otherwise.
	Method string
	// Target holds the instance's values (EventValues): after the change
	// for Created, Modified and Invoked, before it for Deleted. Previous
	// holds those before the change of a Modified event; nil otherwise.
	Target, Previous json.RawMessage
}

// EventValues returns the JSON object an event carries for in: each
// non-lazy property of its class that is not Secret or QuasiSecret and
// holds a value, in the lossless form of EncodeJSON (DateTime in DMTF
// form). A subscriber filters on these; lazy values are read with a GET.
// Outcomes: the object (nil for a nil instance); an error of kind
// errs.Invalid when a value is not of its property's type.
func EventValues(in *cim.Instance) (json.RawMessage, error) {
	if in == nil {
		return nil, nil
	}
	obj := map[string]json.RawMessage{}
	for _, p := range in.Class.Properties {
		v, ok := in.Values[p.Name]
		if !ok || v == nil || p.IsLazy() || p.IsSecret() {
			continue
		}
		b, err := EncodeJSON(p.Type, withoutSecrets(v))
		if err != nil {
			return nil, fmt.Errorf("event values of %s.%s: %w", in.Class.Name, p.Name, err)
		}
		obj[p.Name] = b
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, errs.E(errs.Invalid, "event values of %s: %w", in.Class.Name, err)
	}
	return b, nil
}

// NewEvent returns the event of a change op made to the instance of class c
// with the given key, holding the values of target and previous
// (EventValues; either may be nil). Seq and Time are left for the store
// to set. Outcomes: the event; EventValues' errors.
func NewEvent(op EventOp, c *cim.Class, key string, version int64, target, previous *cim.Instance) (Event, error) {
	ev := Event{Op: op, Class: c.Name, Key: key, Version: version}
	var err error
	if ev.Target, err = EventValues(target); err != nil {
		return Event{}, err
	}
	if ev.Previous, err = EventValues(previous); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// withoutSecrets returns v with the Secret and QuasiSecret properties of
// the embedded objects it holds, at any depth, left out.
func withoutSecrets(v any) any {
	switch x := v.(type) {
	case *cim.Instance:
		if x == nil {
			return x
		}
		out := &cim.Instance{Class: x.Class, Values: make(map[string]any, len(x.Values))}
		for name, pv := range x.Values {
			if p, ok := x.Class.Property(name); ok && p.IsSecret() {
				continue
			}
			out.Values[name] = withoutSecrets(pv)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutSecrets(e)
		}
		return out
	}
	return v
}

// DecodeEventValues reads values written by EventValues as an instance of
// class c, for a filter to test. Properties the class no longer declares
// are skipped. Outcomes: the instance; an error of kind errs.Invalid when
// a value does not read as its property's type.
func DecodeEventValues(reg *cim.Registry, c *cim.Class, data json.RawMessage) (*cim.Instance, error) {
	in := &cim.Instance{Class: c, Values: map[string]any{}}
	if len(data) == 0 {
		return in, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, errs.E(errs.Invalid, "event values of %s: %w", c.Name, err)
	}
	for name, raw := range obj {
		p, ok := c.Property(name)
		if !ok {
			continue
		}
		v, err := DecodeJSON(reg, p.Type, raw, c.Name+"."+p.Name)
		if err != nil {
			return nil, err
		}
		in.Values[p.Name] = v
	}
	return in, nil
}

// FeedTrimmed is the cause of the errs.Gone that Events returns when the
// changes after a position are no longer kept: a reader reads on from
// Oldest-1, after rereading the state it holds.
type FeedTrimmed struct {
	After  int64 // the position asked
	Oldest int64 // the oldest position the feed keeps
}

func (e *FeedTrimmed) Error() string {
	return fmt.Sprintf("the feed no longer keeps the changes after position %d; its oldest is %d", e.After, e.Oldest)
}

// CheckFeedKept returns errs.Gone (its cause a *FeedTrimmed) when the page
// evs, read after position after, may miss events that TrimEvents
// removed: after is below trimmed, the position through which the feed
// was trimmed. trimmed is read only when the page does not follow after
// at once. A gap a restore left (positions never held here) is no loss.
func CheckFeedKept(after int64, evs []Event, trimmed func() (int64, error)) error {
	if len(evs) > 0 && evs[0].Seq == after+1 {
		return nil
	}
	through, err := trimmed()
	if err != nil {
		return fmt.Errorf("read where the feed was trimmed: %w", err)
	}
	if after < through {
		return errs.Target(errs.Gone, "after", "events: %w", &FeedTrimmed{After: after, Oldest: through + 1})
	}
	return nil
}

// TrimmedQuery reads the position through which the feed was trimmed.
const TrimmedQuery = "SELECT through FROM tsprov_event_trim"

// EventsToTrim returns the position through which TrimEvents removes
// events so that the newest keep of a feed ending at last remain (0:
// none to remove).
func EventsToTrim(last, keep int64) int64 {
	if keep <= 0 || last <= keep {
		return 0
	}
	return last - keep
}

// MaxEventsPage bounds the events one ReadTx.Events returns.
const MaxEventsPage = 1000

// Recorded reports whether the changes of class c's instances go into the
// feed: those of every stored class but the Private ones (credentials,
// the audit trail), whose keys must not leave the server.
func Recorded(c *cim.Class) bool { return !c.IsPrivate() }

// Previous returns the instance stored under key before a change, for the
// change's event (both backends read it in the changing transaction):
// nil when c is not Recorded or no instance is stored (the change then
// fails with errs.NotFound); an error when the read fails.
func Previous(ctx context.Context, tx ReadTx, c *cim.Class, key string) (*cim.Instance, error) {
	if !Recorded(c) {
		return nil, nil
	}
	rec, err := tx.Get(ctx, c, key, false)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return rec.Instance, nil
}

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
