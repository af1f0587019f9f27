package provider

import (
	"context"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store"
)

// classRules are the rules a family of classes adds to the generic,
// schema-driven ones.
type classRules interface {
	// appliesTo reports whether the rules apply to class c.
	appliesTo(c *cim.Class) bool
	// beforeCreate fills what the server assigns (ids, versions) into a
	// new instance that holds the class defaults, before client values are
	// applied.
	beforeCreate(ctx context.Context, tx store.Tx, inst *cim.Instance) error
	// beforeUpdate adjusts next (the instance about to be stored) given
	// the stored one and what the client sent.
	beforeUpdate(ctx context.Context, tx store.Tx, cur, next, sent *cim.Instance) error
	// settle runs on create (cur nil) and on update once the client's
	// values are in next, before the server's (a method's) and before the
	// values are checked: it derives what follows from the client's values
	// and refuses combinations the class forbids.
	settle(ctx context.Context, tx store.Tx, cur, next *cim.Instance) error
	// afterWrite runs after an instance was stored (old nil: created) or
	// deleted (next nil), in the same transaction.
	afterWrite(ctx context.Context, tx store.Tx, old, next *cim.Instance) error
}

// defaults returns a new instance of c holding every declared default.
func defaults(c *cim.Class) *cim.Instance {
	inst := cim.NewInstance(c)
	for _, p := range c.Properties {
		if p.Default != nil {
			inst.Values[p.Name] = cim.CloneValue(p.Default)
		}
	}
	return inst
}

// applyClientValues copies what the client sent onto next. cur is the
// stored instance (nil on create).
//   - a lazy property sent as null is skipped: null is what a list shows,
//     so it never erases;
//   - a read-only property may be sent only unchanged (or null);
//   - a key property cannot change.
func applyClientValues(next, sent, cur *cim.Instance) error {
	for name, v := range sent.Values {
		p, ok := next.Class.Property(name)
		if !ok {
			return errs.Target(errs.Invalid, name, "unknown property %s: class %s has no such property", name, next.Class.Name)
		}
		switch {
		case v == nil && (p.IsLazy() || p.IsReadOnly() || p.IsKey()):
			continue
		case p.IsKey() && cur != nil:
			if !cim.Equal(v, cur.Values[p.Name]) {
				return errs.Target(errs.Invalid, p.Name, "key property %s cannot change (stored %q, sent %q)", p.Name, cim.FormatScalar(cur.Values[p.Name]), cim.FormatScalar(v))
			}
		case p.IsReadOnly():
			// a value read back holds its secrets emptied (stripSealed)
			if !cim.Equal(v, next.Values[p.Name]) && !cim.Equal(v, strippedValue(next.Values[p.Name])) {
				return errs.Target(errs.Invalid, p.Name, "property %s is read-only: it cannot be set by a client (the server's value is %s)", p.Name, describeValue(strippedValue(next.Values[p.Name])))
			}
		default:
			next.Values[p.Name] = v
		}
	}
	return nil
}

func describeValue(v any) string {
	if v == nil {
		return "null"
	}
	switch v.(type) {
	case []any, []byte, *cim.Instance:
		return "not what was sent"
	}
	return "\"" + cim.FormatScalar(v) + "\""
}

// finish derives the properties that follow others and checks every value
// against its property's rules, embedded objects included.
func finish(inst *cim.Instance) error {
	deriveSizes(inst)
	return validate(inst, "")
}

// deriveSizes sets each UInt32 property named <X>Size to the byte length of
// the UInt8[] property <X>, and each UInt32 property named <X>Count to the
// element count of the array property <X> (IconSize follows Icon,
// ReferencesCount follows References). A lazy array that is not loaded is
// left alone.
func deriveSizes(inst *cim.Instance) {
	for _, p := range inst.Class.Properties {
		if p.Type.Kind != cim.UInt32 || p.Type.Array {
			continue
		}
		var base string
		var bytesOnly bool
		switch {
		case strings.HasSuffix(p.Name, "Size"):
			base, bytesOnly = strings.TrimSuffix(p.Name, "Size"), true
		case strings.HasSuffix(p.Name, "Count"):
			base = strings.TrimSuffix(p.Name, "Count")
		default:
			continue
		}
		arr, ok := inst.Class.Property(base)
		if !ok || !arr.Type.Array || (bytesOnly && !arr.Type.IsBytes()) || strings.EqualFold(base, "") {
			continue
		}
		v, loaded := inst.Values[arr.Name]
		if !loaded && arr.IsLazy() {
			continue
		}
		var n int
		switch x := v.(type) {
		case []byte:
			n = len(x)
		case []any:
			n = len(x)
		}
		inst.Values[p.Name] = int64(n)
	}
}

// validate checks every value of inst (recursively) against its property.
func validate(inst *cim.Instance, where string) error {
	for _, p := range inst.Class.Properties {
		v := inst.Values[p.Name]
		if v == nil {
			if p.Qualifiers.Has("Not_Null") {
				return errs.Target(errs.Invalid, join(where, p.Name), "property %s cannot be null", join(where, p.Name))
			}
			continue
		}
		if err := p.Check(v); err != nil {
			if where != "" {
				return errs.Target(errs.Invalid, where+"."+p.Name, "%s: %w", where, err)
			}
			return err
		}
		switch x := v.(type) {
		case *cim.Instance:
			if err := validate(x, join(where, p.Name)); err != nil {
				return err
			}
		case []any:
			for i, e := range x {
				if sub, ok := e.(*cim.Instance); ok {
					if err := validate(sub, join(where, p.Name)+"["+itoa(i)+"]"); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func join(where, name string) string {
	if where == "" {
		return name
	}
	return where + "." + name
}

func itoa(i int) string { return cim.FormatScalar(int64(i)) }

// strippedValue is v as a read returns it: sealed secrets emptied.
func strippedValue(v any) any {
	if s, ok := v.(string); ok {
		return secrets.Strip(s)
	}
	return v
}
