package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// table is the layout of one storable class (store.Layout): its SQL
// table and the statements built from it once.
type table struct {
	store.Layout
	ident string // quoted table name

	trigram *cim.Property // the property with a substring index (trigram.go), or nil

	selectSQL  string // SELECT … FROM … LEFT JOIN (large values); alias t
	selectArgs []any  // the arguments of selectSQL's joins
	insertSQL  string // args: key, version, cols…
	updateSQL  string // args: key, cols…, key; returns _version
	deleteSQL  string // args: key
	countSQL   string
}

// newTables lays out every storable class of reg. Outcomes: the tables by
// lower-case class name; an error of kind errs.Invalid when a class would
// take a reserved table name, a property a reserved column name, or a
// property has a type with no column form (sqlstore.CheckNames,
// sqlstore.CheckColumns).
func newTables(reg *cim.Registry) (map[string]*table, error) {
	return sqlstore.Tables(reg, newTable)
}

func newTable(c *cim.Class) (*table, error) {
	if err := sqlstore.CheckNames(c, 0); err != nil {
		return nil, err
	}
	t := &table{Layout: store.NewLayout(c), ident: sqlstore.Quote(c.Name)}
	if err := sqlstore.CheckColumns(&t.Layout, columnType); err != nil {
		return nil, err
	}
	trigramProperty(t)
	t.buildSQL()
	return t, nil
}

// buildSQL prepares the statement texts. Every identifier comes from the
// registry and is quoted; every value is a bound parameter.
func (t *table) buildSQL() {
	var sel, names, marks, sets []string
	sel = append(sel, "t."+sqlstore.KeyColumn, "t."+sqlstore.VersionColumn)
	for _, p := range t.Cols {
		q := sqlstore.Quote(p.Name)
		sel = append(sel, "t."+q)
		names = append(names, q)
		marks = append(marks, "?")
		sets = append(sets, q+" = ?")
	}
	var joins []string
	for i, p := range t.Large {
		a := fmt.Sprintf("l%d", i)
		sel = append(sel, a+".value")
		joins = append(joins, fmt.Sprintf(" LEFT JOIN tsprov_apart_values AS %[1]s ON %[1]s.class = ? AND %[1]s.key = t.%[2]s AND %[1]s.property = ?", a, sqlstore.KeyColumn))
		t.selectArgs = append(t.selectArgs, t.Class.Name, p.Name)
	}
	t.selectSQL = "SELECT " + strings.Join(sel, ", ") + " FROM " + t.ident + " AS t" + strings.Join(joins, "")
	t.insertSQL = "INSERT INTO " + t.ident + " (" + strings.Join(append([]string{sqlstore.KeyColumn, sqlstore.VersionColumn}, names...), ", ") +
		") VALUES (" + strings.Join(append([]string{"?", "?"}, marks...), ", ") + ") ON CONFLICT (" + sqlstore.KeyColumn + ") DO NOTHING"
	t.updateSQL = "UPDATE " + t.ident + " SET " + strings.Join(append([]string{sqlstore.KeyColumn + " = ?", sqlstore.VersionColumn + " = " + sqlstore.VersionColumn + " + 1"}, sets...), ", ") +
		" WHERE " + sqlstore.KeyColumn + " = ? RETURNING " + sqlstore.VersionColumn
	t.deleteSQL = "DELETE FROM " + t.ident + " WHERE " + sqlstore.KeyColumn + " = ?"
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
		rec := seen[strings.ToLower(t.Class.Name)]
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

func loadRecorded(ctx context.Context, tx *sql.Tx) (map[string]map[string]sqlstore.Recorded, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+sqlstore.RecordedColumns+` FROM tsprov_class_columns`)
	if err != nil {
		return nil, fmt.Errorf("read class layout: %w", err)
	}
	defer rows.Close()
	return sqlstore.ScanRecorded(rows, strings.ToLower)
}

func createTable(ctx context.Context, tx *sql.Tx, t *table) error {
	defs := []string{sqlstore.KeyColumn + " TEXT NOT NULL COLLATE NOCASE PRIMARY KEY", sqlstore.VersionColumn + " INTEGER NOT NULL"}
	for _, p := range t.Cols {
		typ, _ := columnType(p.Type) // checked by newTable
		defs = append(defs, sqlstore.Quote(p.Name)+" "+typ)
	}
	stmt := "CREATE TABLE " + t.ident + " (\n  " + strings.Join(defs, ",\n  ") + "\n)"
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("create table for class %s: %w", t.Class.Name, err)
	}
	for _, p := range t.Class.Properties {
		if err := record(ctx, tx, t.Class, p); err != nil {
			return err
		}
	}
	if err := createIndex(ctx, tx, t); err != nil {
		return err
	}
	return createTrigram(ctx, tx, t)
}

func extendTable(ctx context.Context, tx *sql.Tx, t *table, rec map[string]sqlstore.Recorded) error {
	c := t.Class
	gained, err := sqlstore.Gained(c, rec, strings.ToLower)
	if err != nil {
		return err
	}
	for _, p := range gained {
		if !store.Apart(p) {
			typ, _ := columnType(p.Type) // checked by newTable
			stmt := "ALTER TABLE " + t.ident + " ADD COLUMN " + sqlstore.Quote(p.Name) + " " + typ
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

func record(ctx context.Context, tx *sql.Tx, c *cim.Class, p *cim.Property) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO tsprov_class_columns (class, property, cim_type, apart) VALUES (?, ?, ?, ?)`,
		c.Name, p.Name, p.Type.String(), store.Apart(p))
	if err != nil {
		return fmt.Errorf("record layout of %s.%s: %w", c.Name, p.Name, err)
	}
	return nil
}

// createIndex builds the index of each row column sqlstore.Indexed
// names: on the column's compared form (sqlstore.ColumnExpr) and the key,
// so that an equality on it reads its rows in key order and an order by
// it is the index's order. An index of the name on the column alone,
// which earlier versions built, is built again.
func createIndex(ctx context.Context, tx *sql.Tx, t *table) error {
	for _, p := range t.Cols {
		if !sqlstore.Indexed(p) {
			continue
		}
		name := sqlstore.IndexName(t.Class.Name, p.Name)
		var width int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_index_info(?)`, name).Scan(&width); err != nil {
			return fmt.Errorf("read index %s: %w", name, err)
		}
		if width == sqlstore.IndexColumns {
			continue
		}
		stmts := []string{
			"DROP INDEX IF EXISTS " + sqlstore.Quote(name),
			"CREATE INDEX " + sqlstore.Quote(name) + " ON " + t.ident + " (" + sqlstore.ColumnExpr(p, "") + ", " + sqlstore.KeyColumn + ")",
		}
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("index %s.%s: %w", t.Class.Name, p.Name, err)
			}
		}
	}
	return nil
}
