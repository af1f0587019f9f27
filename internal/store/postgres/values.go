package postgres

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// toColumn converts v, a value of row property p of class c, to what its
// column holds (see columnType). Outcomes: the column value (nil for
// null); an error of kind errs.Invalid naming the property when v is not
// of the Go type p's type calls for, or is a string PostgreSQL cannot
// hold (one with a NUL character).
func toColumn(c *cim.Class, p *cim.Property, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	t := p.Type
	if t.Array || t.Kind == cim.Object {
		s, err := toJSON(c, p, v)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	switch {
	case t.Kind == cim.Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
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
			return s, noNUL(c, p, s)
		}
	case t.Kind == cim.DateTime:
		if d, ok := v.(cim.DateTimeValue); ok {
			return store.DateTimeText(d), nil
		}
	}
	return nil, errs.Target(errs.Invalid, p.Name, "%s.%s: a %v value cannot be a Go %T", c.Name, p.Name, t, v)
}

// noNUL refuses a string with a NUL character: PostgreSQL's text cannot
// hold one.
func noNUL(c *cim.Class, p *cim.Property, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return errs.Target(errs.Invalid, p.Name, "%s.%s: a string cannot hold the NUL character", c.Name, p.Name)
	}
	return nil
}

// fromColumn converts what a row column of property p holds (as pgx reads
// it: int64, bool, float64, string) back to a value. Outcomes: the value
// (nil for null); an error of kind errs.Internal naming class and
// property when the stored value does not read as p's type (a table
// written by something else).
func (s *Store) fromColumn(c *cim.Class, p *cim.Property, v any) (any, error) {
	if v == nil {
		return nil, nil
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
		if b, ok := v.(bool); ok {
			return b, nil
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
// toColumn's (JSON escapes a NUL, so any string is fine here).
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
