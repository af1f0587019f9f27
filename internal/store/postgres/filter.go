package postgres

import (
	"regexp"
	"strconv"

	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// dialect is PostgreSQL's SQL for the query compiler. Text columns
// collate "C" (byte order, as SQLite's BINARY); comparisons that ignore
// case compare both sides folded by tsprov_fold (fold.go), as the SQLite
// store's NOCASE collation and lower() do.
type dialect struct{}

func (dialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

func (dialect) FoldCompare(l, op, r string) string {
	return foldSQL(l) + " " + op + " " + foldSQL(r)
}

// FoldLike: PostgreSQL's LIKE is exact (the compiler tests character sets
// apart), so both sides are folded.
func (dialect) FoldLike(expr, pattern string) string {
	return foldSQL(expr) + " LIKE " + foldSQL(pattern) + ` ESCAPE '\'`
}

func (dialect) Bool(b bool) any { return b }

func (dialect) Instr(s, sub string) string { return "strpos(" + s + ", " + sub + ")" }

// Lower and Upper: PostgreSQL's lower() and upper() follow the collation
// ("C": ASCII letters only), so the store's own functions (fold.go).
func (dialect) Lower(s string) string { return foldSQL(s) }
func (dialect) Upper(s string) string { return upperFunc + "((" + s + ")::text)" }

// where compiles a filter for table t: " WHERE …" and its parameters
// ($1 on), or nothing for a nil filter. query.Check has refused string
// constants PostgreSQL cannot hold (cim.CheckText).
func (t *table) where(filter query.Expr) (string, []any, error) {
	if filter == nil {
		return "", nil, nil
	}
	cond, args, err := query.Compile(filter, dialect{}, sqlstore.Columns{})
	if err != nil {
		return "", nil, err
	}
	return " WHERE " + typed(cond, args), args, nil
}

var placeholderRE = regexp.MustCompile(`\$[0-9]+`)

// typed gives each parameter of the compiled condition cond its type,
// from its Go value: PostgreSQL cannot infer one for a parameter that
// meets only other parameters (1 = 1, null eq null), and would take one
// compared with a bigint column as a bigint (Duration lt 9.5). Integers
// that fit are int4, so that they also serve as the positions and lengths
// of substr(); fractions are numeric, so that they compare exactly.
func typed(cond string, args []any) string {
	return placeholderRE.ReplaceAllStringFunc(cond, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		switch v := args[n-1].(type) {
		case int64:
			if v == int64(int32(v)) {
				return m + "::int4"
			}
			return m + "::int8"
		case float64:
			return m + "::numeric"
		case bool:
			return m + "::boolean"
		}
		return m + "::text"
	})
}
