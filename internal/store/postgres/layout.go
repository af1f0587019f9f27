package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// maxIdent is PostgreSQL's limit on an identifier (NAMEDATALEN-1 bytes);
// a longer one would be cut short, silently.
const maxIdent = 63

// table is the layout of one storable class (store.Layout): its SQL table
// and the statements built from it once.
type table struct {
	store.Layout
	ident string // quoted table name

	selectSQL string // SELECT … FROM … (large values as subqueries); alias t; no parameters
	lockSQL   string // args: folded key; locks the row
	insertSQL string // args: key, cols…, version
	updateSQL string // args: key, cols…, folded key; returns _version
	deleteSQL string // args: folded key
	countSQL  string
}

// newTables lays out every storable class of reg. Outcomes: the tables by
// lower-case class name; an error of kind errs.Invalid when a class would
// take a reserved table name, a property a reserved column name, a name
// is longer than PostgreSQL keeps (sqlstore.CheckNames), or a property
// has a type with no column form (sqlstore.CheckColumns).
func newTables(reg *cim.Registry) (map[string]*table, error) {
	return sqlstore.Tables(reg, newTable)
}

func newTable(c *cim.Class) (*table, error) {
	if err := sqlstore.CheckNames(c, maxIdent); err != nil {
		return nil, err
	}
	t := &table{Layout: store.NewLayout(c), ident: sqlstore.Quote(c.Name)}
	if err := sqlstore.CheckColumns(&t.Layout, columnType); err != nil {
		return nil, err
	}
	t.buildSQL()
	return t, nil
}

// buildSQL prepares the statement texts. Every identifier comes from the
// registry and is quoted, as are the class and property names the joins
// name; every value is a bound parameter. The select has no parameter, so
// that a filter's parameters are numbered from $1.
func (t *table) buildSQL() {
	var sel, names, marks, sets []string
	sel = append(sel, "t."+sqlstore.KeyColumn, "t."+sqlstore.VersionColumn)
	n := 2 // $1 is the key
	for _, p := range t.Cols {
		q := sqlstore.Quote(p.Name)
		sel = append(sel, "t."+q)
		names = append(names, q)
		marks = append(marks, fmt.Sprintf("$%d", n))
		sets = append(sets, fmt.Sprintf("%s = $%d", q, n))
		n++
	}
	// Each large value is a subquery of the row, a lookup of its primary
	// key: as a join, the planner may read every apart value of the class
	// and property to hash them, which on a table of many rows costs more
	// than the page (100 ms at 100,000 packages).
	for _, p := range t.Large {
		sel = append(sel, fmt.Sprintf("(SELECT a.value FROM tsprov_apart_values AS a WHERE a.class = %s AND a.key = %s(t.%s) AND a.property = %s)",
			literal(fold(t.Class.Name)), foldFunc, sqlstore.KeyColumn, literal(fold(p.Name))))
	}
	t.selectSQL = "SELECT " + strings.Join(sel, ", ") + " FROM " + t.ident + " AS t"
	t.lockSQL = "SELECT 1 FROM " + t.ident + " WHERE " + foldFunc + "(" + sqlstore.KeyColumn + ") = $1 FOR UPDATE"
	t.insertSQL = "INSERT INTO " + t.ident + " (" + strings.Join(append([]string{sqlstore.KeyColumn, sqlstore.VersionColumn}, names...), ", ") +
		") VALUES (" + strings.Join(append([]string{"$1", fmt.Sprintf("$%d", n)}, marks...), ", ") + ") ON CONFLICT (" + foldFunc + "(" + sqlstore.KeyColumn + ")) DO NOTHING"
	t.updateSQL = "UPDATE " + t.ident + " SET " + strings.Join(append([]string{sqlstore.KeyColumn + " = $1", sqlstore.VersionColumn + " = " + sqlstore.VersionColumn + " + 1"}, sets...), ", ") +
		fmt.Sprintf(" WHERE %s(%s) = $%d RETURNING %s", foldFunc, sqlstore.KeyColumn, n, sqlstore.VersionColumn)
	t.deleteSQL = "DELETE FROM " + t.ident + " WHERE " + foldFunc + "(" + sqlstore.KeyColumn + ") = $1"
	t.countSQL = "SELECT COUNT(*) FROM " + t.ident + " AS t"
}

// columnType returns the SQL type of a row column of type t: integers
// bigint, booleans boolean, reals double precision, strings text compared
// byte by byte (the store folds case where it must), DateTime text
// (store.DateTimeText), arrays and embedded objects text holding JSON
// (store.EncodeJSON).
func columnType(t cim.Type) (string, error) {
	if t.Array || t.Kind == cim.Object {
		return `text COLLATE "C"`, nil
	}
	switch {
	case t.Kind == cim.Boolean:
		return "boolean", nil
	case t.Kind.IsInteger():
		return "bigint", nil
	case t.Kind == cim.Real32 || t.Kind == cim.Real64:
		return "double precision", nil
	case t.Kind == cim.String || t.Kind == cim.Char16 || t.Kind == cim.DateTime:
		return `text COLLATE "C"`, nil
	}
	return "", fmt.Errorf("type %v has no column form", t)
}

// indexName is the quoted name of the index of class on column: class,
// column and "idx" joined by "_", or, when that is longer than PostgreSQL
// keeps, its start and a hash of the whole (index names are per schema,
// and a cut name could clash).
func indexName(class, column string) string {
	return shortIdent(sqlstore.IndexName(class, column))
}

// shortIdent quotes name as an identifier, cut to maxIdent bytes with a
// hash of the whole when it is longer, so that long names stay apart.
func shortIdent(name string) string {
	if len(name) > maxIdent {
		h := fnv.New32a()
		h.Write([]byte(name))
		name = fmt.Sprintf("%s_%08x", name[:maxIdent-9], h.Sum32())
	}
	return sqlstore.Quote(name)
}

