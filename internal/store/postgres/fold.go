package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/query"
)

// Case folding. tsprov compares strings without regard to case by
// query.Fold (Unicode simple case folding, one form a letter), in memory
// and in every store. PostgreSQL's lower() is not that rule (it follows
// the collation: ASCII only under "C", full lower-case mapping under
// ICU), so the store defines tsprov_fold(text) in its schema: lower() for
// ASCII text, and otherwise translate() by the table of every character
// query.FoldRune changes. Keys (a unique index on tsprov_fold(_key)),
// string comparisons, LIKE and ORDER BY all use it; in Go the store folds
// with query.Fold, which agrees.

// foldFunc is the name of the folding function in the store's schema.
const foldFunc = "tsprov_fold"

// foldBody is the SQL body of tsprov_fold, built once.
var foldBody = sync.OnceValue(func() string {
	var from, to strings.Builder
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		if f := query.FoldRune(r); f != r {
			from.WriteRune(r)
			to.WriteRune(f)
		}
	}
	return `SELECT CASE WHEN octet_length(s) = char_length(s) THEN lower(s COLLATE "C") ` +
		`ELSE translate(lower(s COLLATE "C"), ` + literal(from.String()) + `, ` + literal(to.String()) + `) END`
})

// upperFunc is the name of the function in the store's schema that gives
// a string in upper case as strings.ToUpper does (the query's toupper):
// upper() for ASCII text, and otherwise translate() by the table of every
// character unicode.ToUpper changes.
const upperFunc = "tsprov_upper"

// upperBody is the SQL body of tsprov_upper, built once.
var upperBody = sync.OnceValue(func() string {
	var from, to strings.Builder
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		if u := unicode.ToUpper(r); u != r {
			from.WriteRune(r)
			to.WriteRune(u)
		}
	}
	return `SELECT CASE WHEN octet_length(s) = char_length(s) THEN upper(s COLLATE "C") ` +
		`ELSE translate(upper(s COLLATE "C"), ` + literal(from.String()) + `, ` + literal(to.String()) + `) END`
})

// fold is s as the store compares it without regard to case.
func fold(s string) string { return query.Fold(s) }

// foldSQL is the SQL of the string expression e folded, compared byte by
// byte.
func foldSQL(e string) string { return foldFunc + `((` + e + `)::text) COLLATE "C"` }

// syncFold creates tsprov_fold, or replaces it when this build folds
// otherwise (a newer Unicode version) and then rebuilds the indexes of the
// tables, which hold folded keys and names. It runs under the layout lock.
func syncFold(ctx context.Context, tx pgx.Tx, tables []string) error {
	if err := syncUpper(ctx, tx); err != nil {
		return err
	}
	var have string
	err := tx.QueryRow(ctx, `SELECT prosrc FROM pg_proc WHERE proname = $1 AND pronamespace = current_schema()::regnamespace`, foldFunc).Scan(&have)
	switch {
	case err == nil && have == foldBody():
		return nil
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("read %s: %w", foldFunc, err)
	}
	stmt := `CREATE OR REPLACE FUNCTION ` + foldFunc + `(s text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS ` +
		literal(foldBody())
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("create %s: %w", foldFunc, err)
	}
	if err == nil { // replaced: what the indexes hold was folded otherwise
		for _, t := range tables {
			if _, err := tx.Exec(ctx, "REINDEX TABLE "+t); err != nil {
				return fmt.Errorf("reindex %s: %w", t, err)
			}
		}
	}
	return nil
}

// syncUpper creates tsprov_upper, or replaces it when this build maps
// case otherwise. No index depends on it.
func syncUpper(ctx context.Context, tx pgx.Tx) error {
	var have string
	err := tx.QueryRow(ctx, `SELECT prosrc FROM pg_proc WHERE proname = $1 AND pronamespace = current_schema()::regnamespace`, upperFunc).Scan(&have)
	switch {
	case err == nil && have == upperBody():
		return nil
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("read %s: %w", upperFunc, err)
	}
	stmt := `CREATE OR REPLACE FUNCTION ` + upperFunc + `(s text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS ` +
		literal(upperBody())
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("create %s: %w", upperFunc, err)
	}
	return nil
}
