package store

// This file holds the rules that turn a property's value into what its
// column or apart value holds and back, the same in every backend. A
// backend adapts only what its driver does differently (see each
// backend's values.go).

import (
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// ToColumn converts v, a value of row property p of class c, to what its
// column holds: booleans as bool, integers as int64, reals as float64,
// strings as string, DateTime as DateTimeText, arrays and embedded objects
// as JSON text (ToJSON). Outcomes: the column value (nil for null); an
// error of kind errs.Invalid naming the property when v is not of the Go
// type p's type calls for.
func ToColumn(c *cim.Class, p *cim.Property, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	t := p.Type
	if t.Array || t.Kind == cim.Object {
		return ToJSON(c, p, v)
	}
	if t.Kind == cim.DateTime {
		if d, ok := v.(cim.DateTimeValue); ok {
			return DateTimeText(d), nil
		}
	} else if same(t.Kind, v) {
		return v, nil
	}
	return nil, errs.Target(errs.Invalid, p.Name, "%s.%s: a %v value cannot be a Go %T", c.Name, p.Name, t, v)
}

// FromColumn converts what a row column of property p of class c holds, in
// the forms ToColumn gives (bool, int64, float64, string), back to a
// value; reg resolves embedded objects' classes. Outcomes: the value (nil
// for null); an error of kind errs.Internal naming class and property
// when the stored value does not read as p's type (a table written by
// something else).
func FromColumn(reg *cim.Registry, c *cim.Class, p *cim.Property, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	t := p.Type
	if t.Array || t.Kind == cim.Object {
		if text, ok := v.(string); ok {
			return FromJSON(reg, c, p, text)
		}
		return nil, badStored(c, p, v)
	}
	if t.Kind == cim.DateTime {
		if text, ok := v.(string); ok {
			d, err := ParseDateTimeText(text)
			if err != nil {
				return nil, errs.Target(errs.Internal, c.Name+"."+p.Name, "stored %s.%s: %w", c.Name, p.Name, err)
			}
			return d, nil
		}
	} else if same(t.Kind, v) {
		return v, nil
	}
	return nil, badStored(c, p, v)
}

// ToJSON encodes v, a value of property p of class c, as it is stored
// apart or in a JSON column (EncodeJSON). Outcomes: the JSON text; an
// error of kind errs.Invalid naming the property when EncodeJSON refuses
// v.
func ToJSON(c *cim.Class, p *cim.Property, v any) (string, error) {
	text, err := encodeJSON(p.Type, v, cim.MarshalValueString)
	if err != nil {
		return "", errs.Target(errs.Invalid, p.Name, "%s.%s: %w", c.Name, p.Name, err)
	}
	return text, nil
}

// FromJSON decodes JSON text that ToJSON wrote. Outcomes: the value; an
// error of kind errs.Internal naming class and property when the text does
// not read as p's type.
func FromJSON(reg *cim.Registry, c *cim.Class, p *cim.Property, text string) (any, error) {
	where := c.Name + "." + p.Name
	v, err := DecodeJSON(reg, p.Type, []byte(text), where)
	if err != nil {
		return nil, errs.Target(errs.Internal, where, "stored %s: %w", where, err)
	}
	return v, nil
}

// badStored is the error for a column of property p that holds v, a
// value of a Go type that does not read as p's type: kind errs.Internal,
// naming class and property.
func badStored(c *cim.Class, p *cim.Property, v any) error {
	return errs.Target(errs.Internal, c.Name+"."+p.Name, "stored %s.%s: a %v column holds a %T", c.Name, p.Name, p.Type, v)
}

// same reports whether v is of the Go type that a value of scalar kind k
// (not DateTime, not an object) is, both as a property value and in its
// column: bool, int64, float64 or string.
func same(k cim.Kind, v any) bool {
	var ok bool
	switch {
	case k == cim.Boolean:
		_, ok = v.(bool)
	case k.IsInteger():
		_, ok = v.(int64)
	case k == cim.Real32 || k == cim.Real64:
		_, ok = v.(float64)
	case k == cim.String || k == cim.Char16:
		_, ok = v.(string)
	}
	return ok
}
