// Package query is the one query language of tsprov: an AST that OData
// $filter and WQL parse into, type-checked against the class
// registry and compiled to parameterised SQL for each store dialect.
package query

import (
	"github.com/tsprov/tsprov/internal/cim"
)

// Expr is a node of a query expression.
type Expr interface {
	// Pos is the byte offset in the source where the node starts.
	Pos() int
}

// Op is a comparison operator.
type Op int

const (
	Eq Op = iota
	Ne
	Lt
	Le
	Gt
	Ge
)

var opNames = [...]string{Eq: "eq", Ne: "ne", Lt: "lt", Le: "le", Gt: "gt", Ge: "ge"}

func (o Op) String() string { return opNames[o] }

// Nulls is how a comparison, and a not over a condition, treat null: the
// one place where WQL and OData differ in meaning. Each parser says which
// rule its nodes follow; Compile and Eval obey the node.
type Nulls int

const (
	// NullIsValue is OData's rule (MS-ODATA lifted operators): eq and ne
	// treat null as a value (null eq null holds, null ne 'x' holds), and
	// not turns a condition that is not true into true.
	NullIsValue Nulls = iota
	// NullIsUnknown is SQL's three-valued logic, which WQL has because
	// ConfigMgr runs WQL on SQL: a comparison with a null operand, = and
	// <> included, is unknown; NOT of unknown is unknown; and a row is
	// selected only when its condition is true. So Language <> 'English'
	// and NOT (Language = 'English') both leave out a null Language.
	NullIsUnknown
)

// Compare compares two operands.
type Compare struct {
	At          int
	Op          Op
	Left, Right Expr
	Nulls       Nulls
}

// Logical is "and" or "or".
type Logical struct {
	At          int
	And         bool
	Left, Right Expr
}

// Not negates.
type Not struct {
	At    int
	X     Expr
	Nulls Nulls
}

// Prop is a property of the queried class.
type Prop struct {
	At   int
	Name string
	// Property is set by Check.
	Property *cim.Property
}

// Literal is a constant: string, int64, float64, bool, nil or
// cim.DateTimeValue.
type Literal struct {
	At    int
	Value any
}

// Call is a function call: contains, startswith, endswith, tolower,
// toupper, length, indexof, substring.
type Call struct {
	At   int
	Name string
	Args []Expr
}

// In tests membership in a list of literals.
type In struct {
	At   int
	X    Expr
	List []Expr
}

// Like matches a WQL LIKE pattern (%, _, [abc], [a-f], [^a]).
type Like struct {
	At      int
	X       Expr
	Pattern string
}

// IsNull tests for null.
type IsNull struct {
	At int
	X  Expr
}

func (e *Compare) Pos() int { return e.At }
func (e *Logical) Pos() int { return e.At }
func (e *Not) Pos() int     { return e.At }
func (e *Prop) Pos() int    { return e.At }
func (e *Literal) Pos() int { return e.At }
func (e *Call) Pos() int    { return e.At }
func (e *In) Pos() int      { return e.At }
func (e *Like) Pos() int    { return e.At }
func (e *IsNull) Pos() int  { return e.At }
