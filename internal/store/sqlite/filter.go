package sqlite

import (
	"fmt"
	"strconv"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
)

// dialect is SQLite's SQL for the query compiler. String columns already
// collate NOCASE; comparisons say it again so that function results
// (lower(), substr()) compare the same way.
type dialect struct{}

func (dialect) Placeholder(int) string { return "?" }

func (dialect) FoldCompare(l, op, r string) string {
	return fmt.Sprintf("%s %s %s COLLATE NOCASE", l, op, r)
}

// FoldLike: SQLite's LIKE ignores case (for ASCII letters).
func (dialect) FoldLike(expr, pattern string) string {
	return expr + " LIKE " + pattern + ` ESCAPE '\'`
}

func (dialect) Instr(s, sub string) string { return "instr(" + s + ", " + sub + ")" }

// Suffix: a negative start counts from the end.
func (dialect) Suffix(s, n string) string { return "substr(" + s + ", -" + n + ")" }

func (dialect) Bool(b bool) any {
	if b {
		return int64(1)
	}
	return int64(0)
}

// columns maps properties to the class table's columns (alias t).
type columns struct{ t *table }

// Column: a DateTime compares by its first store.DateTimeKeyLen
// characters, without the unknown-zone mark (store.DateTimeText).
func (c columns) Column(p *cim.Property) string {
	if p.Type.Kind == cim.DateTime && !p.Type.Array {
		return "substr(t." + quote(p.Name) + ", 1, " + strconv.Itoa(store.DateTimeKeyLen) + ")"
	}
	return "t." + quote(p.Name)
}

// Value converts a constant to the column's form; a constant the column
// cannot hold compares as itself.
func (c columns) Value(p *cim.Property, v any) any {
	if d, ok := v.(cim.DateTimeValue); ok && p.Type.Kind == cim.DateTime {
		if col, err := toColumn(c.t.class, p, d); err == nil {
			return col.(string)[:store.DateTimeKeyLen]
		}
	}
	if f, ok := v.(float64); ok && p.Type.Kind.IsInteger() {
		return f
	}
	return v
}

// where compiles a filter for table t: " WHERE …" and its parameters, or
// nothing for a nil filter.
func (t *table) where(filter query.Expr) (string, []any, error) {
	if filter == nil {
		return "", nil, nil
	}
	cond, args, err := query.Compile(filter, dialect{}, columns{t})
	if err != nil {
		return "", nil, err
	}
	if narrow, nargs := t.trigramFilter(filter); narrow != "" {
		return " WHERE " + narrow + " AND " + cond, append(nargs, args...), nil
	}
	return " WHERE " + cond, args, nil
}
