package query

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// Dialect is what differs between the SQL of the stores.
type Dialect interface {
	// Placeholder is the n-th (1-based) parameter marker.
	Placeholder(n int) string
	// FoldCompare compares two string expressions without regard to case,
	// as the provider's database collation does.
	FoldCompare(left, op, right string) string
	// FoldLike matches a LIKE pattern without regard to case; the pattern
	// escapes with a backslash.
	FoldLike(expr, pattern string) string
	// Bool is a boolean as a query parameter.
	Bool(b bool) any
	// Instr is the 1-based place of the first sub in the string s, 0 when
	// s holds none (SQLite's instr).
	Instr(s, sub string) string
	// Lower is the string s folded as Fold folds it (tolower, and text
	// compared without regard to case by position).
	Lower(s string) string
	// Upper is the string s in upper case, as strings.ToUpper gives it
	// (toupper).
	Upper(s string) string
}

// Columns maps properties to SQL.
type Columns interface {
	// Column is the SQL expression that holds the property.
	Column(p *cim.Property) string
	// Value turns a constant into what the property's column stores.
	Value(p *cim.Property, v any) any
}

// Compile turns a checked expression into a SQL condition with
// parameters. No value ever becomes SQL text.
func Compile(e Expr, d Dialect, cols Columns) (string, []any, error) {
	c := &compiler{d: d, cols: cols}
	s, err := c.cond(e)
	if err != nil {
		return "", nil, err
	}
	return s, c.args, nil
}

type compiler struct {
	d    Dialect
	cols Columns
	args []any
}

func (c *compiler) param(v any) string {
	c.args = append(c.args, v)
	return c.d.Placeholder(len(c.args))
}

var sqlOps = [...]string{Eq: "=", Ne: "<>", Lt: "<", Le: "<=", Gt: ">", Ge: ">="}

// cond compiles a boolean-valued expression.
func (c *compiler) cond(e Expr) (string, error) {
	switch x := e.(type) {
	case *Logical:
		l, err := c.cond(x.Left)
		if err != nil {
			return "", err
		}
		r, err := c.cond(x.Right)
		if err != nil {
			return "", err
		}
		op := " OR "
		if x.And {
			op = " AND "
		}
		return "(" + l + op + r + ")", nil
	case *Not:
		s, err := c.cond(x.X)
		if err != nil {
			return "", err
		}
		if x.Nulls == NullIsUnknown {
			return "(NOT " + s + ")", nil // NOT unknown stays unknown
		}
		return "(NOT COALESCE(" + s + ", FALSE))", nil
	case *Prop: // a boolean property
		return "(" + c.cols.Column(x.Property) + " = " + c.param(c.d.Bool(true)) + ")", nil
	case *Literal:
		b, _ := x.Value.(bool)
		if b {
			return "(1 = 1)", nil
		}
		return "(1 = 0)", nil
	case *IsNull:
		v, err := c.value(x.X, nil)
		if err != nil {
			return "", err
		}
		return "(" + v + " IS NULL)", nil
	case *In:
		v, err := c.value(x.X, nil)
		if err != nil {
			return "", err
		}
		prop := propOf(x.X)
		var items []string
		orNull := ""
		for _, it := range x.List {
			if lit, ok := it.(*Literal); ok && lit.Value == nil {
				orNull = " OR " + v + " IS NULL"
				continue
			}
			s, err := c.value(it, prop)
			if err != nil {
				return "", err
			}
			items = append(items, s)
		}
		if len(items) == 0 {
			return "(1 = 0" + orNull + ")", nil
		}
		if _, column := x.X.(*Prop); !column {
			// v may hold parameters (substring(Name, 1)): it is written
			// once, as positional placeholders (SQLite's ?) need.
			in := v + " IN (" + strings.Join(items, ", ") + ")"
			if isString(x.X) {
				folded := make([]string, len(items))
				for i, it := range items {
					folded[i] = c.d.Lower(it)
				}
				in = c.d.Lower(v) + " IN (" + strings.Join(folded, ", ") + ")"
			}
			if orNull != "" {
				return "((" + in + ") IS NOT FALSE)", nil // null in (…) is null
			}
			return "(" + in + ")", nil
		}
		if isString(x.X) {
			var ors []string
			for _, it := range items {
				ors = append(ors, c.d.FoldCompare(v, "=", it))
			}
			return "(" + strings.Join(ors, " OR ") + orNull + ")", nil
		}
		return "(" + v + " IN (" + strings.Join(items, ", ") + ")" + orNull + ")", nil
	case *Like:
		return c.like(x) // like.go
	case *IsA: // decided by Check: only __CLASS ISA 'Class' passes it
		if !x.Resolved {
			return "", errs.E(errs.Internal, "query: ISA not resolved by Check")
		}
		return c.cond(&Literal{At: x.At, Value: x.Holds})
	case *Call:
		return c.boolCall(x)
	case *Compare:
		return c.compare(x)
	}
	return "", errs.E(errs.Internal, "query: cannot compile %T", e)
}

