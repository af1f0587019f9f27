package migrate

import (
	"context"
	"fmt"
	"maps"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
)

// maxDifferences bounds the differences Diff reports.
const maxDifferences = 20

// Diff compares two stores: every instance of every stored class (key,
// version, every property including lazy and large ones), the counters
// and the change feed. It reads both stores side by side, a page at a
// time (as Copy reads), so what it holds does not grow with the stores.
// Outcomes: the differences, one line each, class by class in key order,
// at most maxDifferences (none: the stores hold the same); an error when
// a store fails.
func Diff(ctx context.Context, reg *cim.Registry, a, b store.Store) ([]string, error) {
	return Compare(ctx, reg, a, b, nil)
}

// Compare is Diff that tells progress, as it goes, how many items
// (instances and feed events) of a it has compared of how many.
func Compare(ctx context.Context, reg *cim.Registry, a, b store.Store, progress Progress) ([]string, error) {
	var out []string
	add := func(format string, args ...any) bool {
		out = append(out, fmt.Sprintf(format, args...))
		return len(out) < maxDifferences
	}
	err := a.Read(ctx, func(ta store.ReadTx) error {
		total, err := size(ctx, reg, ta)
		if err != nil {
			return err
		}
		done := &tally{progress: progress, total: total}
		done.add(0)
		return b.Read(ctx, func(tb store.ReadTx) error {
			for _, c := range stored(reg) {
				more, err := diffClass(ctx, c, ta, tb, add, done)
				if err != nil || !more {
					return err
				}
			}
			ca, err := ta.Counters(ctx)
			if err != nil {
				return err
			}
			cb, err := tb.Counters(ctx)
			if err != nil {
				return err
			}
			if !maps.Equal(ca, cb) && !add("counters differ: %v and %v", ca, cb) {
				return nil
			}
			if err := diffEvents(ctx, ta, tb, add, done); err != nil {
				return err
			}
			for _, c := range historyClasses(reg) {
				if more, err := diffRevisions(ctx, c, ta, tb, add); err != nil || !more {
					return err
				}
			}
			return nil
		})
	})
	return out, err
}

// diffClass compares the instances of c in both stores: it reads them
// page by page from each, in key order (the same on every store), and
// walks both in step, so that it holds a page of each at a time. The
// differences come in key order.
func diffClass(ctx context.Context, c *cim.Class, ta, tb store.ReadTx, add func(string, ...any) bool, done *tally) (bool, error) {
	a, b := &cursor{pages: pager{tx: ta, c: c}}, &cursor{pages: pager{tx: tb, c: c}}
	for {
		ra, err := a.peek(ctx)
		if err != nil {
			return false, err
		}
		rb, err := b.peek(ctx)
		if err != nil {
			return false, err
		}
		var order int
		switch {
		case ra == nil && rb == nil:
			return true, nil
		case ra == nil:
			order = 1
		case rb == nil:
			order = -1
		default:
			order = query.CompareFold(ra.Instance.Key(), rb.Instance.Key())
		}
		switch {
		case order < 0:
			a.pop()
			done.add(1)
			if !add("%s %q only in the first store", c.Name, ra.Instance.Key()) {
				return false, nil
			}
		case order > 0:
			b.pop()
			if !add("%s %q only in the second store", c.Name, rb.Instance.Key()) {
				return false, nil
			}
		default:
			a.pop()
			b.pop()
			done.add(1)
			if !diffRecords(c, ra, rb, add) {
				return false, nil
			}
		}
	}
}

// diffRecords reports how two records of one key differ: version, then
// each property, without its values (they may be credentials). It returns
// false once add wants no more.
func diffRecords(c *cim.Class, ra, rb *store.Record, add func(string, ...any) bool) bool {
	k := ra.Instance.Key()
	if ra.Version != rb.Version && !add("%s %q: version %d and %d", c.Name, k, ra.Version, rb.Version) {
		return false
	}
	for _, p := range c.Properties {
		va, vb := ra.Instance.Values[p.Name], rb.Instance.Values[p.Name]
		if !cim.Equal(va, vb) && !add("%s %q: %s differs", c.Name, k, p.Name) {
			return false
		}
	}
	return true
}

// cursor walks the records of a pager one by one.
type cursor struct {
	pages pager
	page  []*store.Record
}

// peek returns the record at the cursor, nil after the last.
func (c *cursor) peek(ctx context.Context) (*store.Record, error) {
	if len(c.page) == 0 {
		var err error
		if c.page, err = c.pages.next(ctx); err != nil {
			return nil, err
		}
		if len(c.page) == 0 {
			return nil, nil
		}
	}
	return c.page[0], nil
}

// pop moves the cursor past the record peek returned.
func (c *cursor) pop() {
	c.page[0] = nil // the page's array stays: let the record go
	c.page = c.page[1:]
}

func diffEvents(ctx context.Context, ta, tb store.ReadTx, add func(string, ...any) bool, done *tally) error {
	var after int64
	for {
		ea, err := ta.Events(ctx, after, batch)
		if err != nil {
			return err
		}
		eb, err := tb.Events(ctx, after, batch)
		if err != nil {
			return err
		}
		n := min(len(ea), len(eb))
		for i := range n {
			if !sameEvent(ea[i], eb[i]) && !add("change feed differs at position %d: %+v and %+v", max(ea[i].Seq, eb[i].Seq), ea[i], eb[i]) {
				return nil
			}
		}
		if len(ea) != len(eb) {
			add("the change feeds end apart: after position %d the first store holds %d events, the second %d", after, len(ea), len(eb))
			return nil
		}
		if n == 0 {
			return nil
		}
		done.add(n)
		after = ea[n-1].Seq
	}
}

// sameEvent reports whether two events are the same change at the same
// position and instant.
func sameEvent(a, b store.Event) bool {
	return a.Seq == b.Seq && a.Time.Equal(b.Time) && a.Op == b.Op && a.Class == b.Class && a.Key == b.Key && a.Version == b.Version
}
