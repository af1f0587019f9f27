package query

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// Split separates the top-level AND terms of a checked expression into
// those that only test properties the store can search (push, compiled
// to SQL) and the rest (evaluated in memory on each candidate). Either may
// be nil. An OR or NOT that mixes both kinds goes to the rest whole.
func Split(e Expr, searchable Searchable) (push, rest Expr) {
	var terms []Expr
	var flatten func(Expr)
	flatten = func(x Expr) {
		if l, ok := x.(*Logical); ok && l.And {
			flatten(l.Left)
			flatten(l.Right)
			return
		}
		terms = append(terms, x)
	}
	flatten(e)
	for _, t := range terms {
		if pushable(t, searchable) {
			push = and(push, t)
		} else {
			rest = and(rest, t)
		}
	}
	return push, rest
}

func and(a, b Expr) Expr {
	if a == nil {
		return b
	}
	return &Logical{At: a.Pos(), And: true, Left: a, Right: b}
}

// pushable reports whether every property e tests is searchable.
func pushable(e Expr, searchable Searchable) bool {
	ok := true
	walk(e, func(x Expr) {
		if p, isProp := x.(*Prop); isProp && p.Property != nil && !searchable(p.Property) {
			ok = false
		}
	})
	return ok
}

func walk(e Expr, fn func(Expr)) {
	fn(e)
	switch x := e.(type) {
	case *Compare:
		walk(x.Left, fn)
		walk(x.Right, fn)
	case *Logical:
		walk(x.Left, fn)
		walk(x.Right, fn)
	case *Not:
		walk(x.X, fn)
	case *Call:
		for _, a := range x.Args {
			walk(a, fn)
		}
	case *In:
		walk(x.X, fn)
		for _, a := range x.List {
			walk(a, fn)
		}
	case *Like:
		walk(x.X, fn)
	case *IsNull:
		walk(x.X, fn)
	}
}

// Eval evaluates a checked condition on an instance, with the semantics
// the SQL has: strings compare without regard to case, LIKE as MatchLike,
// and nulls as the nodes say (Nulls). A condition is true, false or
// unknown (nil), as in SQL: an instance is selected only when it is true.
func Eval(e Expr, in *cim.Instance) (bool, error) {
	v, err := eval(e, in)
	if err != nil {
		return false, err
	}
	b, _ := v.(bool)
	return b, nil
}

// eval returns a value; a condition is true, false, or nil for unknown.
func eval(e Expr, in *cim.Instance) (any, error) {
	switch x := e.(type) {
	case *Prop:
		return in.Values[x.Property.Name], nil
	case *Literal:
		return x.Value, nil
	case *Not:
		v, err := eval(x.X, in)
		if err != nil {
			return nil, err
		}
		if v == nil && x.Nulls == NullIsUnknown {
			return nil, nil
		}
		b, _ := v.(bool)
		return !b, nil
	case *Logical:
		return evalLogical(x, in)
	case *IsNull:
		v, err := eval(x.X, in)
		return v == nil, err
	case *Like:
		v, err := eval(x.X, in)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, nil
		}
		s, ok := v.(string)
		return ok && MatchLike(x.Pattern, s), nil
	case *In:
		v, err := eval(x.X, in)
		if err != nil {
			return false, err
		}
		if v == nil { // null in (…, null, …) holds; otherwise unknown, as SQL's IN
			for _, item := range x.List {
				if lit, ok := item.(*Literal); ok && lit.Value == nil {
					return true, nil
				}
			}
			return nil, nil
		}
		for _, item := range x.List {
			w, _ := eval(item, in)
			if c, ok := compareValues(v, w); ok && c == 0 {
				return true, nil
			}
		}
		return false, nil
	case *Compare:
		l, err := eval(x.Left, in)
		if err != nil {
			return nil, err
		}
		r, err := eval(x.Right, in)
		if err != nil {
			return nil, err
		}
		if l == nil || r == nil {
			switch {
			case x.Nulls == NullIsUnknown:
				return nil, nil
			case x.Op == Eq:
				return l == nil && r == nil, nil
			case x.Op == Ne:
				return !(l == nil && r == nil), nil
			}
			return nil, nil
		}
		c, ok := compareValues(l, r)
		if !ok {
			return false, nil
		}
		switch x.Op {
		case Eq:
			return c == 0, nil
		case Ne:
			return c != 0, nil
		case Lt:
			return c < 0, nil
		case Le:
			return c <= 0, nil
		case Gt:
			return c > 0, nil
		}
		return c >= 0, nil
	case *Call:
		return evalCall(x, in)
	case *IsA:
		return x.Holds, nil // decided by Check from the queried class
	}
	return nil, errs.E(errs.Internal, "query: cannot evaluate %T", e)
}

// evalLogical is Kleene's and/or over true, false and unknown (nil), as
// SQL's AND and OR: false and unknown is false, true or unknown is true.
func evalLogical(x *Logical, in *cim.Instance) (any, error) {
	l, err := eval(x.Left, in)
	if err != nil {
		return nil, err
	}
	if b, ok := l.(bool); ok && b != x.And {
		return b, nil // false and …, true or …
	}
	r, err := eval(x.Right, in)
	if err != nil {
		return nil, err
	}
	if b, ok := r.(bool); ok && b != x.And {
		return b, nil
	}
	if l == nil || r == nil {
		return nil, nil
	}
	return x.And, nil
}

func evalCall(x *Call, in *cim.Instance) (any, error) {
	args := make([]any, len(x.Args))
	for i, a := range x.Args {
		v, err := eval(a, in)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	s, _ := args[0].(string)
	for _, a := range args {
		if a == nil {
			return nil, nil // a function of null is null, as in SQL
		}
	}
	switch x.Name {
	case "contains", "startswith", "endswith":
		t, _ := args[1].(string)
		ls, lt := Fold(s), Fold(t)
		switch x.Name {
		case "contains":
			return strings.Contains(ls, lt), nil
		case "startswith":
			return strings.HasPrefix(ls, lt), nil
		}
		return strings.HasSuffix(ls, lt), nil
	case "tolower": // folded, as the stores' SQL gives it (Dialect.Lower)
		return Fold(s), nil
	case "toupper":
		return strings.ToUpper(s), nil
	case "length":
		return int64(len([]rune(s))), nil
	case "indexof":
		t, _ := args[1].(string)
		i := strings.Index(s, t)
		if i < 0 {
			return int64(-1), nil
		}
		return int64(len([]rune(s[:i]))), nil
	case "substring":
		r := []rune(s)
		from, _ := args[1].(int64)
		if from < 0 {
			from = 0
		}
		if int(from) > len(r) {
			return "", nil
		}
		r = r[from:]
		if len(args) == 3 {
			n, _ := args[2].(int64)
			if n < 0 {
				n = 0
			}
			if int(n) < len(r) {
				r = r[:n]
			}
		}
		return string(r), nil
	}
	return nil, errs.E(errs.Internal, "query: unknown function %s", x.Name)
}

// compareValues orders two non-null values of comparable kinds; strings
// without regard to case.
func compareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return CompareFold(x, y), true
	case int64:
		switch y := b.(type) {
		case int64:
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		case float64:
			return cmp3(float64(x), y), true
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return cmp3(x, float64(y)), true
		case float64:
			return cmp3(x, y), true
		}
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		if x == y {
			return 0, true
		}
		if !x {
			return -1, true
		}
		return 1, true
	case cim.DateTimeValue:
		y, ok := b.(cim.DateTimeValue)
		if !ok {
			return 0, false
		}
		return x.Time.Compare(y.Time), true
	}
	return 0, false
}

func cmp3(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
