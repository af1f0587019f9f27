package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

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
	// has one: the one that lists and queries most often order and filter by.
	indexedProperty = "Name"
)

// table is the layout of one storable class: its SQL table, its row
// columns, its apart properties, and the statements built from them once.
type table struct {
	class *cim.Class
	ident string          // quoted table name
	cols  []*cim.Property // row columns, in class order
	apart []*cim.Property // stored apart, in class order
	large []*cim.Property // apart but not lazy: read with the row

	trigram *cim.Property // the property with a substring index (trigram.go), or nil

	selectSQL  string // SELECT … FROM … LEFT JOIN (large values); alias t
	selectArgs []any  // the arguments of selectSQL's joins
	insertSQL  string // args: key, cols…
	updateSQL  string // args: key, cols…, key; returns _version
	deleteSQL  string // args: key
	countSQL   string
}

// newTables lays out every storable class of reg. Outcomes: the tables by
// lower-case class name; an error of kind errs.Invalid when a class would
// take a reserved table name, a property a reserved column name, or a
// property has a type with no column form.
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
	t := &table{class: c, ident: quote(c.Name), cols: store.Columns(c), apart: store.ApartProperties(c)}
	for _, p := range c.Properties {
		if strings.EqualFold(p.Name, keyColumn) || strings.EqualFold(p.Name, versionColumn) {
			return nil, errs.Target(errs.Invalid, c.Name+"."+p.Name, "%s.%s: column name reserved by the store", c.Name, p.Name)
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
	trigramProperty(t)
	t.buildSQL()
	return t, nil
}

// buildSQL prepares the statement texts. Every identifier comes from the
// registry and is quoted; every value is a bound parameter.
func (t *table) buildSQL() {
	var sel, names, marks, sets []string
	sel = append(sel, "t."+keyColumn, "t."+versionColumn)
	for _, p := range t.cols {
		q := quote(p.Name)
		sel = append(sel, "t."+q)
		names = append(names, q)
		marks = append(marks, "?")
		sets = append(sets, q+" = ?")
	}
	var joins []string
	for i, p := range t.large {
		a := fmt.Sprintf("l%d", i)
		sel = append(sel, a+".value")
		joins = append(joins, fmt.Sprintf(" LEFT JOIN tsprov_apart_values AS %[1]s ON %[1]s.class = ? AND %[1]s.key = t.%[2]s AND %[1]s.property = ?", a, keyColumn))
		t.selectArgs = append(t.selectArgs, t.class.Name, p.Name)
	}
	t.selectSQL = "SELECT " + strings.Join(sel, ", ") + " FROM " + t.ident + " AS t" + strings.Join(joins, "")
	t.insertSQL = "INSERT INTO " + t.ident + " (" + strings.Join(append([]string{keyColumn, versionColumn}, names...), ", ") +
		") VALUES (" + strings.Join(append([]string{"?", "1"}, marks...), ", ") + ") ON CONFLICT (" + keyColumn + ") DO NOTHING"
	t.updateSQL = "UPDATE " + t.ident + " SET " + strings.Join(append([]string{keyColumn + " = ?", versionColumn + " = " + versionColumn + " + 1"}, sets...), ", ") +
		" WHERE " + keyColumn + " = ? RETURNING " + versionColumn
	t.deleteSQL = "DELETE FROM " + t.ident + " WHERE " + keyColumn + " = ?"
	t.countSQL = "SELECT COUNT(*) FROM " + t.ident
}

// columnType returns the SQL type of a row column of type t: integers and
// booleans INTEGER, reals REAL, strings TEXT compared without regard to
// case, DateTime TEXT (store.DateTimeText), arrays and embedded objects
// TEXT holding JSON (store.EncodeJSON).
func columnType(t cim.Type) (string, error) {
	if t.Array || t.Kind == cim.Object {
		return "TEXT", nil
	}
	switch {
	case t.Kind == cim.Boolean || t.Kind.IsInteger():
		return "INTEGER", nil
	case t.Kind == cim.Real32 || t.Kind == cim.Real64:
		return "REAL", nil
	case t.Kind == cim.String || t.Kind == cim.Char16:
		return "TEXT COLLATE NOCASE", nil
	case t.Kind == cim.DateTime:
		return "TEXT", nil
	}
	return "", fmt.Errorf("type %v has no column form", t)
}

// quote returns s as an SQL identifier.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// recorded is what tsprov_class_columns says about one property.
type recorded struct {
	cimType string
	apart   bool
}

// syncLayout brings the class tables in line with the registry, within tx:
// it creates the table of a class seen for the first time, adds a column
// for a row property the schema gained (existing rows hold null there),
// records every property's type and placement, and indexes the Name
// column. It never drops a column or a table. Outcomes: nil; an error of
// kind errs.Invalid naming class and property when a recorded property's
// type or placement (row or apart) differs from the registry's; another
// error when a statement fails.
func syncLayout(ctx context.Context, tx *sql.Tx, tables map[string]*table) error {
	seen, err := loadRecorded(ctx, tx)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		t := tables[name]
		rec := seen[strings.ToLower(t.class.Name)]
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

func loadRecorded(ctx context.Context, tx *sql.Tx) (map[string]map[string]recorded, error) {
	rows, err := tx.QueryContext(ctx, `SELECT class, property, cim_type, apart FROM tsprov_class_columns`)
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
		k := strings.ToLower(class)
		if seen[k] == nil {
			seen[k] = map[string]recorded{}
		}
		seen[k][strings.ToLower(prop)] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read class layout: %w", err)
	}
	return seen, nil
}

func createTable(ctx context.Context, tx *sql.Tx, t *table) error {
	defs := []string{keyColumn + " TEXT NOT NULL COLLATE NOCASE PRIMARY KEY", versionColumn + " INTEGER NOT NULL"}
	for _, p := range t.cols {
		typ, _ := columnType(p.Type) // checked by newTable
		defs = append(defs, quote(p.Name)+" "+typ)
	}
	stmt := "CREATE TABLE " + t.ident + " (\n  " + strings.Join(defs, ",\n  ") + "\n)"
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("create table for class %s: %w", t.class.Name, err)
	}
	for _, p := range t.class.Properties {
		if err := record(ctx, tx, t.class, p); err != nil {
			return err
		}
	}
	if err := createIndex(ctx, tx, t); err != nil {
		return err
	}
	return createTrigram(ctx, tx, t)
}

