package sqlstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// Rows is the part of a driver's result rows (database/sql's *sql.Rows,
// pgx's Rows) that reading them needs. The caller closes them.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Each scans every row of rows into dest and calls fn after each.
// Outcomes: nil; the first error of Scan, fn or rows.Err, as is.
func Each(rows Rows, fn func() error, dest ...any) error {
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := fn(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ScanRecords reads the rows of a select of l's class that gives, in
// order, the key, the version, the row columns (l.Cols) and the large
// values' JSON text or null (l.Large). column converts a row column's
// value as the driver reads it (a backend's form of store.FromColumn).
// Outcomes: the records and their stored keys (possibly none); an error
// "read <class>: …" when a row does not scan; column's or
// store.FromJSON's error when a stored value does not read back.
func ScanRecords(rows Rows, reg *cim.Registry, l *store.Layout, column func(c *cim.Class, p *cim.Property, v any) (any, error)) ([]*store.Record, []string, error) {
	var recs []*store.Record
	var keys []string
	n := 2 + len(l.Cols) + len(l.Large)
	raw := make([]any, n)
	dest := make([]any, n)
	for i := range raw {
		dest[i] = &raw[i]
	}
	for rows.Next() {
		clear(raw)
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", l.Class.Name, err)
		}
		key, _ := raw[0].(string)
		version, _ := raw[1].(int64)
		in := cim.NewInstanceSize(l.Class, len(l.Class.Properties)) // the row, then its lazy values
		for i, p := range l.Cols {
			v, err := column(l.Class, p, raw[2+i])
			if err != nil {
				return nil, nil, err
			}
			in.Values[p.Name] = v
		}
		for i, p := range l.Large {
			var v any
			if text, ok := raw[2+len(l.Cols)+i].(string); ok {
				var err error
				if v, err = store.FromJSON(reg, l.Class, p, text); err != nil {
					return nil, nil, err
				}
			}
			in.Values[p.Name] = v
		}
		recs = append(recs, &store.Record{Instance: in, Version: version})
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", l.Class.Name, err)
	}
	return recs, keys, nil
}

// EventColumns are the columns of tsprov_events, in the order ScanEvents
// reads them.
const EventColumns = "seq, at, op, class, key, version, method, target, previous"

// LastEventQuery reads the position of the feed's last event (0: none).
const LastEventQuery = "SELECT COALESCE(MAX(seq), 0) FROM tsprov_events"

// ScanEvents reads rows of EventColumns (at in Unix microseconds).
// Outcomes: the events (possibly none); an error "read events: …" when a
// row does not scan.
func ScanEvents(rows Rows) ([]store.Event, error) {
	var evs []store.Event
	var e store.Event
	var at int64
	var op string
	var target, previous *string
	err := Each(rows, func() error {
		e.Time, e.Op = time.UnixMicro(at).UTC(), store.EventOp(op)
		e.Target, e.Previous = rawJSON(target), rawJSON(previous)
		evs = append(evs, e)
		return nil
	}, &e.Seq, &at, &op, &e.Class, &e.Key, &e.Version, &e.Method, &target, &previous)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return evs, nil
}

// rawJSON is the JSON text of a nullable text column (nil for NULL).
func rawJSON(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

// EventText is the text column value of event values (nil: NULL).
func EventText(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	return string(raw)
}

// ScanCounters reads rows of (name, value) of tsprov_counters. Outcomes:
// the values by name (empty, not nil, when there are none); an error
// "read counters: …" when a row does not scan.
func ScanCounters(rows Rows) (map[string]int64, error) {
	out := map[string]int64{}
	var name string
	var v int64
	if err := Each(rows, func() error { out[name] = v; return nil }, &name, &v); err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	return out, nil
}

// Columns maps properties to the columns of a class table aliased t, for
// query.Compile.
type Columns struct{}

// Column: a DateTime compares by its first store.DateTimeKeyLen
// characters, without the unknown-zone mark (store.DateTimeText).
func (Columns) Column(p *cim.Property) string { return ColumnExpr(p, "t.") }

// ColumnExpr is the SQL expression of property p's column that
// comparisons, orders and indexes read, the column's name prefixed with
// qualifier ("t." or ""): a DateTime its first store.DateTimeKeyLen
// characters (its instant, without the unknown-zone mark), any other
// property its column.
func ColumnExpr(p *cim.Property, qualifier string) string {
	if p.Type.Kind == cim.DateTime && !p.Type.Array {
		return "substr(" + qualifier + Quote(p.Name) + ", 1, " + strconv.Itoa(store.DateTimeKeyLen) + ")"
	}
	return qualifier + Quote(p.Name)
}

// Value converts a constant to the column's form: a DateTime to the part
// of its store.DateTimeText that comparisons read; any other constant
// compares as itself.
func (Columns) Value(p *cim.Property, v any) any {
	if d, ok := v.(cim.DateTimeValue); ok && p.Type.Kind == cim.DateTime && !p.Type.Array {
		return store.DateTimeText(d)[:store.DateTimeKeyLen]
	}
	return v
}

// ScanApart sets every apart property of in (l.Apart) from rows of
// (property, value JSON text) that hold the stored apart values of the
// instance whose stored key is key, nil where none is stored; fold turns
// a property name into the form the rows hold it in (each backend's case
// rule). Stored values of properties the schema no longer declares are
// ignored. Outcomes: nil; an error "read apart values of <class> <key>: …"
// when a row does not scan; store.FromJSON's error when a value does not
// read back.
func ScanApart(rows Rows, reg *cim.Registry, l *store.Layout, key string, in *cim.Instance, fold func(string) string) error {
	fill := apartFiller(reg, l, fold, in)
	for rows.Next() {
		var name, text string
		if err := rows.Scan(&name, &text); err != nil {
			return fmt.Errorf("read apart values of %s %q: %w", l.Class.Name, key, err)
		}
		if err := fill(in, name, text); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read apart values of %s %q: %w", l.Class.Name, key, err)
	}
	return nil
}

// ScanApartPage does what ScanApart does for several instances at once:
// rows of (stored key, property, value JSON text) hold the stored apart
// values of the instances of byKey, which holds them by their stored keys
// folded with foldKey; rows of other keys are ignored. Outcomes: nil; an
// error "read apart values of <class>: …" when a row does not scan;
// store.FromJSON's error when a value does not read back.
func ScanApartPage(rows Rows, reg *cim.Registry, l *store.Layout, byKey map[string]*cim.Instance, foldKey, fold func(string) string) error {
	ins := make([]*cim.Instance, 0, len(byKey))
	for _, in := range byKey {
		ins = append(ins, in)
	}
	fill := apartFiller(reg, l, fold, ins...)
	for rows.Next() {
		var key, name, text string
		if err := rows.Scan(&key, &name, &text); err != nil {
			return fmt.Errorf("read apart values of %s: %w", l.Class.Name, err)
		}
		if in, ok := byKey[foldKey(key)]; ok {
			if err := fill(in, name, text); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read apart values of %s: %w", l.Class.Name, err)
	}
	return nil
}

// apartFiller sets every apart property of ins to nil and returns the
// function that sets one of them from a stored value: the property's name
// as stored (folded with fold to find it; a name the schema no longer
// declares is ignored) and its JSON text. Its outcomes: nil;
// store.FromJSON's error.
func apartFiller(reg *cim.Registry, l *store.Layout, fold func(string) string, ins ...*cim.Instance) func(in *cim.Instance, name, text string) error {
	byName := make(map[string]*cim.Property, len(l.Apart))
	for _, p := range l.Apart {
		byName[fold(p.Name)] = p
		for _, in := range ins {
			in.Values[p.Name] = nil
		}
	}
	return func(in *cim.Instance, name, text string) error {
		p, ok := byName[fold(name)]
		if !ok {
			return nil
		}
		v, err := store.FromJSON(reg, l.Class, p, text)
		if err != nil {
			return err
		}
		in.Values[p.Name] = v
		return nil
	}
}
