// Package sqlstore holds what the SQL backends of store (store/sqlite,
// store/postgres) do alike: the names the store reserves in a database,
// the checks of a class's layout against those names and against what a
// database recorded, the reading of result rows into records, events and
// counters, the column expressions of the query compiler, and the
// bookkeeping of Reads and Writes in flight. What differs between the
// databases (SQL text, placeholders, drivers, case folding, the writer's
// concurrency) stays in each backend.
package sqlstore

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// Names the store reserves.
const (
	KeyColumn      = "_key"
	VersionColumn  = "_version"
	ReservedPrefix = "tsprov_" // the fixed tables (migrations/) start so

	// IndexedProperty is the row property that gets an index where a class
	// has one (as do those the schema marks Indexed): the one that lists and
	// queries most often order and filter by.
	IndexedProperty = "Name"
)

// Quote returns s as an SQL identifier.
func Quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// CheckNames checks that class c can have a table: its name does not start
// with ReservedPrefix, no property is named KeyColumn or VersionColumn
// (without regard to case), and, when maxIdent is above 0, no name is
// longer than maxIdent bytes. Outcomes: nil; an error of kind errs.Invalid
// naming the class, or class and property.
func CheckNames(c *cim.Class, maxIdent int) error {
	if strings.HasPrefix(strings.ToLower(c.Name), ReservedPrefix) {
		return errs.Target(errs.Invalid, c.Name, "class %s: table names starting %q are reserved by the store", c.Name, ReservedPrefix)
	}
	if maxIdent > 0 && len(c.Name) > maxIdent {
		return errs.Target(errs.Invalid, c.Name, "class %s: a table name of more than %d bytes", c.Name, maxIdent)
	}
	for _, p := range c.Properties {
		if strings.EqualFold(p.Name, KeyColumn) || strings.EqualFold(p.Name, VersionColumn) {
			return errs.Target(errs.Invalid, c.Name+"."+p.Name, "%s.%s: column name reserved by the store", c.Name, p.Name)
		}
		if maxIdent > 0 && len(p.Name) > maxIdent {
			return errs.Target(errs.Invalid, c.Name+"."+p.Name, "%s.%s: a column name of more than %d bytes", c.Name, p.Name, maxIdent)
		}
	}
	return nil
}

// CheckColumns checks that every row column of l has a column form, as
// columnType (a backend's) tells. Outcomes: nil; an error of kind
// errs.Invalid naming class and property, wrapping columnType's error.
func CheckColumns(l *store.Layout, columnType func(cim.Type) (string, error)) error {
	for _, p := range l.Cols {
		if _, err := columnType(p.Type); err != nil {
			return errs.Target(errs.Invalid, l.Class.Name+"."+p.Name, "%s.%s: %w", l.Class.Name, p.Name, err)
		}
	}
	return nil
}

// Indexed reports whether row property p gets an index: it is
// store.Sortable and it is a key property, the schema marks it Indexed,
// or it is IndexedProperty. Each backend builds the index on the
// property's compared form (ColumnExpr) followed by the key column, so
// that an equality on the property answers in key order (a list's
// default order) and an order by the property is the index's order.
func Indexed(p *cim.Property) bool {
	return store.Sortable(p) && (p.IsKey() || p.IsIndexed() || strings.EqualFold(p.Name, IndexedProperty))
}

// IndexName is the name of the index of property prop of class (Indexed),
// before a backend shortens it to its identifier limit.
func IndexName(class, prop string) string { return class + "_" + prop + "_idx" }

// IndexColumns is how many columns the index of a property has: the
// property's and the key. Earlier versions indexed the property alone; a
// backend rebuilds an index of another width.
const IndexColumns = 2

// CheckRecorded compares what a database recorded about property p of
// class c (its CIM type's name and whether it is stored apart) with the
// registry. Outcomes: nil; an error of kind errs.Invalid naming class and
// property when the type or the placement differs.
func CheckRecorded(c *cim.Class, p *cim.Property, cimType string, apart bool) error {
	if !strings.EqualFold(cimType, p.Type.String()) {
		return errs.Target(errs.Invalid, c.Name+"."+p.Name,
			"class %s property %s: the store holds it as %s, the schema now declares %s; a property's type cannot change",
			c.Name, p.Name, cimType, p.Type)
	}
	if apart != store.Apart(p) {
		return errs.Target(errs.Invalid, c.Name+"."+p.Name,
			"class %s property %s: the store holds it %s, the schema now makes it %s; adding or removing lazy or large on a stored property is not supported",
			c.Name, p.Name, placement(apart), placement(store.Apart(p)))
	}
	return nil
}

func placement(apart bool) string {
	if apart {
		return "apart (lazy or large)"
	}
	return "in the row"
}

// Lookup returns the table of class c from tables (by lower-case class
// name); backend prefixes the messages ("sqlite", "postgres"). Outcomes:
// the table; an error of kind errs.Invalid when c is nil or is not a
// storable class of the registry the store was opened with.
func Lookup[T any](tables map[string]T, backend string, c *cim.Class) (T, error) {
	var zero T
	if c == nil {
		return zero, errs.E(errs.Invalid, "%s: no class given", backend)
	}
	t, ok := tables[strings.ToLower(c.Name)]
	if !ok {
		return zero, errs.Target(errs.Invalid, c.Name, "%s: class %s is not stored (abstract, embedded, keyless or unknown)", backend, c.Name)
	}
	return t, nil
}

// MustWrite guards the writing methods against a read transaction: op
// names the method, backend prefixes the message. Outcomes: nil when
// writable; an error of kind errs.Invalid otherwise.
func MustWrite(backend string, writable bool, op string) error {
	if !writable {
		return errs.E(errs.Invalid, "%s: %s in a read-only transaction", backend, op)
	}
	return nil
}

// Encode checks rec for an Insert, Update or Restore and encodes it
// (store.Layout.Encode): table (a backend's Lookup) finds its class's
// table, layout that table's store.Layout, column converts row values
// (a backend's form of store.ToColumn). Outcomes: the table and the row;
// an error of kind errs.Invalid when rec or its instance is missing (the
// message prefixed with backend); table's error; Encode's error.
func Encode[T any](backend string, rec *store.Record, table func(*cim.Class) (T, error), layout func(T) *store.Layout,
	column func(*cim.Class, *cim.Property, any) (any, error)) (T, store.Row, error) {
	var zero T
	if rec == nil || rec.Instance == nil {
		return zero, store.Row{}, errs.E(errs.Invalid, "%s: no instance given", backend)
	}
	t, err := table(rec.Instance.Class)
	if err != nil {
		return zero, store.Row{}, err
	}
	row, err := layout(t).Encode(rec.Instance, column)
	if err != nil {
		return zero, store.Row{}, err
	}
	return t, row, nil
}

// Tables lays out every storable class of reg with newTable (a backend's).
// Outcomes: the tables by lower-case class name; the first error newTable
// returns.
func Tables[T any](reg *cim.Registry, newTable func(*cim.Class) (T, error)) (map[string]T, error) {
	tables := map[string]T{}
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
