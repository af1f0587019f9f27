package query

import (
	"fmt"
	"math"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// kind is the type of an expression's value.
type kind int

const (
	kNull kind = iota
	kString
	kInt
	kFloat
	kBool
	kDateTime
)

var kindNames = [...]string{kNull: "null", kString: "a string", kInt: "an integer", kFloat: "a number", kBool: "a boolean", kDateTime: "a date-time"}

// Searchable reports whether a property can be used in a query that the
// store answers: a scalar stored in the class's row (lazy and large ones
// are stored apart). The store layout rule lives in package store; this is
// the same rule, given to Check by the caller.
type Searchable func(p *cim.Property) bool

// Check type-checks e against class c: every property exists and can be
// queried, operands compare like with like, and the whole is a condition.
// It resolves Prop.Property. Errors name the property or value and its
// position.
func Check(e Expr, c *cim.Class, searchable Searchable) error {
	k, err := check(e, c, searchable)
	if err != nil {
		return err
	}
	if k != kBool {
		return errAt(e.Pos(), "the filter is %s, not a condition", kindNames[k])
	}
	return nil
}

func errAt(pos int, format string, args ...any) error {
	return errs.Target(errs.Invalid, "$filter", "$filter: at position %d: %s", pos+1, fmt.Sprintf(format, args...))
}

func propKind(t cim.Type) (kind, bool) {
	if t.Array || t.Kind == cim.Object {
		return 0, false
	}
	switch {
	case t.Kind == cim.Boolean:
		return kBool, true
	case t.Kind.IsInteger():
		return kInt, true
	case t.Kind == cim.Real32 || t.Kind == cim.Real64:
		return kFloat, true
	case t.Kind == cim.String || t.Kind == cim.Char16:
		return kString, true
	case t.Kind == cim.DateTime:
		return kDateTime, true
	}
	return 0, false
}

func literalKind(v any) kind {
	switch v.(type) {
	case string:
		return kString
	case int64:
		return kInt
	case float64:
		return kFloat
	case bool:
		return kBool
	case cim.DateTimeValue:
		return kDateTime
	}
	return kNull
}

func check(e Expr, c *cim.Class, searchable Searchable) (kind, error) {
	switch x := e.(type) {
	case *Prop:
		p, ok := c.Property(x.Name)
		if !ok {
			return 0, errAt(x.At, "class %s has no property %s", c.Name, x.Name)
		}
		k, ok := propKind(p.Type)
		if !ok {
			return 0, errAt(x.At, "property %s is %v; only scalar properties can be queried", p.Name, p.Type)
		}
		if searchable != nil && !searchable(p) {
			return 0, errs.Target(errs.NotImplemented, p.Name, "$filter: at position %d: property %s is lazy; querying lazy properties is not supported yet", x.At+1, p.Name)
		}
		x.Property = p
		return k, nil
	case *Literal:
		if s, ok := x.Value.(string); ok {
			// the same constants on every store: PostgreSQL refuses what
			// CheckText refuses, SQLite would compare with it
			if err := cim.CheckText(s); err != nil {
				return 0, errAt(x.At, "%s", errs.Message(err))
			}
		}
		return literalKind(x.Value), nil
	case *Not:
		k, err := check(x.X, c, searchable)
		if err != nil {
			return 0, err
		}
		if k != kBool {
			return 0, errAt(x.At, "not needs a condition, not %s", kindNames[k])
		}
		return kBool, nil
	case *Logical:
		for _, side := range []Expr{x.Left, x.Right} {
			k, err := check(side, c, searchable)
			if err != nil {
				return 0, err
			}
			if k != kBool {
				return 0, errAt(side.Pos(), "and/or need conditions on both sides, not %s", kindNames[k])
			}
		}
		return kBool, nil
	case *Compare:
		lk, err := check(x.Left, c, searchable)
		if err != nil {
			return 0, err
		}
		rk, err := check(x.Right, c, searchable)
		if err != nil {
			return 0, err
		}
		if err := comparable(x, lk, rk); err != nil {
			return 0, err
		}
		return kBool, nil
	case *In:
		k, err := check(x.X, c, searchable)
		if err != nil {
			return 0, err
		}
		for _, v := range x.List {
			lit, ok := v.(*Literal)
			if !ok {
				return 0, errAt(v.Pos(), "an in list holds constants only")
			}
			lk, err := check(lit, c, searchable)
			if err != nil {
				return 0, err
			}
			if err := comparable(&Compare{At: v.Pos(), Op: Eq, Left: x.X, Right: lit}, k, lk); err != nil {
				return 0, err
			}
		}
		return kBool, nil
	case *IsNull:
		if _, err := check(x.X, c, searchable); err != nil {
			return 0, err
		}
		return kBool, nil
	case *Like:
		k, err := check(x.X, c, searchable)
		if err != nil {
			return 0, err
		}
		if k != kString {
			return 0, errAt(x.At, "LIKE needs a string, not %s", kindNames[k])
		}
		if _, err := planLike(x); err != nil { // like.go: NUL, size limits
			return 0, err
		}
		return kBool, nil
	case *Call:
		return checkCall(x, c, searchable)
	case *IsA:
		// Only "__CLASS ISA 'Name'" is supported. A query reads the
		// instances of one class (subclasses are stored apart), so the test
		// is the same for every row: Check decides it here (c.IsA, an
		// unknown name is false) and Compile writes a constant.
		if p, ok := x.X.(*Prop); ok && strings.EqualFold(p.Name, "__CLASS") {
			x.Resolved, x.Holds = true, c.IsA(x.Class)
			return kBool, nil
		}
		return 0, errs.Target(errs.NotImplemented, "ISA", "$filter: at position %d: ISA is not supported yet (only __CLASS ISA 'Class')", x.At+1)
	}
	return 0, errAt(e.Pos(), "unsupported expression")
}

func checkCall(x *Call, c *cim.Class, searchable Searchable) (kind, error) {
	kinds := make([]kind, len(x.Args))
	for i, a := range x.Args {
		k, err := check(a, c, searchable)
		if err != nil {
			return 0, err
		}
		kinds[i] = k
	}
	want := func(i int, k kind) error {
		if kinds[i] != k {
			return errAt(x.Args[i].Pos(), "%s needs %s as argument %d, not %s", x.Name, kindNames[k], i+1, kindNames[kinds[i]])
		}
		return nil
	}
	switch x.Name {
	case "contains", "startswith", "endswith":
		if err := want(0, kString); err != nil {
			return 0, err
		}
		// compiled to a LIKE pattern, which NUL would end (planLike); the
		// Literal case refuses a constant that holds one
		return kBool, want(1, kString)
	case "tolower", "toupper":
		return kString, want(0, kString)
	case "length":
		return kInt, want(0, kString)
	case "indexof":
		if err := want(0, kString); err != nil {
			return 0, err
		}
		return kInt, want(1, kString)
	case "substring":
		if err := want(0, kString); err != nil {
			return 0, err
		}
		for i := 1; i < len(kinds); i++ {
			if err := want(i, kInt); err != nil {
				return 0, err
			}
		}
		return kString, nil
	}
	return 0, errAt(x.At, "unknown function %s", x.Name)
}

// comparable checks the operand kinds of a comparison and turns literals
// into the property's kind where that is exact (a whole float for an
// integer, a date-time string for a DateTime).
func comparable(x *Compare, lk, rk kind) error {
	if lk == kNull || rk == kNull {
		if x.Op != Eq && x.Op != Ne {
			return errAt(x.At, "null can only be compared with eq or ne")
		}
		return nil
	}
	if lk == rk {
		if lk == kBool && x.Op != Eq && x.Op != Ne {
			return errAt(x.At, "booleans can only be compared with eq or ne")
		}
		return nil
	}
	num := func(k kind) bool { return k == kInt || k == kFloat }
	if num(lk) && num(rk) {
		for _, side := range []Expr{x.Left, x.Right} {
			if lit, ok := side.(*Literal); ok {
				if f, ok := lit.Value.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
					lit.Value = int64(f)
				}
			}
		}
		return nil
	}
	// a date-time written as a string
	for _, pair := range [][2]Expr{{x.Left, x.Right}, {x.Right, x.Left}} {
		if lit, ok := pair[1].(*Literal); ok {
			if s, ok := lit.Value.(string); ok && (lk == kDateTime || rk == kDateTime) {
				d, err := cim.ParseDateTime(s)
				if err != nil {
					return errAt(lit.At, "%q is not a date-time", s)
				}
				lit.Value = d
				return nil
			}
		}
	}
	return errAt(x.At, "cannot compare %s with %s", kindNames[lk], kindNames[rk])
}

// DateTimeLiterals turns each string constant that a comparison sets
// against a resolved DateTime property (Prop.Property set) into the
// date-time it writes, as Check does for a class's own properties: for
// conditions whose properties another checker resolved (event queries'
// TargetInstance.<property>). Errors name a string that is no date-time.
func DateTimeLiterals(e Expr) error {
	var bad error
	Walk(e, func(n Expr) {
		x, ok := n.(*Compare)
		if !ok || bad != nil {
			return
		}
		for _, pair := range [][2]Expr{{x.Left, x.Right}, {x.Right, x.Left}} {
			p, isProp := pair[0].(*Prop)
			lit, isLit := pair[1].(*Literal)
			if !isProp || !isLit || p.Property == nil || p.Property.Type.Kind != cim.DateTime || p.Property.Type.Array {
				continue
			}
			if s, ok := lit.Value.(string); ok {
				d, err := cim.ParseDateTime(s)
				if err != nil {
					bad = errs.Target(errs.Invalid, "query", "at position %d: %q is not a date-time", lit.At+1, s)
					return
				}
				lit.Value = d
			}
		}
	})
	return bad
}
