package provider

import (
	"context"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// referenceRules keep what depends on references true to the store:
//   - References, ReferencesCount and DANGLING_REF of a task sequence
//     package follow its BootImageID on every write, as SetSequence sets
//     them (setReferences);
//   - the reverse references (SMS_TaskSequencePackageReference, one per
//     task sequence and object it refers to) follow every write of a task
//     sequence package;
//   - DANGLING_REF of every task sequence that names a package or an
//     application follows the creation and deletion of that object.
type referenceRules struct{ p *Provider }

// objectTypeApplication is SMS_TaskSequencePackageReference.ObjectType of
// an application.
const objectTypeApplication = 512

func (r referenceRules) appliesTo(c *cim.Class) bool {
	return c.IsA(packageBase) || c.IsA(applicationClass)
}

func (referenceRules) beforeCreate(context.Context, store.Tx, *cim.Instance) error { return nil }

func (referenceRules) beforeUpdate(context.Context, store.Tx, *cim.Instance, *cim.Instance, *cim.Instance) error {
	return nil
}

// settle recomputes the references of a task sequence package whose
// BootImageID the write sets or changes, from its stored sequence.
func (r referenceRules) settle(ctx context.Context, tx store.Tx, cur, next *cim.Instance) error {
	if !next.Class.IsA(tsPackageClass) {
		return nil
	}
	boot := next.String(bootImageProperty)
	if cur == nil && boot == "" || cur != nil && boot == cur.String(bootImageProperty) {
		return nil
	}
	ts, err := r.p.sequenceOf(next)
	if err != nil {
		return err
	}
	return r.p.setReferences(ctx, tx, next, taskseq.References(ts))
}

func (r referenceRules) afterWrite(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
	cur := next
	if cur == nil {
		cur = old
	}
	if cur.Class.IsA(tsPackageClass) {
		if err := r.syncReverse(ctx, tx, old, next); err != nil {
			return err
		}
	}
	if old == nil || next == nil { // created or deleted: sequences that name it change
		return r.refreshReferrers(ctx, tx, cur.Key())
	}
	return nil
}

// reverseClass returns the reverse reference class, if the schema has it.
func (r referenceRules) reverseClass() (*cim.Class, bool) {
	c, ok := r.p.reg.Class(reverseRefClass)
	return c, ok && storable(c) == nil
}

// syncReverse replaces the reverse references of a task sequence.
func (r referenceRules) syncReverse(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
	rc, ok := r.reverseClass()
	if !ok {
		return nil
	}
	for _, ref := range referencesOf(old) {
		row := r.reverseRow(rc, ref.String("Package"), old.Key())
		if err := tx.Delete(ctx, rc, row.Key()); err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
	}
	if next == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, ref := range referencesOf(next) {
		row := r.reverseRow(rc, ref.String("Package"), next.Key())
		if seen[strings.ToUpper(row.Key())] {
			continue
		}
		seen[strings.ToUpper(row.Key())] = true
		if err := r.describeObject(ctx, tx, row, ref); err != nil {
			return err
		}
		if err := tx.Insert(ctx, &store.Record{Instance: row}); err != nil {
			return err
		}
	}
	return nil
}

func referencesOf(pkg *cim.Instance) []*cim.Instance {
	if pkg == nil {
		return nil
	}
	list, _ := pkg.Values[referencesProperty].([]any)
	out := make([]*cim.Instance, 0, len(list))
	for _, v := range list {
		if in, ok := v.(*cim.Instance); ok {
			out = append(out, in)
		}
	}
	return out
}

func (r referenceRules) reverseRow(rc *cim.Class, object, ts string) *cim.Instance {
	row := cim.NewInstance(rc)
	row.Set("ObjectID", object)
	row.Set(packageIDProperty, ts)
	return row
}

// describeObject fills the name, type, version and description of the
// referenced object when it exists.
func (r referenceRules) describeObject(ctx context.Context, tx store.ReadTx, row, ref *cim.Instance) error {
	id := ref.String("Package")
	var classes []*cim.Class
	if ref.Int("Type") == 1 {
		if c, ok := r.p.reg.Class(applicationClass); ok {
			classes = append(classes, c)
		}
		row.Set("ObjectType", int64(objectTypeApplication))
	} else {
		for _, c := range r.p.reg.Classes() {
			if c.IsA(packageBase) && storable(c) == nil {
				classes = append(classes, c)
			}
		}
	}
	for _, c := range classes {
		rec, err := tx.Get(ctx, c, id, false)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		obj := rec.Instance
		copyFirst(row, "ObjectName", obj, "Name", "LocalizedDisplayName")
		copyFirst(row, "Description", obj, "Description")
		copyFirst(row, "Version", obj, "Version", "SoftwareVersion")
		if t, ok := obj.Values["PackageType"].(int64); ok {
			row.Set("ObjectType", t)
		}
		return nil
	}
	return nil
}

// refreshReferrers recomputes DANGLING_REF (and the reverse rows' object
// description) of every task sequence that refers to object id.
func (r referenceRules) refreshReferrers(ctx context.Context, tx store.Tx, id string) error {
	rc, ok := r.reverseClass()
	if !ok {
		return nil
	}
	tsc, _ := r.p.reg.Class(tsPackageClass)
	rows, err := tx.List(ctx, rc, store.ListOptions{})
	if err != nil {
		return err
	}
	for _, row := range rows {
		if !strings.EqualFold(row.Instance.String("ObjectID"), id) {
			continue
		}
		rec, err := tx.Get(ctx, tsc, row.Instance.String(packageIDProperty), true)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		ts := rec.Instance
		before := ts.Int(flagsProperty)
		if err := r.p.refreshDangling(ctx, tx, ts); err != nil {
			return err
		}
		if ts.Int(flagsProperty) != before {
			ts.Set(sedoProperty, newObjectVersion())
			if err := tx.Update(ctx, &store.Record{Instance: ts}); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyFirst sets dst.to from the first of src's properties that has a
// value, when both classes have those properties.
func copyFirst(dst *cim.Instance, to string, src *cim.Instance, from ...string) {
	if _, ok := dst.Class.Property(to); !ok {
		return
	}
	for _, f := range from {
		if v, _ := src.Get(f); v != nil {
			dst.Set(to, v)
			return
		}
	}
}
