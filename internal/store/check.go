package store

// This file holds the argument checks of the Store contract that every
// backend makes the same way, so that each rule is written once.

import (
	"fmt"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// CheckInstance checks that in, an instance of the stored class c, can be
// written: it holds values only under c's property names (spelled as c
// spells them), no key property is null, and every string it holds (in
// arrays and embedded objects too) is text that every store keeps
// (cim.CheckText). Outcomes: nil; an error of kind errs.Invalid naming the
// offending property (by its path, for a value in an array or an embedded
// object).
func CheckInstance(c *cim.Class, in *cim.Instance) error {
	for name := range in.Values {
		if p, ok := c.Property(name); !ok || p.Name != name {
			return errs.Target(errs.Invalid, name, "%s has no property %q", c.Name, name)
		}
	}
	for _, p := range c.Keys() {
		if in.Values[p.Name] == nil {
			return errs.Target(errs.Invalid, p.Name, "%s: key property %s is null", c.Name, p.Name)
		}
	}
	return checkValues(c.Name, in)
}

// checkValues checks every string value of in, an instance of class, with
// cim.CheckText, in class order. The error names the value by its path
// (SupportedOperatingSystems[0].Platform).
func checkValues(class string, in *cim.Instance) error {
	for _, p := range in.Class.Properties {
		if err := checkValue(class, p.Name, in.Values[p.Name]); err != nil {
			return err
		}
	}
	return nil
}

// checkValue checks v, the value at path, and every string its elements
// and embedded objects hold.
func checkValue(class, path string, v any) error {
	switch x := v.(type) {
	case string:
		if err := cim.CheckText(x); err != nil {
			return errs.Target(errs.Invalid, path, "%s.%s: %w", class, path, err)
		}
	case []any:
		for i, e := range x {
			if err := checkValue(class, fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	case *cim.Instance:
		for _, p := range x.Class.Properties {
			if err := checkValue(class, path+"."+p.Name, x.Values[p.Name]); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckKey checks the key a Get or Delete of class c looks up: one that
// is not text every store keeps (cim.CheckText) names no instance, on any
// store (PostgreSQL could not even compare with it). Outcomes: nil; the
// NotFound error when key is such a key.
func CheckKey(c *cim.Class, key string) error {
	if cim.CheckText(key) != nil {
		return NotFound(c, key)
	}
	return nil
}

// EventsLimit checks the arguments of ReadTx.Events and returns how many
// events to read at the most. Outcomes: limit, or MaxEventsPage when limit
// is 0 or larger; an error of kind errs.Invalid naming "after" or "limit"
// when it is negative.
func EventsLimit(after int64, limit int) (int, error) {
	if after < 0 {
		return 0, errs.Target(errs.Invalid, "after", "events: position %d is negative", after)
	}
	if limit < 0 {
		return 0, errs.Target(errs.Invalid, "limit", "events: limit %d is negative", limit)
	}
	if limit == 0 || limit > MaxEventsPage {
		limit = MaxEventsPage
	}
	return limit, nil
}

// CheckScan checks the limit of ReadTx.Scan. Outcomes: nil; an error of
// kind errs.Invalid naming "limit" when limit is less than 1.
func CheckScan(c *cim.Class, limit int) error {
	if limit < 1 {
		return errs.Target(errs.Invalid, "limit", "scan %s: limit %d is not above 0", c.Name, limit)
	}
	return nil
}

// CheckRestore checks a record Tx.Restore is given. Outcomes: nil; an
// error of kind errs.Invalid naming "Version" when rec is nil or its
// version is less than 1.
func CheckRestore(rec *Record) error {
	if rec == nil || rec.Version < 1 {
		return errs.Target(errs.Invalid, "Version", "restore: a record needs a version of 1 or more")
	}
	return nil
}

// CheckRestoreCounter checks the arguments of Tx.RestoreCounter.
// Outcomes: nil; an error of kind errs.Invalid when name is empty or
// value negative.
func CheckRestoreCounter(name string, value int64) error {
	if name == "" || value < 0 {
		return errs.E(errs.Invalid, "restore counter %q: needs a name and a value of 0 or more, not %d", name, value)
	}
	return nil
}

// CheckRestoreEvents checks that evs, in order, may follow a feed whose
// last position is last (CheckRestoreEvent for each, after the one
// before). Outcomes: nil; the first event's error.
func CheckRestoreEvents(evs []Event, last int64) error {
	for _, ev := range evs {
		if err := CheckRestoreEvent(ev, last); err != nil {
			return err
		}
		last = ev.Seq
	}
	return nil
}

// CheckRestoreEvent checks that ev may follow a feed whose last position
// is last. Outcomes: nil; an error of kind errs.Invalid naming "Key" when
// ev.Key is not text every store keeps (cim.CheckText); an error of kind
// errs.Invalid naming "Seq" when ev.Seq is not after last.
func CheckRestoreEvent(ev Event, last int64) error {
	if err := cim.CheckText(ev.Key); err != nil {
		return errs.Target(errs.Invalid, "Key", "restore event %d: its key: %w", ev.Seq, err)
	}
	if ev.Seq <= last {
		return errs.Target(errs.Invalid, "Seq", "restore event %d: the feed already reaches %d", ev.Seq, last)
	}
	return nil
}

// CheckList checks opts for a List of class c: each order names a
// property of c that is Sortable, and neither Offset nor Limit is
// negative, and After (when given) holds one value for each order.
// Outcomes: the property each of opts.OrderBy names, in order;
// an error of kind errs.Invalid naming the property when c has no such
// property or it is not Sortable; an error of kind errs.Invalid naming
// "Offset" or "Limit" when it is negative, or "After" when its values do
// not match the order.
func CheckList(c *cim.Class, opts ListOptions) ([]*cim.Property, error) {
	props := make([]*cim.Property, len(opts.OrderBy))
	for i, o := range opts.OrderBy {
		p, ok := c.Property(o.Property)
		if !ok {
			return nil, errs.Target(errs.Invalid, o.Property, "order by %s: class %s has no such property", o.Property, c.Name)
		}
		if !Sortable(p) {
			return nil, errs.Target(errs.Invalid, p.Name, "order by %s: only scalar properties that are neither lazy nor large can order a list", p.Name)
		}
		props[i] = p
	}
	if opts.After != nil && len(opts.After.Values) != len(props) {
		return nil, errs.Target(errs.Invalid, "After", "list %s: a position of %d values for an order by %d properties", c.Name, len(opts.After.Values), len(props))
	}
	if opts.Offset < 0 {
		return nil, errs.Target(errs.Invalid, "Offset", "list %s: offset %d is negative", c.Name, opts.Offset)
	}
	if opts.Limit < 0 {
		return nil, errs.Target(errs.Invalid, "Limit", "list %s: limit %d is negative", c.Name, opts.Limit)
	}
	return props, nil
}

// NotFound is the error for a Get, Update or Delete of the instance of
// class c with the given key when none is stored: kind errs.NotFound.
func NotFound(c *cim.Class, key string) error {
	return errs.E(errs.NotFound, "%s %q not found", c.Name, key)
}

// Exists is the error for an Insert or Restore of the instance of class c
// with the given key when one is stored: kind errs.Conflict.
func Exists(c *cim.Class, key string) error {
	return errs.E(errs.Conflict, "%s %q already exists", c.Name, key)
}
