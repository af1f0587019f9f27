package sqlstore

import (
	"fmt"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
)

// PlanCase is a List (or, when Count, a Count with Opts.Filter) that an
// index must answer, for the plan tests of each SQL backend: every
// backend's query plan for the statement must read the index of Index (a
// property name; "" for the key column's own index) and, when Ordered,
// take its order from that index (no sort step).
type PlanCase struct {
	Name    string
	Opts    store.ListOptions
	Count   bool
	Index   string
	Ordered bool
}

// PlanCases returns the lists and counts of class c that an index
// answers, derived from the schema: for each row property Indexed names,
// an equality on it (as OData $filter and WQL compile it), an order by
// it, and the page after a position in that order (keyset paging); for a
// string property also prefix tests (startswith, with a prefix of plain
// letters and with one of letters that fold beyond ASCII, s and k; WQL
// LIKE 'x%'); the count of the equality and of the prefixes
// (/$count?$filter=…); and the page after a position in key order.
// Outcomes: the cases; an error when a filter does not check against c.
func PlanCases(c *cim.Class) ([]PlanCase, error) {
	var cases []PlanCase
	add := func(name string, e query.Expr, opts store.ListOptions, index string, ordered bool) error {
		if e != nil {
			if err := query.Check(e, c, store.Searchable); err != nil {
				return fmt.Errorf("plan case %s: %w", name, err)
			}
			opts.Filter = e
		}
		cases = append(cases, PlanCase{Name: name, Opts: opts, Index: index, Ordered: ordered})
		return nil
	}
	count := func(name string, e query.Expr, index string) error {
		if err := query.Check(e, c, store.Searchable); err != nil {
			return fmt.Errorf("plan case %s: %w", name, err)
		}
		cases = append(cases, PlanCase{Name: name, Opts: store.ListOptions{Filter: e}, Count: true, Index: index})
		return nil
	}
	type step struct {
		name    string
		e       query.Expr
		opts    store.ListOptions
		ordered bool
	}
	type counted struct {
		name string
		e    query.Expr
	}
	for _, p := range store.Columns(c) {
		if !Indexed(p) {
			continue
		}
		v, ok := sampleValue(p)
		if !ok {
			continue
		}
		prop := func() query.Expr { return &query.Prop{Name: p.Name} }
		eq := func(nulls query.Nulls) query.Expr {
			return &query.Compare{Op: query.Eq, Left: prop(), Right: &query.Literal{Value: v}, Nulls: nulls}
		}
		byP := []store.Order{{Property: p.Name}}
		after := &store.Position{Values: []any{v}, Key: "PS100001"}
		steps := []step{
			{fmt.Sprintf("$filter=%s eq %v", p.Name, v), eq(query.NullIsValue), store.ListOptions{}, true},
			{fmt.Sprintf("WQL WHERE %s = %v", p.Name, v), eq(query.NullIsUnknown), store.ListOptions{}, true},
			{"$orderby=" + p.Name, nil, store.ListOptions{OrderBy: byP}, true},
			{"$orderby=" + p.Name + " after a position", nil, store.ListOptions{OrderBy: byP, After: after}, true},
		}
		counts := []counted{{fmt.Sprintf("/$count?$filter=%s eq %v", p.Name, v), eq(query.NullIsValue)}}
		if p.Type.Kind == cim.String {
			starts := func(prefix string) query.Expr {
				return &query.Compare{Op: query.Eq, Left: &query.Call{Name: "startswith", Args: []query.Expr{prop(), &query.Literal{Value: prefix}}},
					Right: &query.Literal{Value: true}}
			}
			for _, prefix := range []string{"x", "Sk"} {
				name := "$filter=startswith(" + p.Name + ",'" + prefix + "') eq true"
				steps = append(steps, step{name, starts(prefix), store.ListOptions{}, false})
				counts = append(counts, counted{"/$count?" + name, starts(prefix)})
			}
			like := &query.Like{X: prop(), Pattern: "Sk%"}
			steps = append(steps, step{"WQL WHERE " + p.Name + " LIKE 'Sk%'", like, store.ListOptions{}, false})
		}
		for _, s := range steps {
			s.opts.Limit = 100
			if err := add(s.name, s.e, s.opts, p.Name, s.ordered); err != nil {
				return nil, err
			}
		}
		for _, s := range counts {
			if err := count(s.name, s.e, p.Name); err != nil {
				return nil, err
			}
		}
	}
	if err := add("by key after a position", nil, store.ListOptions{After: &store.Position{Key: "PS100001"}, Limit: 100}, "", true); err != nil {
		return nil, err
	}
	return cases, nil
}

// sampleValue is a value of p's type for a plan case: a string, an
// integer or a DateTime; false for other types.
func sampleValue(p *cim.Property) (any, bool) {
	switch {
	case p.Type.Kind == cim.String:
		return "x", true
	case p.Type.Kind.IsInteger():
		return int64(45), true
	case p.Type.Kind == cim.DateTime:
		d, err := cim.ParseDateTime("20240101000000.000000+000")
		return d, err == nil
	}
	return nil, false
}
