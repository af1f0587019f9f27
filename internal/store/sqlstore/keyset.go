package sqlstore

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// SortKey is one term of a list's ORDER BY, as After needs it: the SQL
// expression the rows are ordered by, its direction, and the position's
// value for it, Null or written by Param.
type SortKey struct {
	Expr string
	Desc bool
	Null bool // the position's value is null
	// Param adds the position's value as a query parameter and returns
	// the SQL that reads it in the form Expr compares with. After calls
	// it once for each place the value appears, in the order of the text
	// (SQLite's ? placeholders are positional).
	Param func() string
}

// After is the SQL condition that holds for the rows that come after a
// position in the order keys gives (keyset paging): nulls come first
// ascending and last descending, as both stores order them, and the last
// key (the key column) is never null. When the first key ascends from a
// value, the condition starts with "Expr >= value", a range that an index
// on the first key and the key column reads from its start, so a page
// far into the list reads no more rows than the first.
func After(keys []SortKey) string {
	var b strings.Builder
	if k := keys[0]; len(keys) > 1 && !k.Desc && !k.Null {
		b.WriteString(k.Expr + " >= " + k.Param() + " AND ")
	}
	b.WriteString("(")
	after(&b, keys)
	b.WriteString(")")
	return b.String()
}

// after writes the rows after the position in keys: after on the first
// key, or equal on it and after on the rest.
func after(b *strings.Builder, keys []SortKey) {
	k := keys[0]
	strict := ""
	switch {
	case !k.Desc && k.Null:
		strict = k.Expr + " IS NOT NULL"
	case !k.Desc:
		strict = k.Expr + " > " + k.Param()
	case !k.Null:
		strict = "(" + k.Expr + " < " + k.Param() + " OR " + k.Expr + " IS NULL)"
	}
	if len(keys) == 1 {
		if strict == "" {
			strict = "1 = 0"
		}
		b.WriteString(strict)
		return
	}
	if strict != "" {
		b.WriteString(strict + " OR ")
	}
	if k.Null {
		b.WriteString("(" + k.Expr + " IS NULL AND (")
	} else {
		b.WriteString("(" + k.Expr + " = " + k.Param() + " AND (")
	}
	after(b, keys[1:])
	b.WriteString("))")
}

// PositionValue is the value of property p in a Position in the form its
// column compares (Columns.Value), converted by column (a backend's form
// of store.ToColumn) first.
func PositionValue(c *cim.Class, p *cim.Property, v any, column func(*cim.Class, *cim.Property, any) (any, error)) (any, error) {
	if d, ok := v.(cim.DateTimeValue); ok {
		return Columns{}.Value(p, d), nil
	}
	return column(c, p, v)
}
