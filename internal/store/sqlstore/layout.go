package sqlstore

import (
	"fmt"

	"github.com/tsprov/tsprov/internal/cim"
)

// Recorded is what tsprov_class_columns says about one property: its CIM
// type's name and whether it is stored apart.
type Recorded struct {
	CIMType string
	Apart   bool
}

// RecordedColumns are the columns of tsprov_class_columns, in the order
// ScanRecorded reads them.
const RecordedColumns = "class, property, cim_type, apart"

// ScanRecorded reads rows of RecordedColumns; fold turns a stored class or
// property name into its map key (each backend's case rule). Outcomes:
// what is recorded by class, then by property; an error "read class
// layout: …" when a row does not scan.
func ScanRecorded(rows Rows, fold func(string) string) (map[string]map[string]Recorded, error) {
	seen := map[string]map[string]Recorded{}
	var class, prop string
	var r Recorded
	err := Each(rows, func() error {
		k := fold(class)
		if seen[k] == nil {
			seen[k] = map[string]Recorded{}
		}
		seen[k][fold(prop)] = r
		return nil
	}, &class, &prop, &r.CIMType, &r.Apart)
	if err != nil {
		return nil, fmt.Errorf("read class layout: %w", err)
	}
	return seen, nil
}

// Gained compares the properties of class c with rec, what the database
// recorded about them (keyed by fold of the property name), and returns
// those it holds nothing about: the properties the schema gained since.
// Outcomes: the gained properties in class order; CheckRecorded's error
// for the first recorded property whose type or placement changed.
func Gained(c *cim.Class, rec map[string]Recorded, fold func(string) string) ([]*cim.Property, error) {
	var gained []*cim.Property
	for _, p := range c.Properties {
		r, ok := rec[fold(p.Name)]
		if !ok {
			gained = append(gained, p)
			continue
		}
		if err := CheckRecorded(c, p, r.CIMType, r.Apart); err != nil {
			return nil, err
		}
	}
	return gained, nil
}
