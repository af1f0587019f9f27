package postgres

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// backend prefixes the messages that name the store.
const backend = "postgres"

// toColumn converts v, a value of row property p of class c, to what its
// column holds (see columnType): store.ToColumn's form, which pgx writes
// as it is. Outcomes: those of store.ToColumn; an error of kind
// errs.Invalid naming the property when v is a string PostgreSQL cannot
// hold (one with a NUL character).
func toColumn(c *cim.Class, p *cim.Property, v any) (any, error) {
	col, err := store.ToColumn(c, p, v)
	if err != nil {
		return nil, err
	}
	if s, ok := col.(string); ok && !p.Type.Array && (p.Type.Kind == cim.String || p.Type.Kind == cim.Char16) {
		return s, noNUL(c, p, s)
	}
	return col, nil
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
// it: int64, bool, float64, string) back to a value. Outcomes: those of
// store.FromColumn (a table written by something else).
func (s *Store) fromColumn(c *cim.Class, p *cim.Property, v any) (any, error) {
	return store.FromColumn(s.reg, c, p, v)
}
