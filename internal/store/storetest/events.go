package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// events reads the whole feed after position after.
func (e *env) events(t *testing.T, after int64) []store.Event {
	t.Helper()
	var all []store.Event
	for {
		var page []store.Event
		err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
			var err error
			page, err = tx.Events(t.Context(), after, 0)
			return err
		})
		if err != nil {
			t.Fatalf("Events(%d): %v", after, err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
}

// lastEvent reads the feed's last position.
func (e *env) lastEvent(t *testing.T) int64 {
	t.Helper()
	var last int64
	err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		var err error
		last, err = tx.LastEvent(t.Context())
		return err
	})
	if err != nil {
		t.Fatalf("LastEvent: %v", err)
	}
	return last
}

// describe is an event without its position and time.
func describe(ev store.Event) string {
	return fmt.Sprintf("%s %s %s v%d", ev.Op, ev.Class, ev.Key, ev.Version)
}

// testEventsRecordChanges: each Insert, Update and Delete adds one event
// with its class, key and new version, numbered from 1 in commit order,
// timed when it was made; a failed Write adds none; the feed survives a
// reopen and goes on numbering after it; LastEvent is the last position
// committed (0 for an empty feed).
func testEventsRecordChanges(t *testing.T, e *env) {
	if last := e.lastEvent(t); last != 0 {
		t.Errorf("LastEvent of an empty feed: %d, want 0", last)
	}
	before := time.Now().Add(-time.Second)
	e.insert(t, e.newPkg("PS100001", "one"), e.newPkg("PS100002", "two"))
	e.update(t, e.newPkg("PS100001", "one again"))
	e.write(t, func(tx store.Tx) error { return tx.Delete(t.Context(), e.pkg, "PS100002") })
	err := e.s.Write(t.Context(), func(tx store.Tx) error {
		if err := tx.Insert(t.Context(), &store.Record{Instance: e.newPkg("PS100003", "rolled back")}); err != nil {
			return err
		}
		return errors.New("give up")
	})
	if err == nil {
		t.Fatal("failing Write returned nil")
	}
	want := []string{
		"create SMS_TaskSequencePackage PS100001 v1",
		"create SMS_TaskSequencePackage PS100002 v1",
		"update SMS_TaskSequencePackage PS100001 v2",
		"delete SMS_TaskSequencePackage PS100002 v0",
	}
	check := func(evs []store.Event) {
		t.Helper()
		if len(evs) != len(want) {
			t.Fatalf("feed holds %d events, want %d: %v", len(evs), len(want), evs)
		}
		for i, ev := range evs {
			if ev.Seq != int64(i+1) {
				t.Errorf("event %d has position %d, want %d", i, ev.Seq, i+1)
			}
			if got := describe(ev); got != want[i] {
				t.Errorf("event %d = %q, want %q", i+1, got, want[i])
			}
			if ev.Time.Before(before) || ev.Time.After(time.Now().Add(time.Second)) || ev.Time.Location() != time.UTC {
				t.Errorf("event %d time %v is not the UTC time it was made", i+1, ev.Time)
			}
		}
	}
	check(e.events(t, 0))
	if last := e.lastEvent(t); last != int64(len(want)) {
		t.Errorf("LastEvent after %d changes and a failed write: %d", len(want), last)
	}
	e.reopen(t)
	check(e.events(t, 0))
	e.insert(t, e.newPkg("PS100004", "after reopen"))
	evs := e.events(t, int64(len(want)))
	if len(evs) != 1 || evs[0].Seq != int64(len(want)+1) || evs[0].Key != "PS100004" {
		t.Errorf("after reopen the feed goes on with %v, want one event at %d for PS100004", evs, len(want)+1)
	}
	if last := e.lastEvent(t); last != int64(len(want)+1) {
		t.Errorf("LastEvent after reopen and one more change: %d, want %d", last, len(want)+1)
	}
}

