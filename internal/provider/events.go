package provider

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/events"
	"github.com/tsprov/tsprov/internal/store"
)

// MaxEventsWait bounds how long Events waits for a change.
const MaxEventsWait = 60 * time.Second

// EventsPage is a page of the change feed.
type EventsPage struct {
	// Events are the changes the caller may see, in commit order.
	Events []store.Event
	// Position is where the caller reads on from: the last change read,
	// seen or not; after a position beyond the feed's end, the feed's
	// last position (lower than the one asked), so that a reader that
	// came from another store or a restored backup never skips the
	// changes still to come.
	Position int64
}

// Events returns the changes of the store's feed after position after, in
// commit order, at most limit of them read (0 or more than
// store.MaxEventsPage: store.MaxEventsPage), keeping those of objects the
// caller may read: a Full Administrator with every scope sees every
// change; another caller sees the changes of the classes its roles let it
// read, and with fewer scopes than All, of scoped objects only while they
// are in one of its scopes (so not the deletion of one), and none of scope
// memberships and reverse references.
// When after is beyond the feed's last position, the page answers at once
// with that position and no events. When there are no changes after the
// position and wait is positive, it waits up to wait (at most MaxEventsWait) for a change made by any
// server on the store, then reads again. Outcomes: the page (no events
// when wait passed without a change); an error of kind errs.Invalid for a
// negative after, limit or wait, or a wait above MaxEventsWait;
// Unauthenticated without a caller; ctx's error when it ends first; the
// store's error.
func (p *Provider) Events(ctx context.Context, after int64, limit int, wait time.Duration) (*EventsPage, error) {
	pr, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if wait < 0 || wait > MaxEventsWait {
		return nil, errs.Target(errs.Invalid, "wait", "events: wait must be between 0 and %s", MaxEventsWait)
	}
	var changes <-chan int64
	if wait > 0 {
		// Subscribe before the first read, so that no change between the
		// read and the wait goes unheard.
		sub, cancel := context.WithCancel(ctx)
		defer cancel()
		changes = p.st.Subscribe(sub)
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		page, err := p.readEvents(ctx, pr, after, limit)
		if err != nil || page.Position != after || wait == 0 {
			return page, err
		}
		select {
		case _, ok := <-changes:
			if !ok {
				return nil, errs.E(errs.Unavailable, "events: the store closed")
			}
		case <-deadline.C:
			return page, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("events: %w", ctx.Err())
		}
	}
}

// readEvents reads one page and keeps what pr may see.
func (p *Provider) readEvents(ctx context.Context, pr *auth.Principal, after int64, limit int) (*EventsPage, error) {
	page := &EventsPage{Position: after}
	err := p.st.Read(ctx, func(tx store.ReadTx) error {
		evs, err := tx.Events(ctx, after, limit)
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			page.Position = evs[len(evs)-1].Seq
		} else {
			last, err := tx.LastEvent(ctx)
			if err != nil {
				return err
			}
			page.Position = min(after, last)
		}
		if pr.All {
			page.Events = evs
			return nil
		}
		seen := map[string]func(key string) bool{}
		for _, ev := range evs {
			sees, ok := seen[ev.Class]
			if !ok {
				if sees, err = p.eventVisibility(ctx, tx, pr, ev.Class); err != nil {
					return err
				}
				seen[ev.Class] = sees
			}
			if sees(ev.Key) {
				page.Events = append(page.Events, ev)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// eventVisibility returns which keys of the named class's changes pr sees.
// The feed holds no change of a Private class (store.Recorded).
func (p *Provider) eventVisibility(ctx context.Context, tx store.ReadTx, pr *auth.Principal, class string) (func(string) bool, error) {
	none := func(string) bool { return false }
	every := func(string) bool { return true }
	c, ok := p.reg.Class(class)
	if !ok {
		return none, nil
	}
	if _, err := p.authorize(ctx, c, "", auth.Read); err != nil {
		return none, nil
	}
	if pr.AllInstances() {
		return every, nil
	}
	if c == p.sec.membership || c.Name == reverseRefClass {
		return none, nil
	}
	t, scoped := scopedType(c)
	if !scoped {
		return every, nil
	}
	keys, err := p.keysInScopes(ctx, tx, t, pr.Scopes)
	if err != nil {
		return nil, err
	}
	return func(key string) bool { return keys[key] }, nil
}

// recordMethod adds to the feed the method-invocation event of the method
// being invoked (Invoke puts its name in ctx) on the stored instance in,
// with its values as the method left them. A state-changing method calls
// it in the transaction of its change. Outcomes: nil; the store's error.
func (p *Provider) recordMethod(ctx context.Context, tx store.Tx, in *cim.Instance) error {
	method, _ := ctx.Value(methodKey{}).(string)
	rec, err := tx.Get(ctx, in.Class, in.Key(), false)
	if err != nil {
		return fmt.Errorf("record %s of %s: %w", method, in.Key(), err)
	}
	return tx.RecordMethod(ctx, rec, method)
}

// TrimEvents removes the change events beyond the feed's retention
// (Config.EventRetention), oldest first, and returns how many it removed;
// a reader behind them then gets errs.Gone naming the oldest position
// kept. The server calls it now and then; several servers on one
// database may call it at once. Outcomes: the count; the store's error.
func (p *Provider) TrimEvents(ctx context.Context) (int64, error) {
	if p.retention < 0 {
		return 0, nil
	}
	var removed int64
	err := p.st.Write(ctx, func(tx store.Tx) error {
		var err error
		removed, err = tx.TrimEvents(ctx, p.retention)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("trim the change feed: %w", err)
	}
	return removed, nil
}

// EventQuery parses and checks a WQL event query (events.Parse) for
// Subscribe's caller to match feed events with. Outcomes: the query;
// events.Parse's errors.
func (p *Provider) EventQuery(src string) (*events.Query, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errs.Target(errs.Invalid, "query", "an event query is required: SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA '<class>' …")
	}
	return events.Parse(p.reg, src)
}

// FeedEnd returns the position of the feed's last event: where a
// subscriber that wants only the changes still to come starts.
func (p *Provider) FeedEnd(ctx context.Context) (int64, error) {
	page, err := p.Events(ctx, math.MaxInt64, 1, 0)
	if err != nil {
		return 0, err
	}
	return page.Position, nil
}
