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
	"fmt"
	"slices"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// batch is how many items one write transaction of the copy holds.
const batch = 500

// Progress is told, as the copy goes, how many items (instances and feed
// events) are copied of how many.
type Progress func(done, total int64)

// Counts says what a copy moved.
type Counts struct {
	Instances int64
	Events    int64
	Counters  int
}

// Copy copies from into to. from is read in one snapshot; to must hold
// nothing (no instance, counter or event). Outcomes: what was copied; an
// error of kind errs.Conflict when to is not empty, and nothing is
// written; another error when a store fails, and to may hold part of the
// copy (it is not emptied: start again on an empty database).
func Copy(ctx context.Context, reg *cim.Registry, from, to store.Store, progress Progress) (Counts, error) {
	var counts Counts
	if err := mustBeEmpty(ctx, reg, to); err != nil {
		return counts, err
	}
	err := from.Read(ctx, func(src store.ReadTx) error {
		total, err := size(ctx, reg, src)
		if err != nil {
			return err
		}
		var done int64
		report := func(n int) {
			done += int64(n)
			if progress != nil {
				progress(done, total)
			}
		}
		report(0)
		for _, c := range stored(reg) {
			n, err := copyClass(ctx, c, src, to, report)
			counts.Instances += n
			if err != nil {
				return err
			}
		}
		counters, err := src.Counters(ctx)
		if err != nil {
			return err
		}
		err = to.Write(ctx, func(dst store.Tx) error {
			for name, v := range counters {
				if err := dst.RestoreCounter(ctx, name, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("copy counters: %w", err)
		}
		counts.Counters = len(counters)
		counts.Events, err = copyEvents(ctx, src, to, report)
		return err
	})
	return counts, err
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
func mustBeEmpty(ctx context.Context, reg *cim.Registry, s store.Store) error {
	return s.Read(ctx, func(tx store.ReadTx) error {
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
		return nil
	})
}

// copyClass copies the instances of c, batch by batch, with their lazy
// values and versions.
func copyClass(ctx context.Context, c *cim.Class, src store.ReadTx, to store.Store, report func(int)) (int64, error) {
	var copied int64
	lazy := len(store.ApartProperties(c)) > 0
	for offset := 0; ; offset += batch {
		recs, err := src.List(ctx, c, store.ListOptions{Offset: offset, Limit: batch})
		if err != nil {
			return copied, fmt.Errorf("read %s: %w", c.Name, err)
		}
		if len(recs) == 0 {
			return copied, nil
		}
		if lazy {
			for i, r := range recs {
				full, err := src.Get(ctx, c, r.Instance.Key(), true)
				if err != nil {
					return copied, fmt.Errorf("read %s %q: %w", c.Name, r.Instance.Key(), err)
				}
				recs[i] = full
			}
		}
		err = to.Write(ctx, func(dst store.Tx) error {
			for _, r := range recs {
				if err := dst.Restore(ctx, r); err != nil {
					return fmt.Errorf("copy %s %q: %w", c.Name, r.Instance.Key(), err)
				}
			}
			return nil
		})
		if err != nil {
			return copied, err
		}
		copied += int64(len(recs))
		report(len(recs))
	}
}

// copyEvents copies the change feed, position by position.
func copyEvents(ctx context.Context, src store.ReadTx, to store.Store, report func(int)) (int64, error) {
	var copied, after int64
	for {
		evs, err := src.Events(ctx, after, batch)
		if err != nil {
			return copied, fmt.Errorf("read events: %w", err)
		}
		if len(evs) == 0 {
			return copied, nil
		}
		err = to.Write(ctx, func(dst store.Tx) error {
			for _, ev := range evs {
				if err := dst.RestoreEvent(ctx, ev); err != nil {
					return fmt.Errorf("copy event %d: %w", ev.Seq, err)
				}
			}
			return nil
		})
		if err != nil {
			return copied, err
		}
		copied += int64(len(evs))
		after = evs[len(evs)-1].Seq
		report(len(evs))
	}
}