func (c *compiler) compare(x *Compare) (string, error) {
	// f(...) eq true / false
	for _, pair := range [][2]Expr{{x.Left, x.Right}, {x.Right, x.Left}} {
		if call, ok := pair[0].(*Call); ok && isBoolCall(call) {
			if lit, ok := pair[1].(*Literal); ok {
				if b, ok := lit.Value.(bool); ok {
					s, err := c.boolCall(call)
					if err != nil {
						return "", err
					}
					if x.Nulls == NullIsUnknown { // null stays unknown
						if (x.Op == Eq) == b {
							return s, nil
						}
						return "(NOT " + s + ")", nil
					}
					// f(…) is null when its string is: null eq true/false is
					// false, null ne true/false is true (OData)
					switch {
					case x.Op == Eq && b:
						return s, nil
					case x.Op == Eq:
						return "(NOT " + s + ")", nil
					case b:
						return "(NOT COALESCE(" + s + ", FALSE))", nil
					}
					return "(COALESCE(" + s + ", TRUE))", nil
				}
			}
		}
	}
	// comparisons with null
	for _, pair := range [][2]Expr{{x.Left, x.Right}, {x.Right, x.Left}} {
		if lit, ok := pair[1].(*Literal); ok && lit.Value == nil {
			if x.Nulls == NullIsUnknown {
				return "(CAST(NULL AS BOOLEAN))", nil // unknown, whatever the other side
			}
			v, err := c.value(pair[0], nil)
			if err != nil {
				return "", err
			}
			if x.Op == Eq {
				return "(" + v + " IS NULL)", nil
			}
			return "(" + v + " IS NOT NULL)", nil
		}
	}
	lp, rp := propOf(x.Left), propOf(x.Right)
	l, err := c.value(x.Left, rp)
	if err != nil {
		return "", err
	}
	r, err := c.value(x.Right, lp)
	if err != nil {
		return "", err
	}
	var s string
	if isString(x.Left) || isString(x.Right) {
		s = c.d.FoldCompare(l, sqlOps[x.Op], r)
	} else {
		s = l + " " + sqlOps[x.Op] + " " + r
	}
	if x.Nulls == NullIsUnknown {
		return "(" + s + ")", nil // SQL's own rule: a null operand makes it unknown
	}
	// OData's nulls: null eq null holds, and null ne a value holds. Only
	// columns are tested for null (a function of a column is null when the
	// column is): they hold no parameter that would have to repeat.
	ln, rn := c.nullTest(x.Left), c.nullTest(x.Right)
	switch {
	case x.Op == Eq && ln != "" && rn != "":
		s += " OR (" + ln + " AND " + rn + ")"
	case x.Op == Ne && ln != "" && rn != "":
		s = "(" + s + " OR " + ln + " OR " + rn + ") AND NOT (" + ln + " AND " + rn + ")"
	case x.Op == Ne && ln != "":
		s += " OR " + ln
	case x.Op == Ne && rn != "":
		s += " OR " + rn
	}
	return "(" + s + ")", nil
}

