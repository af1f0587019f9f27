package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// Names the store reserves.
const (
	keyColumn      = "_key"
	versionColumn  = "_version"
	reservedPrefix = "tsprov_" // the fixed tables (migrations/) start so

	// indexedProperty is the row property that gets an index where a class
	// has one (as do those the schema marks Indexed): the one that lists and
	// queries most often order and filter by.
	indexedProperty = "Name"

	// maxIdent is PostgreSQL's limit on an identifier (NAMEDATALEN-1
	// bytes); a longer one would be cut short, silently.
	maxIdent = 63
)

// table is the layout of one storable class: its SQL table, its row
// columns, its apart properties, and the statements built from them once.
type table struct {
	class *cim.Class
	ident string          // quoted table name
	cols  []*cim.Property // row columns, in class order
	apart []*cim.Property // stored apart, in class order
	large []*cim.Property // apart but not lazy: read with the row

	selectSQL string // SELECT … FROM … LEFT JOIN (large values); alias t; no parameters
	lockSQL   string // args: folded key; locks the row
	insertSQL string // args: key, cols…
	updateSQL string // args: key, cols…, folded key; returns _version
	deleteSQL string // args: folded key
	countSQL  string
}

// newTables lays out every storable class of reg. Outcomes: the tables by
// lower-case class name; an error of kind errs.Invalid when a class would
// take a reserved table name, a property a reserved column name, a name
// is longer than PostgreSQL keeps, or a property has a type with no
// column form.
func newTables(reg *cim.Registry) (map[string]*table, error) {
	tables := map[string]*table{}
	for _, c := range reg.Classes() {
		if !c.IsStorable() {
			continue
		}
		t, err := newTable(c)
		if err != nil {
			return nil, err
		}
		tables[strings.ToLower(c.Name)] = t
	}
	return tables, nil
}

func newTable(c *cim.Class) (*table, error) {
	if strings.HasPrefix(strings.ToLower(c.Name), reservedPrefix) {
		return nil, errs.Target(errs.Invalid, c.Name, "class %s: table names starting %q are reserved by the store", c.Name, reservedPrefix)
	}
	if len(c.Name) > maxIdent {
		return nil, errs.Target(errs.Invalid, c.Name, "class %s: a table name of more than %d bytes", c.Name, maxIdent)
	}
	t := &table{class: c, ident: quote(c.Name), cols: store.Columns(c), apart: store.ApartProperties(c)}
	for _, p := range c.Properties {
		if strings.EqualFold(p.Name, keyColumn) || strings.EqualFold(p.Name, versionColumn) {
			return nil, errs.Target(errs.Invalid, c.Name+"."+p.Name, "%s.%s: column name reserved by the store", c.Name, p.Name)
		}
		if len(p.Name) > maxIdent {
			return nil, errs.Target(errs.Invalid, c.Name+"."+p.Name, "%s.%s: a column name of more than %d bytes", c.Name, p.Name, maxIdent)
		}
	}
	for _, p := range t.cols {
		if _, err := columnType(p.Type); err != nil {
			return nil, errs.Target(errs.Invalid, c.Name+"."+p.Name, "%s.%s: %w", c.Name, p.Name, err)
		}
	}
	for _, p := range t.apart {
		if !p.IsLazy() {
			t.large = append(t.large, p)
		}
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
	sel = append(sel, "t."+keyColumn, "t."+versionColumn)
	n := 2 // $1 is the key
	for _, p := range t.cols {
		q := quote(p.Name)
		sel = append(sel, "t."+q)
		names = append(names, q)
		marks = append(marks, fmt.Sprintf("$%d", n))
		sets = append(sets, fmt.Sprintf("%s = $%d", q, n))
		n++
	}
	var joins []string
	for i, p := range t.large {
		a := fmt.Sprintf("l%d", i)
		sel = append(sel, a+".value")
		joins = append(joins, fmt.Sprintf(" LEFT JOIN tsprov_apart_values AS %[1]s ON %[1]s.class = %[2]s AND %[1]s.key = %[5]s(t.%[3]s) AND %[1]s.property = %[4]s",
			a, literal(fold(t.class.Name)), keyColumn, literal(fold(p.Name)), foldFunc))
	}
	t.selectSQL = "SELECT " + strings.Join(sel, ", ") + " FROM " + t.ident + " AS t" + strings.Join(joins, "")
	t.lockSQL = "SELECT 1 FROM " + t.ident + " WHERE " + foldFunc + "(" + keyColumn + ") = $1 FOR UPDATE"
	t.insertSQL = "INSERT INTO " + t.ident + " (" + strings.Join(append([]string{keyColumn, versionColumn}, names...), ", ") +
		") VALUES (" + strings.Join(append([]string{"$1", "1"}, marks...), ", ") + ") ON CONFLICT (" + foldFunc + "(" + keyColumn + ")) DO NOTHING"
	t.updateSQL = "UPDATE " + t.ident + " SET " + strings.Join(append([]string{keyColumn + " = $1", versionColumn + " = " + versionColumn + " + 1"}, sets...), ", ") +
		fmt.Sprintf(" WHERE %s(%s) = $%d RETURNING %s", foldFunc, keyColumn, n, versionColumn)
	t.deleteSQL = "DELETE FROM " + t.ident + " WHERE " + foldFunc + "(" + keyColumn + ") = $1"
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
	name := class + "_" + column + "_idx"
	if len(name) > maxIdent {
		h := fnv.New32a()
		h.Write([]byte(name))
		name = fmt.Sprintf("%s_%08x", name[:maxIdent-9], h.Sum32())
	}
	return quote(name)
}

// quote returns s as an SQL identifier.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// literal returns s as an SQL string constant (standard_conforming_strings
// is on in every supported PostgreSQL: a backslash is an ordinary
// character).
func literal(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// recorded is what tsprov_class_columns says about one property.
type recorded struct {
	cimType string
	apart   bool
}

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
		if len(seen[fold(t.class.Name)]) > 0 {
			existing = append(existing, t.ident)
		}
	}
	if err := syncFold(ctx, tx, existing); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		t := tables[name]
		rec := seen[fold(t.class.Name)]
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

func loadRecorded(ctx context.Context, tx pgx.Tx) (map[string]map[string]recorded, error) {
	rows, err := tx.Query(ctx, `SELECT class, property, cim_type, apart FROM tsprov_class_columns`)
	if err != nil {
		return nil, fmt.Errorf("read class layout: %w", err)
	}
	defer rows.Close()
	seen := map[string]map[string]recorded{}
	for rows.Next() {
		var class, prop string
		var r recorded
		if err := rows.Scan(&class, &prop, &r.cimType, &r.apart); err != nil {
			return nil, fmt.Errorf("read class layout: %w", err)
		}
		if seen[class] == nil {
			seen[class] = map[string]recorded{}
		}
		seen[class][prop] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read class layout: %w", err)
	}
	return seen, nil
}

func createTable(ctx context.Context, tx pgx.Tx, t *table) error {
	defs := []string{keyColumn + ` text COLLATE "C" NOT NULL`, versionColumn + " bigint NOT NULL"}
	for _, p := range t.cols {
		typ, _ := columnType(p.Type) // checked by newTable
		defs = append(defs, quote(p.Name)+" "+typ)
	}
	stmt := "CREATE TABLE " + t.ident + " (\n  " + strings.Join(defs, ",\n  ") + "\n)"
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("create table for class %s: %w", t.class.Name, err)
	}
	// keys compare without regard to case: one key a folded form
	stmt = "CREATE UNIQUE INDEX " + indexName(t.class.Name, keyColumn) + " ON " + t.ident + " (" + foldFunc + "(" + keyColumn + "))"
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("index the keys of class %s: %w", t.class.Name, err)
	}
	for _, p := range t.class.Properties {
		if err := record(ctx, tx, t.class, p); err != nil {
			return err
		}
	}
	return createIndex(ctx, tx, t)
}

