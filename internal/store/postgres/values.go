package postgres

import (
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// backend prefixes the messages that name the store.
const backend = "postgres"

// fromColumn converts what a row column of property p holds (as pgx reads
// it: int64, bool, float64, string) back to a value. Outcomes: those of
// store.FromColumn (a table written by something else).
func (s *Store) fromColumn(c *cim.Class, p *cim.Property, v any) (any, error) {
	return store.FromColumn(s.reg, c, p, v)
}