// testEventsPages: Events reads from a position, at most limit (or
// MaxEventsPage) events; negative arguments are errs.Invalid.
func testEventsPages(t *testing.T, e *env) {
	const n = store.MaxEventsPage + 5
	e.write(t, func(tx store.Tx) error {
		for i := range n {
			if err := tx.Insert(t.Context(), &store.Record{Instance: e.newPkg(fmt.Sprintf("PS1%05X", i+1), "p")}); err != nil {
				return err
			}
		}
		return nil
	})
	read := func(after int64, limit int) ([]store.Event, error) {
		var evs []store.Event
		err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
			var err error
			evs, err = tx.Events(t.Context(), after, limit)
			return err
		})
		return evs, err
	}
	for _, tc := range []struct {
		after      int64
		limit      int
		first, got int
	}{
		{0, 0, 1, store.MaxEventsPage},
		{0, n, 1, store.MaxEventsPage},
		{10, 3, 11, 3},
		{n - 2, 0, n - 1, 2},
		{n, 0, 0, 0},
		{n + 100, 5, 0, 0},
	} {
		evs, err := read(tc.after, tc.limit)
		if err != nil {
			t.Fatalf("Events(%d, %d): %v", tc.after, tc.limit, err)
		}
		if len(evs) != tc.got || (tc.got > 0 && evs[0].Seq != int64(tc.first)) {
			t.Errorf("Events(%d, %d): %d events from %v, want %d from %d", tc.after, tc.limit, len(evs), firstSeq(evs), tc.got, tc.first)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].Seq != evs[i-1].Seq+1 {
				t.Errorf("Events(%d, %d): %d follows %d", tc.after, tc.limit, evs[i].Seq, evs[i-1].Seq)
				break
			}
		}
	}
	for _, bad := range [][2]int{{-1, 0}, {0, -1}} {
		if _, err := read(int64(bad[0]), bad[1]); errs.KindOf(err) != errs.Invalid {
			t.Errorf("Events(%d, %d): error %v, want kind Invalid", bad[0], bad[1], err)
		}
	}
}

func firstSeq(evs []store.Event) any {
	if len(evs) == 0 {
		return "none"
	}
	return evs[0].Seq
}

// testEventsSubscribe: a subscriber hears the position of each commit
// that changed something (the newest when it lags), nothing for a read or
// a failed write, and its channel closes when its context ends.
func testEventsSubscribe(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(t.Context())
	ch := e.s.Subscribe(ctx)
	e.insert(t, e.newPkg("PS100001", "one"))
	if got := receive(t, ch); got != 1 {
		t.Errorf("after the first insert the subscriber heard %d, want 1", got)
	}
	e.insert(t, e.newPkg("PS100002", "two"))
	e.insert(t, e.newPkg("PS100003", "three"))
	if got := receive(t, ch); got != 3 {
		t.Errorf("a lagging subscriber heard %d, want the newest position 3", got)
	}
	_ = e.s.Write(t.Context(), func(tx store.Tx) error { return errors.New("nothing") })
	_ = e.s.Read(t.Context(), func(tx store.ReadTx) error { return nil })
	select {
	case pos := <-ch:
		t.Errorf("heard %d after a failed write and a read", pos)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Error("the channel delivered after its context ended")
		}
	case <-time.After(5 * time.Second):
		t.Error("the channel stayed open after its context ended")
	}
}

// testEventsConcurrent: writers at once get one event each, numbered
// without gap or repeat.
func testEventsConcurrent(t *testing.T, e *env) {
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("PS1%02X%03X", w, i)
				if err := e.s.Write(t.Context(), func(tx store.Tx) error {
					return tx.Insert(t.Context(), &store.Record{Instance: e.newPkg(id, "c")})
				}); err != nil {
					t.Errorf("insert %s: %v", id, err)
				}
			}
		})
	}
	wg.Wait()
	evs := e.events(t, 0)
	seen := map[string]bool{}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has position %d", i, ev.Seq)
		}
		if seen[ev.Key] {
			t.Errorf("%s recorded twice", ev.Key)
		}
		seen[ev.Key] = true
	}
	if len(evs) != writers*each {
		t.Errorf("feed holds %d events, want %d", len(evs), writers*each)
	}
}

func receive(t *testing.T, ch <-chan int64) int64 {
	t.Helper()
	select {
	case pos, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return pos
	case <-time.After(5 * time.Second):
		t.Fatal("no position heard within 5 s")
	}
	return 0
}

// eventValue reads one property of an event's values (nil when absent).
func eventValue(t *testing.T, e *env, raw json.RawMessage, name string) any {
	t.Helper()
	in, err := store.DecodeEventValues(e.reg, e.pkg, raw)
	if err != nil {
		t.Fatalf("DecodeEventValues(%s): %v", raw, err)
	}
	return in.Values[name]
}

