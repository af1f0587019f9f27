// Package migrate copies everything one store holds into another, empty
// one, as it is: every instance of every stored class with its key,
// version and lazy values, the counters behind the ids, and the change
// feed with its positions. Diff compares two stores the same way, so that
// a copy can be checked. tsprov migrate uses both to move a SQLite data
// folder into PostgreSQL.
package migrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// batch is how many instances, or events, the copy reads from the source
// and writes to the destination at a time, at the most: each costs each
// store a fixed number of queries (store.ReadTx.Scan, store.Tx.Restore),
// and the copy holds one batch at a time, whatever the stores' size.
const batch = 500

// firstPage is how many instances of a class the first page holds; later
// pages hold as many as fit in pageBytes, by the largest instance of the
// page before, up to batch.
const firstPage = 8

// pageBytes bounds, roughly, the bytes of values one page of instances
// holds (a task sequence may be megabytes: a page of them holds a few).
const pageBytes = 8 << 20

// Progress is told, as the copy goes, how many items (instances and feed
// events) are copied of how many.
type Progress func(done, total int64)

// tally counts the items a copy or a comparison has gone through and
// tells progress (when not nil).
type tally struct {
	progress    Progress
	done, total int64
}

func (t *tally) add(n int) {
	t.done += int64(n)
	if t.progress != nil {
		t.progress(t.done, t.total)
	}
}

// Counts says what a copy moved.
type Counts struct {
	Instances int64
	Events    int64
	Counters  int
	Revisions int64
}

// Copy copies from into to: from is read in one snapshot, page by page
// (each class in key order, then the change feed), and each page is
// written to to at once, in one transaction, so that to holds either the
// whole copy or nothing of it, and the copy holds one page at a time
// whatever the stores' size. to must hold nothing (no instance, counter or
// event). Outcomes: what was copied; an error of kind errs.Conflict when
// to is not empty; an error of kind errs.Invalid naming each instance and
// property (the first maxDifferences) whose value to refuses (a string
// with a NUL character or bytes that are not UTF-8, which only a store
// changed by another tool holds: cim.CheckText); another error when a
// store fails. After any error to is as it was.
func Copy(ctx context.Context, reg *cim.Registry, from, to store.Store, progress Progress) (Counts, error) {
	var counts Counts
	if err := to.Read(ctx, func(tx store.ReadTx) error { return mustBeEmpty(ctx, reg, tx) }); err != nil {
		return counts, err
	}
	err := from.Read(ctx, func(src store.ReadTx) error {
		total, err := size(ctx, reg, src)
		if err != nil {
			return err
		}
		// Write may run its function again (after a deadlock): each run
		// starts the count anew.
		return to.Write(ctx, func(dst store.Tx) error {
			counts = Counts{}
			if err := mustBeEmpty(ctx, reg, dst); err != nil {
				return err
			}
			done := &tally{progress: progress, total: total}
			done.add(0)
			refused := &refusals{}
			for _, c := range stored(reg) {
				n, err := copyClass(ctx, c, src, dst, done, refused)
				counts.Instances += n
				if err != nil {
					return err
				}
			}
			counters, err := src.Counters(ctx)
			if err != nil {
				return err
			}
			for name, v := range counters {
				if err := dst.RestoreCounter(ctx, name, v); err != nil {
					return fmt.Errorf("copy counter %q: %w", name, err)
				}
			}
			counts.Counters = len(counters)
			if counts.Events, err = copyEvents(ctx, src, dst, done, refused); err != nil {
				return err
			}
			for _, c := range historyClasses(reg) {
				n, err := copyRevisions(ctx, c, src, dst, refused)
				counts.Revisions += n
				if err != nil {
					return err
				}
			}
			return refused.err()
		})
	})
	if err != nil {
		return Counts{}, err
	}
	return counts, nil
}

// stored returns the classes a store keeps, by name.
func stored(reg *cim.Registry) []*cim.Class {
	var cs []*cim.Class
	for _, c := range reg.Classes() {
		if c.IsStorable() {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b *cim.Class) int { return cmp.Compare(a.Name, b.Name) })
	return cs
}

// size counts the instances and events a store holds.
func size(ctx context.Context, reg *cim.Registry, tx store.ReadTx) (int64, error) {
	var n int64
	for _, c := range stored(reg) {
		k, err := tx.Count(ctx, c, nil)
		if err != nil {
			return 0, fmt.Errorf("count %s: %w", c.Name, err)
		}
		n += k
	}
	var after int64
	for {
		evs, err := tx.Events(ctx, after, 0)
		if err != nil {
			return 0, fmt.Errorf("count events: %w", err)
		}
		if len(evs) == 0 {
			return n, nil
		}
		n += int64(len(evs))
		after = evs[len(evs)-1].Seq
	}
}

// mustBeEmpty refuses a destination that holds anything.
func mustBeEmpty(ctx context.Context, reg *cim.Registry, tx store.ReadTx) error {
	for _, c := range stored(reg) {
		n, err := tx.Count(ctx, c, nil)
		if err != nil {
			return fmt.Errorf("count %s in the destination: %w", c.Name, err)
		}
		if n > 0 {
			return errs.E(errs.Conflict, "the destination is not empty: it holds %d %s instances; copy into an empty database", n, c.Name)
		}
	}
	counters, err := tx.Counters(ctx)
	if err != nil {
		return err
	}
	evs, err := tx.Events(ctx, 0, 1)
	if err != nil {
		return err
	}
	if len(counters) > 0 || len(evs) > 0 {
		return errs.E(errs.Conflict, "the destination is not empty: it holds counters or change events; copy into an empty database")
	}
	return noHistory(ctx, reg, tx)
}