// literal returns s as an SQL string constant (standard_conforming_strings
// is on in every supported PostgreSQL: a backslash is an ordinary
// character).
func literal(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// syncLayout brings the class tables in line with the registry, within tx,
// holding a transaction advisory lock of the schema so that servers
// starting at once do it one after the other: it creates the table of a
// class seen for the first time, adds a column for a row property the
// schema gained (existing rows hold null there), records every property's
// type and placement, and indexes the Name column. It never drops a column
// or a table. Outcomes: nil; an error of kind errs.Invalid naming class
// and property when a recorded property's type or placement (row or
// apart) differs from the registry's; another error when a statement
// fails.
func syncLayout(ctx context.Context, tx pgx.Tx, schema string, tables map[string]*table) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockID("layout", schema)); err != nil {
		return fmt.Errorf("lock class layout: %w", err)
	}
	seen, err := loadRecorded(ctx, tx)
	if err != nil {
		return err
	}
	var existing []string
	for _, t := range tables {
		if len(seen[fold(t.Class.Name)]) > 0 {
			existing = append(existing, t.ident)
		}
	}
	if err := syncFold(ctx, tx, existing); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		t := tables[name]
		rec := seen[fold(t.Class.Name)]
		if len(rec) == 0 {
			if err := createTable(ctx, tx, t); err != nil {
				return err
			}
			continue
		}
		if err := extendTable(ctx, tx, t, rec); err != nil {
			return err
		}
	}
	return nil
}

func loadRecorded(ctx context.Context, tx pgx.Tx) (map[string]map[string]sqlstore.Recorded, error) {
	rows, err := tx.Query(ctx, `SELECT `+sqlstore.RecordedColumns+` FROM tsprov_class_columns`)
	if err != nil {
		return nil, fmt.Errorf("read class layout: %w", err)
	}
	defer rows.Close()
	return sqlstore.ScanRecorded(rows, func(s string) string { return s }) // stored folded (record)
}

func createTable(ctx context.Context, tx pgx.Tx, t *table) error {
	defs := []string{sqlstore.KeyColumn + ` text COLLATE "C" NOT NULL`, sqlstore.VersionColumn + " bigint NOT NULL"}
	for _, p := range t.Cols {
		typ, _ := columnType(p.Type) // checked by newTable
		defs = append(defs, sqlstore.Quote(p.Name)+" "+typ)
	}
	stmt := "CREATE TABLE " + t.ident + " (\n  " + strings.Join(defs, ",\n  ") + "\n)"
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("create table for class %s: %w", t.Class.Name, err)
	}
	// keys compare without regard to case: one key a folded form
	stmt = "CREATE UNIQUE INDEX " + indexName(t.Class.Name, sqlstore.KeyColumn) + " ON " + t.ident + " (" + foldFunc + "(" + sqlstore.KeyColumn + "))"
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("index the keys of class %s: %w", t.Class.Name, err)
	}
	for _, p := range t.Class.Properties {
		if err := record(ctx, tx, t.Class, p); err != nil {
			return err
		}
	}
	return createIndex(ctx, tx, t)
}

func extendTable(ctx context.Context, tx pgx.Tx, t *table, rec map[string]sqlstore.Recorded) error {
	c := t.Class
	gained, err := sqlstore.Gained(c, rec, fold)
	if err != nil {
		return err
	}
	for _, p := range gained {
		if !store.Apart(p) {
			typ, _ := columnType(p.Type) // checked by newTable
			stmt := "ALTER TABLE " + t.ident + " ADD COLUMN " + sqlstore.Quote(p.Name) + " " + typ
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("add column for %s.%s: %w", c.Name, p.Name, err)
			}
		}
		if err := record(ctx, tx, c, p); err != nil {
			return err
		}
	}
	return createIndex(ctx, tx, t)
}

func record(ctx context.Context, tx pgx.Tx, c *cim.Class, p *cim.Property) error {
	_, err := tx.Exec(ctx,
		`INSERT INTO tsprov_class_columns (class, property, cim_type, apart) VALUES ($1, $2, $3, $4)`,
		fold(c.Name), fold(p.Name), p.Type.String(), store.Apart(p))
	if err != nil {
		return fmt.Errorf("record layout of %s.%s: %w", c.Name, p.Name, err)
	}
	return nil
}

// createIndex builds the index of each row column sqlstore.Indexed
// names: on the form lists order by and filters compare (orderKey), nulls
// first as lists order them, then the folded key, so that an equality on
// it reads its rows in key order and an order by it is the index's
// order. An index of the name on the column alone, which earlier
// versions built, is built again.
func createIndex(ctx context.Context, tx pgx.Tx, t *table) error {
	for _, p := range t.Cols {
		if !sqlstore.Indexed(p) {
			continue
		}
		name := indexName(t.Class.Name, p.Name)
		var width int
		err := tx.QueryRow(ctx, `SELECT indnatts FROM pg_index WHERE indexrelid = to_regclass($1)`, name).Scan(&width)
		switch {
		case err == nil && width == sqlstore.IndexColumns:
			continue
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("read index %s: %w", name, err)
		}
		stmts := []string{
			"DROP INDEX IF EXISTS " + name,
			"CREATE INDEX " + name + " ON " + t.ident + " (" + orderKey(p, "") + " NULLS FIRST, " + foldFunc + "(" + sqlstore.KeyColumn + "))",
		}
		for _, stmt := range stmts {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("index %s.%s: %w", t.Class.Name, p.Name, err)
			}
		}
	}
	return nil
}