func extendTable(ctx context.Context, tx pgx.Tx, t *table, rec map[string]recorded) error {
	c := t.class
	for _, p := range c.Properties {
		r, ok := rec[fold(p.Name)]
		if ok {
			if !strings.EqualFold(r.cimType, p.Type.String()) {
				return errs.Target(errs.Invalid, c.Name+"."+p.Name,
					"class %s property %s: the store holds it as %s, the schema now declares %s; a property's type cannot change",
					c.Name, p.Name, r.cimType, p.Type)
			}
			if r.apart != store.Apart(p) {
				return errs.Target(errs.Invalid, c.Name+"."+p.Name,
					"class %s property %s: the store holds it %s, the schema now makes it %s; adding or removing lazy or large on a stored property is not supported",
					c.Name, p.Name, placement(r.apart), placement(store.Apart(p)))
			}
			continue
		}
		if !store.Apart(p) {
			typ, _ := columnType(p.Type) // checked by newTable
			stmt := "ALTER TABLE " + t.ident + " ADD COLUMN " + quote(p.Name) + " " + typ
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

func placement(apart bool) string {
	if apart {
		return "apart (lazy or large)"
	}
	return "in the row"
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

// createIndex indexes the class's Name column and each column the schema
// marks Indexed, when they are in its row, in the form lists order by and
// filters compare (orderKey).
func createIndex(ctx context.Context, tx pgx.Tx, t *table) error {
	for _, p := range t.cols {
		if !store.Sortable(p) || !(p.IsIndexed() || strings.EqualFold(p.Name, indexedProperty)) {
			continue
		}
		stmt := "CREATE INDEX IF NOT EXISTS " + indexName(t.class.Name, p.Name) + " ON " + t.ident + " (" + orderKey(p, quote(p.Name)) + ")"
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("index %s.%s: %w", t.class.Name, p.Name, err)
		}
	}
	return nil
}
