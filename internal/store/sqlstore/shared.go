package sqlstore

import (
	"fmt"
	"maps"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
)

// Values a revision shares with its instance. A revision holds the whole
// instance, and the instance a change stored is, as a rule, the one its
// revision records, in the same transaction: a 2 MB task sequence would
// be written twice, once as the instance's apart value and once in the
// revision. So a large apart value (MinSharedValue and longer) that the
// transaction stored for the instance, and that the revision holds
// unchanged, is not written into the revision: the revision's row in
// tsprov_revision_values names the property with a NULL value, which
// reads as the instance's stored apart value. Before that apart value is
// replaced or erased (a later change, the deletion), the rows that share
// it are given their own copy (the store's writeApart and deleteApart),
// in SQL, so a revision always reads back what it held. Other values of
// the revision, and those a revision holds on its own (copied, restored,
// replaced), are stored in tsprov_revision_values with their text, or in
// the revision's instance text when they are not large.

// MinSharedValue is the length of JSON text from which an apart value is
// kept once for an instance and its revision.
const MinSharedValue = 16 << 10

// ApartWrites remembers the apart values a write transaction stored, by
// class, key and property (folded), so that AddRevision can tell which of
// a revision's values the instance holds as stored.
type ApartWrites map[string]apartWrite

type apartWrite struct {
	value any // the instance's value
	size  int // the length of its JSON text
}

func apartRef(class, key, prop string) string {
	return query.Fold(class) + "\x00" + query.Fold(key) + "\x00" + query.Fold(prop)
}

// Note records ops, written for the instance in under key (in may be nil:
// nothing is then shared).
func (w *ApartWrites) Note(class, key string, in *cim.Instance, ops []store.ApartOp) {
	for _, op := range ops {
		ref := apartRef(class, key, op.Prop.Name)
		if op.Erase || in == nil || len(op.JSON) < MinSharedValue {
			delete(*w, ref)
			continue
		}
		if *w == nil {
			*w = ApartWrites{}
		}
		(*w)[ref] = apartWrite{value: in.Values[op.Prop.Name], size: len(op.JSON)}
	}
}

// Forget drops what was recorded for the instances of class under key.
func (w ApartWrites) Forget(l *store.Layout, key string) {
	for _, p := range l.Apart {
		delete(w, apartRef(l.Class.Name, key, p.Name))
	}
}

// Shared is a value a revision shares with its stored instance: the
// property and the length of its JSON text.
type Shared struct {
	Prop *cim.Property
	Size int
}

// SplitRevision returns the instance of a revision without the values it
// shares with its stored instance (those w recorded and in holds
// unchanged: the same string), and those values, in class order.
func (w ApartWrites) SplitRevision(l *store.Layout, in *cim.Instance) (*cim.Instance, []Shared) {
	if len(w) == 0 {
		return in, nil
	}
	var shared []Shared
	key := in.Key()
	for _, p := range l.Apart {
		stored, ok := w[apartRef(l.Class.Name, key, p.Name)]
		if !ok {
			continue
		}
		s1, ok1 := stored.value.(string)
		s2, ok2 := in.Values[p.Name].(string)
		if ok1 && ok2 && s1 == s2 {
			shared = append(shared, Shared{Prop: p, Size: stored.size})
		}
	}
	if len(shared) == 0 {
		return in, nil
	}
	rest := *in
	rest.Values = maps.Clone(in.Values)
	for _, sh := range shared {
		delete(rest.Values, sh.Prop.Name)
	}
	return &rest, shared
}

// RevisionSize is the length of the whole instance's JSON text, from that
// of the instance without the values it shares (rest) and those values:
// a revision's Size does not depend on where its values are kept.
func RevisionSize(rest int, shared []Shared) int64 {
	n := int64(rest)
	members := rest > 2 // "{}" has none
	for _, sh := range shared {
		if members {
			n++ // the comma before the member
		}
		members = true
		n += int64(len(sh.Prop.Name)+3) + int64(sh.Size) // "name":text
	}
	return n
}

// FillRevision sets the values kept apart of a revision's instance from
// rows of (property, value JSON text or NULL); a NULL is a value that
// should have been copied before its instance's changed, which is
// reported.
func FillRevision(rows Rows, reg *cim.Registry, r *store.Revision) error {
	c := r.Instance.Class
	for rows.Next() {
		var name string
		var text *string
		if err := rows.Scan(&name, &text); err != nil {
			return fmt.Errorf("read revision %d of %s %q: %w", r.Rev, c.Name, r.Key, err)
		}
		p, ok := c.Property(name)
		if !ok {
			continue
		}
		if text == nil {
			return errs.E(errs.Internal, "revision %d of %s %q: the value of %s is lost", r.Rev, c.Name, r.Key, name)
		}
		v, err := store.FromJSON(reg, c, p, *text)
		if err != nil {
			return err
		}
		r.Instance.Values[p.Name] = v
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read revision %d of %s %q: %w", r.Rev, c.Name, r.Key, err)
	}
	return nil
}
