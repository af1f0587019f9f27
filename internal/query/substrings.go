package query

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// Substring is a text that a property must contain.
type Substring struct {
	Text string // folded (see Fold)
	// Anchored: the text must also start the value (equality,
	// startswith, a LIKE pattern's leading characters), a test an
	// ordered index can answer.
	Anchored bool
}

// RequiredSubstrings returns texts that property p of every instance for
// which the checked expression e holds must contain, without regard to
// case, so that a store can narrow the candidates with an index before it
// tests e itself. It looks at e and at the operands of its top-level
// "and"s: contains, startswith and endswith of p with a constant, a LIKE
// on p (each run of plain characters of the pattern), and p equal to a
// constant. The result may be empty; it never holds a text that a
// matching instance could lack.
func RequiredSubstrings(e Expr, p *cim.Property) []Substring {
	var out []Substring
	add := func(text string, anchored bool) {
		if text != "" {
			out = append(out, Substring{Text: Fold(text), Anchored: anchored})
		}
	}
	var walk func(e Expr)
	walk = func(e Expr) {
		switch x := e.(type) {
		case *Logical:
			if x.And {
				walk(x.Left)
				walk(x.Right)
			}
		case *Call:
			if isBoolCall(x) && isProp(x.Args[0], p) {
				if lit, ok := x.Args[1].(*Literal); ok {
					if s, ok := lit.Value.(string); ok {
						add(s, x.Name == "startswith")
					}
				}
			}
		case *Compare:
			if x.Op != Eq {
				return
			}
			for _, pair := range [][2]Expr{{x.Left, x.Right}, {x.Right, x.Left}} {
				lit, ok := pair[1].(*Literal)
				if !ok {
					continue
				}
				if call, ok := pair[0].(*Call); ok && lit.Value == true {
					walk(call) // f(p, 'x') eq true
				}
				if s, ok := lit.Value.(string); ok && isProp(pair[0], p) {
					add(s, true)
				}
			}
		case *Like:
			if isProp(x.X, p) {
				items := parseLike(x.Pattern)
				for i, run := range likeRuns(items) {
					add(run, i == 0 && len(items) > 0 && items[0].kind == likeLit)
				}
			}
		}
	}
	walk(e)
	return out
}

// likeRuns returns the runs of plain characters of a LIKE pattern.
func likeRuns(items []likeItem) []string {
	var runs []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			runs = append(runs, b.String())
			b.Reset()
		}
	}
	for _, it := range items {
		if it.kind == likeLit {
			b.WriteRune(it.r)
			continue
		}
		flush()
	}
	flush()
	return runs
}

func isProp(e Expr, p *cim.Property) bool {
	x, ok := e.(*Prop)
	return ok && x.Property == p
}
