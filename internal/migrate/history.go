package migrate

import (
	"context"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// historyBatch is how many revisions (each a whole instance, up to a few
// MB with its sequence) the copy reads and writes at once.
const historyBatch = 16

// historyClasses are the stored classes that keep a history.
func historyClasses(reg *cim.Registry) []*cim.Class {
	var out []*cim.Class
	for _, c := range stored(reg) {
		if store.HasHistory(c) {
			out = append(out, c)
		}
	}
	return out
}

// copyRevisions copies the histories of c (deleted instances' too),
// numbers, times and authors kept; the revisions dst refuses as invalid go
// to refused.
func copyRevisions(ctx context.Context, c *cim.Class, src store.ReadTx, dst store.Tx, refused *refusals) (int64, error) {
	var copied int64
	var after *store.RevisionPosition
	for {
		revs, err := src.ScanRevisions(ctx, c, after, historyBatch)
		if err != nil {
			return copied, fmt.Errorf("read the history of %s: %w", c.Name, err)
		}
		if len(revs) == 0 {
			return copied, nil
		}
		for i := range revs {
			if err := dst.RestoreRevisions(ctx, &revs[i]); err != nil {
				if err := refused.add(fmt.Sprintf("revision %d of %s %q", revs[i].Rev, c.Name, revs[i].Key), err); err != nil {
					return copied, err
				}
			}
		}
		copied += int64(len(revs))
		last := revs[len(revs)-1]
		after = &store.RevisionPosition{Key: last.Key, Rev: last.Rev}
	}
}

// noHistory refuses a destination that holds a revision.
func noHistory(ctx context.Context, reg *cim.Registry, tx store.ReadTx) error {
	for _, c := range historyClasses(reg) {
		revs, err := tx.ScanRevisions(ctx, c, nil, 1)
		if err != nil {
			return err
		}
		if len(revs) > 0 {
			return errs.E(errs.Conflict, "the destination is not empty: it holds the history of %s %q; copy into an empty database", c.Name, revs[0].Key)
		}
	}
	return nil
}

// diffRevisions compares the histories of c in both stores, in step, a
// batch of each at a time.
func diffRevisions(ctx context.Context, c *cim.Class, ta, tb store.ReadTx, add func(string, ...any) bool) (bool, error) {
	var after *store.RevisionPosition
	for {
		ra, err := ta.ScanRevisions(ctx, c, after, historyBatch)
		if err != nil {
			return false, err
		}
		rb, err := tb.ScanRevisions(ctx, c, after, historyBatch)
		if err != nil {
			return false, err
		}
		n := min(len(ra), len(rb))
		for i := range n {
			if d := revisionDifference(&ra[i], &rb[i]); d != "" && !add("history of %s %q, revision %d: %s", c.Name, ra[i].Key, ra[i].Rev, d) {
				return false, nil
			}
		}
		if len(ra) != len(rb) {
			return add("the histories of %s end apart: the first store holds %d more revisions, the second %d", c.Name, len(ra)-n, len(rb)-n), nil
		}
		if n == 0 {
			return true, nil
		}
		last := ra[n-1]
		after = &store.RevisionPosition{Key: last.Key, Rev: last.Rev}
	}
}

// revisionDifference says how two revisions differ ("" when they do not).
func revisionDifference(a, b *store.Revision) string {
	switch {
	case !strings.EqualFold(a.Key, b.Key) || a.Rev != b.Rev:
		return fmt.Sprintf("the second store has %q revision %d there", b.Key, b.Rev)
	case !a.Time.Equal(b.Time) || a.Op != b.Op || a.Method != b.Method || a.User != b.User || a.Server != b.Server || a.Comment != b.Comment || a.RestoredFrom != b.RestoredFrom:
		return fmt.Sprintf("recorded differently: %v %s %s %s %s %q and %v %s %s %s %s %q",
			a.Time, a.Op, a.Method, a.User, a.Server, a.Comment, b.Time, b.Op, b.Method, b.User, b.Server, b.Comment)
	}
	for _, p := range a.Instance.Class.Properties {
		if !cim.Equal(a.Instance.Values[p.Name], b.Instance.Values[p.Name]) {
			return "the instances differ in " + p.Name
		}
	}
	return ""
}