// nullTest is "<column> IS NULL" for an operand that is null exactly when
// a column is: the column itself, or a string function of it; "" when
// there is no such column.
func (c *compiler) nullTest(e Expr) string {
	switch x := e.(type) {
	case *Prop:
		return c.cols.Column(x.Property) + " IS NULL"
	case *Call:
		if len(x.Args) > 0 && x.Name != "contains" && x.Name != "startswith" && x.Name != "endswith" {
			return c.nullTest(x.Args[0])
		}
	}
	return ""
}

func isBoolCall(x *Call) bool {
	return x.Name == "contains" || x.Name == "startswith" || x.Name == "endswith"
}

func (c *compiler) boolCall(x *Call) (string, error) {
	a, err := c.value(x.Args[0], nil)
	if err != nil {
		return "", err
	}
	if lit, ok := x.Args[1].(*Literal); ok {
		s, _ := lit.Value.(string)
		pat, prefix := escapeLike(s), ""
		switch x.Name {
		case "contains":
			pat = "%" + pat + "%"
		case "startswith":
			pat, prefix = pat+"%", s
		case "endswith":
			pat = "%" + pat
		}
		_, column := x.Args[0].(*Prop)
		return "(" + c.foldLike(a, pat, prefix, column) + ")", nil
	}
	b, err := c.value(x.Args[1], nil)
	if err != nil {
		return "", err
	}
	// b is written once: with positional placeholders (SQLite's ?) a
	// second copy of an operand that holds a parameter would want one more
	// argument. startswith and endswith are a LIKE of the folded text
	// against b folded and escaped.
	switch x.Name {
	case "contains":
		return "(" + c.d.Instr(c.d.Lower(a), c.d.Lower(b)) + " > 0)", nil
	case "startswith":
		return "(" + c.d.FoldLike(c.d.Lower(a), likeEscapeSQL(c.d.Lower(b))+` || '%'`) + ")", nil
	}
	return "(" + c.d.FoldLike(c.d.Lower(a), `'%' || `+likeEscapeSQL(c.d.Lower(b))) + ")", nil
}

// likeEscapeSQL is the SQL that escapes the LIKE wildcards of the string
// expression e, as escapeLike does for a constant.
func likeEscapeSQL(e string) string {
	return `replace(replace(replace(` + e + `, '\', '\\'), '%', '\%'), '_', '\_')`
}

// escapeLike escapes the LIKE wildcards of a constant.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// value compiles a value-valued expression; peer is the property on the
// other side of a comparison, whose column form a constant takes.
func (c *compiler) value(e Expr, peer *cim.Property) (string, error) {
	switch x := e.(type) {
	case *Prop:
		return c.cols.Column(x.Property), nil
	case *Literal:
		v := x.Value
		if b, ok := v.(bool); ok {
			return c.param(c.d.Bool(b)), nil
		}
		if peer != nil {
			v = c.cols.Value(peer, v)
		}
		return c.param(v), nil
	case *Call:
		args := make([]string, len(x.Args))
		for i, a := range x.Args {
			s, err := c.value(a, nil)
			if err != nil {
				return "", err
			}
			args[i] = s
		}
		switch x.Name {
		case "tolower":
			return c.d.Lower(args[0]), nil
		case "toupper":
			return c.d.Upper(args[0]), nil
		case "length":
			return "length(" + args[0] + ")", nil
		case "indexof":
			return "(" + c.d.Instr(args[0], args[1]) + " - 1)", nil
		case "substring":
			if len(args) == 3 {
				return "substr(" + args[0] + ", " + args[1] + " + 1, " + args[2] + ")", nil
			}
			return "substr(" + args[0] + ", " + args[1] + " + 1)", nil
		}
	}
	return "", errs.E(errs.Internal, "query: %T is not a value", e)
}

func propOf(e Expr) *cim.Property {
	if p, ok := e.(*Prop); ok {
		return p.Property
	}
	return nil
}

// isString reports whether an operand is string-valued.
func isString(e Expr) bool {
	switch x := e.(type) {
	case *Prop:
		k, _ := propKind(x.Property.Type)
		return k == kString
	case *Literal:
		_, ok := x.Value.(string)
		return ok
	case *Call:
		return x.Name == "tolower" || x.Name == "toupper" || x.Name == "substring"
	}
	return false
}
