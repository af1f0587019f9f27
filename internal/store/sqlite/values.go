package sqlite

import (
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// backend prefixes the messages that name the store.
const backend = "sqlite"

// toColumn converts v, a value of row property p of class c, to what its
// column holds (see columnType): store.ToColumn's form, with booleans as
// the integers 1 and 0. Outcomes: those of store.ToColumn.
func toColumn(c *cim.Class, p *cim.Property, v any) (any, error) {
	col, err := store.ToColumn(c, p, v)
	if b, ok := col.(bool); ok && err == nil {
		if b {
			return int64(1), nil
		}
		return int64(0), nil
	}
	return col, err
}

// fromColumn converts what a row column of property p holds back to a
// value: SQLite's forms (a boolean as an integer, a real that is whole as
// an integer, text as a BLOB) are read as store.FromColumn's, which does
// the rest. Outcomes: those of store.FromColumn (a file written by
// something else).
func (s *Store) fromColumn(c *cim.Class, p *cim.Property, v any) (any, error) {
	if b, ok := v.([]byte); ok { // a BLOB where text was expected
		v = string(b)
	}
	if n, ok := v.(int64); ok && !p.Type.Array {
		switch p.Type.Kind {
		case cim.Boolean:
			v = n != 0
		case cim.Real32, cim.Real64:
			v = float64(n)
		}
	}
	return store.FromColumn(s.reg, c, p, v)
}