// testEventsValues: each event carries the instance's non-lazy values
// (the new ones, and for an Update the previous ones; for a Delete those
// it had), never a lazy one; RecordMethod adds a method-invocation event.
func testEventsValues(t *testing.T, e *env) {
	first := e.newPkg("PS100001", "first name")
	first.Set("Category", "lazy category")
	e.insert(t, first)
	e.update(t, e.newPkg("PS100001", "second name"))
	e.write(t, func(tx store.Tx) error {
		rec, err := tx.Get(t.Context(), e.pkg, "PS100001", false)
		if err != nil {
			return err
		}
		return tx.RecordMethod(t.Context(), rec, "AddChangeNotification")
	})
	e.write(t, func(tx store.Tx) error { return tx.Delete(t.Context(), e.pkg, "PS100001") })
	evs := e.events(t, 0)
	if len(evs) != 4 {
		t.Fatalf("feed holds %d events, want 4: %v", len(evs), evs)
	}
	cases := []struct {
		op             store.EventOp
		class, method  string
		target, before any
	}{
		{store.Created, store.CreationEventClass, "", "first name", nil},
		{store.Modified, store.ModificationEventClass, "", "second name", "first name"},
		{store.Invoked, store.MethodEventClass, "AddChangeNotification", "second name", nil},
		{store.Deleted, store.DeletionEventClass, "", "second name", nil},
	}
	for i, tc := range cases {
		ev := evs[i]
		if ev.Op != tc.op || ev.Op.EventClass() != tc.class || ev.Method != tc.method {
			t.Errorf("event %d: %s %s method %q, want %s %s method %q", i+1, ev.Op, ev.Op.EventClass(), ev.Method, tc.op, tc.class, tc.method)
		}
		if got := eventValue(t, e, ev.Target, "Name"); got != tc.target {
			t.Errorf("event %d (%s): target Name %v, want %v", i+1, ev.Op, got, tc.target)
		}
		if got := eventValue(t, e, ev.Target, "PackageID"); got != "PS100001" {
			t.Errorf("event %d (%s): target PackageID %v", i+1, ev.Op, got)
		}
		if got := eventValue(t, e, ev.Target, "Category"); got != nil {
			t.Errorf("event %d (%s): holds the lazy Category %v", i+1, ev.Op, got)
		}
		if tc.before == nil {
			if ev.Previous != nil {
				t.Errorf("event %d (%s): previous instance %s, want none", i+1, ev.Op, ev.Previous)
			}
		} else if got := eventValue(t, e, ev.Previous, "Name"); got != tc.before {
			t.Errorf("event %d (%s): previous Name %v, want %v", i+1, ev.Op, got, tc.before)
		}
	}
}

// testEventsTrim: TrimEvents keeps the newest events; a reader behind
// them gets errs.Gone naming the oldest position kept, a reader within
// them reads on, and positions go on after the last.
func testEventsTrim(t *testing.T, e *env) {
	for i := 1; i <= 6; i++ {
		e.insert(t, e.newPkg(fmt.Sprintf("PS10000%d", i), "n"))
	}
	var removed int64
	e.write(t, func(tx store.Tx) error {
		var err error
		removed, err = tx.TrimEvents(t.Context(), 2)
		return err
	})
	if removed != 4 {
		t.Errorf("TrimEvents(2) of 6 removed %d, want 4", removed)
	}
	for _, after := range []int64{0, 3} {
		err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
			_, err := tx.Events(t.Context(), after, 0)
			return err
		})
		if !errs.Is(err, errs.Gone) || oldestOf(err) != 5 {
			t.Errorf("Events(%d) after a trim to 5..6: %v, want errs.Gone naming 5", after, err)
		}
	}
	if evs := e.events(t, 4); len(evs) != 2 || evs[0].Seq != 5 {
		t.Errorf("Events(4) after a trim: %v, want 5 and 6", evs)
	}
	if last := e.lastEvent(t); last != 6 {
		t.Errorf("LastEvent after a trim: %d, want 6", last)
	}
	e.insert(t, e.newPkg("PS100007", "n"))
	if evs := e.events(t, 6); len(evs) != 1 || evs[0].Seq != 7 {
		t.Errorf("after a trim the feed goes on with %v, want position 7", evs)
	}
	e.write(t, func(tx store.Tx) error {
		var err error
		removed, err = tx.TrimEvents(t.Context(), 0)
		return err
	})
	if removed != 0 {
		t.Errorf("TrimEvents(0) removed %d, want none", removed)
	}
}

// oldestOf is the oldest position a FeedTrimmed error names (0: none).
func oldestOf(err error) int64 {
	var trimmed *store.FeedTrimmed
	if errors.As(err, &trimmed) {
		return trimmed.Oldest
	}
	return 0
}
