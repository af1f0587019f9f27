package migrate

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// maxDifferences bounds the differences Diff reports.
const maxDifferences = 20

// Diff compares two stores: every instance of every stored class (key,
// version, every property including lazy and large ones), the counters
// and the change feed. Outcomes: the differences, one line each, at most
// maxDifferences (none: the stores hold the same); an error when a store
// fails.
func Diff(ctx context.Context, reg *cim.Registry, a, b store.Store) ([]string, error) {
	var out []string
	add := func(format string, args ...any) bool {
		out = append(out, fmt.Sprintf(format, args...))
		return len(out) < maxDifferences
	}
	err := a.Read(ctx, func(ta store.ReadTx) error {
		return b.Read(ctx, func(tb store.ReadTx) error {
			for _, c := range stored(reg) {
				more, err := diffClass(ctx, c, ta, tb, add)
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
			return diffEvents(ctx, ta, tb, add)
		})
	})
	return out, err
}

func diffClass(ctx context.Context, c *cim.Class, ta, tb store.ReadTx, add func(string, ...any) bool) (bool, error) {
	ka, err := keys(ctx, c, ta)
	if err != nil {
		return false, err
	}
	kb, err := keys(ctx, c, tb)
	if err != nil {
		return false, err
	}
	inA, inB := set(ka), set(kb)
	for _, k := range ka {
		if !inB[k] && !add("%s %q only in the first store", c.Name, k) {
			return false, nil
		}
	}
	for _, k := range kb {
		if !inA[k] && !add("%s %q only in the second store", c.Name, k) {
			return false, nil
		}
	}
	for _, k := range ka {
		if !inB[k] {
			continue
		}
		ra, err := ta.Get(ctx, c, k, true)
		if err != nil {
			return false, err
		}
		rb, err := tb.Get(ctx, c, k, true)
		if err != nil {
			return false, err
		}
		if ra.Version != rb.Version && !add("%s %q: version %d and %d", c.Name, k, ra.Version, rb.Version) {
			return false, nil
		}
		for _, p := range c.Properties {
			va, vb := ra.Instance.Values[p.Name], rb.Instance.Values[p.Name]
			// values are not shown: they may be credentials
			if !cim.Equal(va, vb) && !add("%s %q: %s differs", c.Name, k, p.Name) {
				return false, nil
			}
		}
	}
	return true, nil
}

func set(ks []string) map[string]bool {
	m := make(map[string]bool, len(ks))
	for _, k := range ks {
		m[k] = true
	}
	return m
}

// keys lists the keys of c's instances, sorted.
func keys(ctx context.Context, c *cim.Class, tx store.ReadTx) ([]string, error) {
	var ks []string
	for offset := 0; ; offset += batch {
		recs, err := tx.List(ctx, c, store.ListOptions{Offset: offset, Limit: batch})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", c.Name, err)
		}
		if len(recs) == 0 {
			slices.Sort(ks)
			return ks, nil
		}
		for _, r := range recs {
			ks = append(ks, r.Instance.Key())
		}
	}
}

func diffEvents(ctx context.Context, ta, tb store.ReadTx, add func(string, ...any) bool) error {
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
		after = ea[n-1].Seq
	}
}

// sameEvent reports whether two events are the same change at the same
// position and instant.
func sameEvent(a, b store.Event) bool {
	return a.Seq == b.Seq && a.Time.Equal(b.Time) && a.Op == b.Op && a.Class == b.Class && a.Key == b.Key && a.Version == b.Version
}