func extendTable(ctx context.Context, tx *sql.Tx, t *table, rec map[string]recorded) error {
	c := t.class
	for _, p := range c.Properties {
		r, ok := rec[strings.ToLower(p.Name)]
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
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("add column for %s.%s: %w", c.Name, p.Name, err)
			}
		}
		if err := record(ctx, tx, c, p); err != nil {
			return err
		}
	}
	if err := createIndex(ctx, tx, t); err != nil {
		return err
	}
	return createTrigram(ctx, tx, t)
}

func placement(apart bool) string {
	if apart {
		return "apart (lazy or large)"
	}
	return "in the row"
}

func record(ctx context.Context, tx *sql.Tx, c *cim.Class, p *cim.Property) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO tsprov_class_columns (class, property, cim_type, apart) VALUES (?, ?, ?, ?)`,
		c.Name, p.Name, p.Type.String(), store.Apart(p))
	if err != nil {
		return fmt.Errorf("record layout of %s.%s: %w", c.Name, p.Name, err)
	}
	return nil
}

// createIndex indexes the class's Name column and each column the schema
// marks Indexed, when they are in its row.
func createIndex(ctx context.Context, tx *sql.Tx, t *table) error {
	for _, p := range t.cols {
		if !store.Sortable(p) || !(p.IsIndexed() || strings.EqualFold(p.Name, indexedProperty)) {
			continue
		}
		stmt := "CREATE INDEX IF NOT EXISTS " + quote(t.class.Name+"_"+p.Name+"_idx") + " ON " + t.ident + " (" + quote(p.Name) + ")"
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("index %s.%s: %w", t.class.Name, p.Name, err)
		}
	}
	return nil
}
