package store

import (
	"github.com/tsprov/tsprov/internal/cim"
)

// Layout is the placement of one storable class's properties (the layout
// rule of the package doc): which go in its row and which are kept apart.
// Every backend builds its tables from it.
type Layout struct {
	Class *cim.Class
	Cols  []*cim.Property // row columns (Columns), in class order
	Apart []*cim.Property // stored apart (ApartProperties), in class order
	Large []*cim.Property // apart but not lazy: read with the row, in class order
}

// NewLayout returns the layout of class c. Outcomes: the layout (it never
// fails; whether each row column has a column form is the backend's
// question).
func NewLayout(c *cim.Class) Layout {
	l := Layout{Class: c, Cols: Columns(c), Apart: ApartProperties(c)}
	for _, p := range l.Apart {
		if !p.IsLazy() {
			l.Large = append(l.Large, p)
		}
	}
	return l
}

// Row is an instance in the form a backend writes it (Layout.Encode).
type Row struct {
	Key   string    // Instance.Key
	Cols  []any     // the row columns' values, in the order of Layout.Cols
	Apart []ApartOp // the changes to the apart values the instance holds
}

// Encode checks in, an instance of l's class (CheckInstance), and encodes
// it: its row columns with column (a backend's form of ToColumn), absent
// ones as null, and the apart values it holds as ApartOps (a value a
// set, nil an erase, an absent property none). Nothing is written, so
// an error leaves a transaction as it was. Outcomes: the row; an error of
// kind errs.Invalid naming the property when CheckInstance refuses in or
// a value is of the wrong Go type; column's error.
func (l *Layout) Encode(in *cim.Instance, column func(c *cim.Class, p *cim.Property, v any) (any, error)) (Row, error) {
	if err := CheckInstance(l.Class, in); err != nil {
		return Row{}, err
	}
	cols, err := l.rowValues(in, column)
	if err != nil {
		return Row{}, err
	}
	apart, err := l.apartOps(in)
	if err != nil {
		return Row{}, err
	}
	return Row{Key: in.Key(), Cols: cols, Apart: apart}, nil
}

// rowValues converts the row columns of in, absent ones as null, with
// column. Outcomes: the column values in the order of l.Cols; the first
// error column returns.
func (l *Layout) rowValues(in *cim.Instance, column func(c *cim.Class, p *cim.Property, v any) (any, error)) ([]any, error) {
	args := make([]any, len(l.Cols))
	for i, p := range l.Cols {
		v, err := column(l.Class, p, in.Values[p.Name])
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return args, nil
}

// ApartOp is one change to a value stored apart: set it to JSON, or, when
// Erase is true, remove it.
type ApartOp struct {
	Prop  *cim.Property
	JSON  string
	Erase bool
}

// apartOps encodes the apart properties present in in.Values: a value
// becomes a set, nil an erase; an absent property gives no op (Update
// keeps its stored value). Outcomes: the ops in class order; an error of
// kind errs.Invalid naming the property when a value is of the wrong Go
// type (ToJSON).
func (l *Layout) apartOps(in *cim.Instance) ([]ApartOp, error) {
	var ops []ApartOp
	for _, p := range l.Apart {
		v, ok := in.Values[p.Name]
		if !ok {
			continue
		}
		if v == nil {
			ops = append(ops, ApartOp{Prop: p, Erase: true})
			continue
		}
		text, err := ToJSON(l.Class, p, v)
		if err != nil {
			return nil, err
		}
		ops = append(ops, ApartOp{Prop: p, JSON: text})
	}
	return ops, nil
}

// Sets returns the ops of ops that set a value.
func Sets(ops []ApartOp) []ApartOp {
	var out []ApartOp
	for _, op := range ops {
		if !op.Erase {
			out = append(out, op)
		}
	}
	return out
}
