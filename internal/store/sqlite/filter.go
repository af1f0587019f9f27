package sqlite

import (
	"fmt"

	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
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

// Lower and Upper: this process's lower() and upper() (fold.go).
func (dialect) Lower(s string) string { return "lower(" + s + ")" }
func (dialect) Upper(s string) string { return "upper(" + s + ")" }

func (dialect) Bool(b bool) any {
	if b {
		return int64(1)
	}
	return int64(0)
}

// where compiles a filter for table t: " WHERE …" and its parameters, or
// nothing for a nil filter.
func (t *table) where(filter query.Expr) (string, []any, error) {
	if filter == nil {
		return "", nil, nil
	}
	cond, args, err := query.Compile(filter, dialect{}, sqlstore.Columns{})
	if err != nil {
		return "", nil, err
	}
	if narrow, nargs := t.trigramFilter(filter); narrow != "" {
		return " WHERE " + narrow + " AND " + cond, append(nargs, args...), nil
	}
	return " WHERE " + cond, args, nil
}