// refusals collects the instances and events the destination refuses as
// invalid, so that one run names them all (up to maxDifferences), not only
// the first. A refusal comes from the store's checks, before any SQL runs,
// so the transaction goes on and the copy reads the rest of the source.
type refusals struct {
	shown []string
	n     int
}

// add records err and returns nil when it is of kind errs.Invalid (what
// names it); it returns any other error as it is.
func (r *refusals) add(what string, err error) error {
	if errs.KindOf(err) != errs.Invalid {
		return fmt.Errorf("copy %s: %w", what, err)
	}
	r.n++
	if len(r.shown) < maxDifferences {
		r.shown = append(r.shown, what+": "+errs.Message(err))
	}
	return nil
}

// err returns nil when nothing was refused, otherwise an error of kind
// errs.Invalid naming what was.
func (r *refusals) err() error {
	if r.n == 0 {
		return nil
	}
	more := ""
	if r.n > len(r.shown) {
		more = fmt.Sprintf("; and %d more", r.n-len(r.shown))
	}
	what := "objects or events hold strings"
	if r.n == 1 {
		what = "object or event holds a string"
	}
	return errs.E(errs.Invalid, "%d %s that no store keeps: %s%s", r.n, what, strings.Join(r.shown, "; "), more)
}

// copyClass copies the instances of c, page by page in key order, with
// their lazy values and versions; the instances dst refuses as invalid go
// to refused.
func copyClass(ctx context.Context, c *cim.Class, src store.ReadTx, dst store.Tx, done *tally, refused *refusals) (int64, error) {
	var copied int64
	pages := pager{tx: src, c: c}
	for {
		recs, err := pages.next(ctx)
		if err != nil || len(recs) == 0 {
			return copied, err
		}
		if err := restore(ctx, c, dst, recs, refused); err != nil {
			return copied, err
		}
		copied += int64(len(recs))
		done.add(len(recs))
	}
}

// restore writes recs to dst in one Restore. When dst refuses one as
// invalid it writes none of them; restore then writes them one by one, so
// that refused names each one dst refuses.
func restore(ctx context.Context, c *cim.Class, dst store.Tx, recs []*store.Record, refused *refusals) error {
	err := dst.Restore(ctx, recs...)
	if err == nil {
		return nil
	}
	if errs.KindOf(err) != errs.Invalid {
		return fmt.Errorf("copy %s: %w", c.Name, err)
	}
	for _, r := range recs {
		if err := dst.Restore(ctx, r); err != nil {
			if err := refused.add(fmt.Sprintf("%s %q", c.Name, r.Instance.Key()), err); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyEvents copies the change feed, batch by batch; the events dst
// refuses as invalid go to refused (as restore does for instances).
func copyEvents(ctx context.Context, src store.ReadTx, dst store.Tx, done *tally, refused *refusals) (int64, error) {
	var copied, after int64
	for {
		evs, err := src.Events(ctx, after, batch)
		var trimmed *store.FeedTrimmed
		if copied == 0 && errors.As(err, &trimmed) {
			// the source keeps its newest events only: copy those
			after = trimmed.Oldest - 1
			continue
		}
		if err != nil {
			return copied, fmt.Errorf("read events: %w", err)
		}
		if len(evs) == 0 {
			return copied, nil
		}
		if err := dst.RestoreEvent(ctx, evs...); err != nil {
			if errs.KindOf(err) != errs.Invalid {
				return copied, fmt.Errorf("copy change events %d to %d: %w", evs[0].Seq, evs[len(evs)-1].Seq, err)
			}
			for _, ev := range evs {
				if err := dst.RestoreEvent(ctx, ev); err != nil {
					if err := refused.add(fmt.Sprintf("change event %d", ev.Seq), err); err != nil {
						return copied, err
					}
				}
			}
		}
		copied += int64(len(evs))
		after = evs[len(evs)-1].Seq
		done.add(len(evs))
	}
}

// pager reads the instances of one class page by page, in key order
// (store.ReadTx.Scan), each page sized so that it holds about pageBytes.
type pager struct {
	tx    store.ReadTx
	c     *cim.Class
	after *string // the last key read; nil before the first page
	limit int     // the next page's size; 0 before the first page
	done  bool
}

// next returns the next page: none after the last.
func (p *pager) next(ctx context.Context) ([]*store.Record, error) {
	if p.done {
		return nil, nil
	}
	if p.limit == 0 {
		p.limit = firstPage
	}
	recs, err := p.tx.Scan(ctx, p.c, p.after, p.limit)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p.c.Name, err)
	}
	if len(recs) < p.limit {
		p.done = true
	}
	if len(recs) == 0 {
		return nil, nil
	}
	last := recs[len(recs)-1].Instance.Key()
	p.after = &last
	largest := 1
	for _, r := range recs {
		largest = max(largest, footprint(r.Instance))
	}
	p.limit = max(1, min(batch, pageBytes/largest))
	return recs, nil
}

// footprint estimates the bytes the values of in take: their strings'
// bytes and a word or two for each value.
func footprint(v any) int {
	const word = 16
	switch x := v.(type) {
	case string:
		return word + len(x)
	case []any:
		n := word
		for _, e := range x {
			n += footprint(e)
		}
		return n
	case *cim.Instance:
		n := word
		for _, e := range x.Values {
			n += word + footprint(e)
		}
		return n
	}
	return word
}
