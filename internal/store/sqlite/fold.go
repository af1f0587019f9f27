package sqlite

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode"

	sqlite "modernc.org/sqlite"

	"github.com/tsprov/tsprov/internal/query"
)

// SQLite folds ASCII letters only (its NOCASE collation, LIKE, lower() and
// upper()); tsprov compares strings by query.Fold, which folds every
// letter. So every connection this process opens gets:
//   - the collation NOCASE replaced by query.CompareFold, which agrees with
//     SQLite's on ASCII text: string columns, their indexes, comparisons
//     and ORDER BY then ignore the case of every letter;
//   - lower() as query.Fold and upper() as Unicode upper case, which the
//     query compiler uses for tolower/toupper and for a LIKE whose pattern
//     holds a non-ASCII character (it is then matched on folded text).
//
// The database file stays readable by the sqlite3 tool; an index on a
// string column is ordered by tsprov's folding, which differs from the
// tool's for non-ASCII letters only.
func init() {
	must := func(err error) {
		if err != nil {
			panic(fmt.Sprintf("sqlite: register case folding: %v", err))
		}
	}
	must(sqlite.RegisterCollationUtf8("NOCASE", query.CompareFold))
	must(sqlite.RegisterDeterministicScalarFunction("lower", 1, stringFunc(query.Fold)))
	must(sqlite.RegisterDeterministicScalarFunction("upper", 1, stringFunc(func(s string) string {
		return strings.Map(unicode.ToUpper, s)
	})))
}

// stringFunc makes f an SQL function of one argument: null gives null,
// text gives f(text), and any other value is taken as its text, as
// SQLite's own string functions do.
func stringFunc(f func(string) string) func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
	return func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case nil:
			return nil, nil
		case string:
			return f(v), nil
		case []byte:
			return f(string(v)), nil
		default:
			return f(fmt.Sprint(v)), nil
		}
	}
}
