package sqlite

import (
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// toColumn converts v, a value of row property p of class c, to what its
// column holds (see columnType). Outcomes: the column value (nil for
// null); an error of kind errs.Invalid naming the property when v is not
// of the Go type p's type calls for.
func toColumn(c *cim.Class, p *cim.Property, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	t := p.Type
	if t.Array || t.Kind == cim.Object {
		b, err := store.EncodeJSON(t, v)
		if err != nil {
			return nil, errs.Target(errs.Invalid, p.Name, "%s.%s: %w", c.Name, p.Name, err)
		}
		return string(b), nil
	}
	switch {
	case t.Kind == cim.Boolean:
		if b, ok := v.(bool); ok {
			if b {
				return int64(1), nil
			}
			return int64(0), nil
		}
	case t.Kind.IsInteger():
		if n, ok := v.(int64); ok {
			return n, nil
		}
	case t.Kind == cim.Real32 || t.Kind == cim.Real64:
		if f, ok := v.(float64); ok {
			return f, nil
		}
	case t.Kind == cim.String || t.Kind == cim.Char16:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case t.Kind == cim.DateTime:
		if d, ok := v.(cim.DateTimeValue); ok {
			return store.DateTimeText(d), nil
		}
	}
	return nil, errs.Target(errs.Invalid, p.Name, "%s.%s: a %v value cannot be a Go %T", c.Name, p.Name, t, v)
}

// fromColumn converts what a row column of property p holds back to a
// value. Outcomes: the value (nil for null); an error of kind
// errs.Internal naming class and property when the stored value does not
// read as p's type (a file written by something else).
func (s *Store) fromColumn(c *cim.Class, p *cim.Property, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.([]byte); ok { // a BLOB where text was expected
		v = string(b)
	}
	t := p.Type
	if t.Array || t.Kind == cim.Object {
		if text, ok := v.(string); ok {
			return s.fromJSON(c, p, text)
		}
		return nil, badStored(c, p, v)
	}
	switch {
	case t.Kind == cim.Boolean:
		if n, ok := v.(int64); ok {
			return n != 0, nil
		}
	case t.Kind.IsInteger():
		if n, ok := v.(int64); ok {
			return n, nil
		}
	case t.Kind == cim.Real32 || t.Kind == cim.Real64:
		switch f := v.(type) {
		case float64:
			return f, nil
		case int64:
			return float64(f), nil
		}
	case t.Kind == cim.String || t.Kind == cim.Char16:
		if text, ok := v.(string); ok {
			return text, nil
		}
	case t.Kind == cim.DateTime:
		if text, ok := v.(string); ok {
			d, err := store.ParseDateTimeText(text)
			if err != nil {
				return nil, errs.Target(errs.Internal, c.Name+"."+p.Name, "stored %s.%s: %w", c.Name, p.Name, err)
			}
			return d, nil
		}
	}
	return nil, badStored(c, p, v)
}

// toJSON encodes a value stored apart (or in a JSON column). Outcomes as
// toColumn's.
func toJSON(c *cim.Class, p *cim.Property, v any) (string, error) {
	b, err := store.EncodeJSON(p.Type, v)
	if err != nil {
		return "", errs.Target(errs.Invalid, p.Name, "%s.%s: %w", c.Name, p.Name, err)
	}
	return string(b), nil
}

// fromJSON decodes JSON text that toJSON wrote. Outcomes: the value; an
// error of kind errs.Internal naming class and property when the text does
// not read as p's type.
func (s *Store) fromJSON(c *cim.Class, p *cim.Property, text string) (any, error) {
	where := c.Name + "." + p.Name
	v, err := store.DecodeJSON(s.reg, p.Type, []byte(text), where)
	if err != nil {
		return nil, errs.Target(errs.Internal, where, "stored %s: %w", where, err)
	}
	return v, nil
}

func badStored(c *cim.Class, p *cim.Property, v any) error {
	return errs.Target(errs.Internal, c.Name+"."+p.Name, "stored %s.%s: a %v column holds a %T", c.Name, p.Name, p.Type, v)
}
