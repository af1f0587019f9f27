// Package events answers WQL event queries over the change feed: which
// changes a subscription receives (Query), and their delivery as
// Server-Sent Events. It knows the feed through store.Event only and
// imports neither provider nor adminservice.
package events

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
)

// The instances an event query's condition names.
const (
	targetInstance   = "TargetInstance"
	previousInstance = "PreviousInstance"
)

// Query is a checked WQL event query. A Query is used by one subscriber
// at a time (Match sets the ISA nodes of its condition).
type Query struct {
	reg  *cim.Registry
	st   *query.EventStatement
	isas []*query.IsA
	// paths are the properties the condition tests, by the name Eval
	// reads them under ("TargetInstance.Name").
	paths map[string]path
}

// path is one property the condition tests: of which instance, and
// which property of the ISA class.
type path struct {
	previous bool
	property *cim.Property
}

// Parse parses and checks a WQL event query against the registry
// (query.ParseEventWQL for the grammar). A condition on properties names
// TargetInstance.<property> or PreviousInstance.<property> of the class
// that TargetInstance ISA '<class>' names. Outcomes: the query; an error
// of kind errs.Invalid naming what is wrong (an unknown class or
// property, a property without an ISA to say whose it is);
// errs.NotImplemented for what tsprov does not serve (aggregate events,
// ISA on anything but TargetInstance).
func Parse(reg *cim.Registry, src string) (*Query, error) {
	st, err := query.ParseEventWQL(src)
	if err != nil {
		return nil, err
	}
	q := &Query{reg: reg, st: st, paths: map[string]path{}}
	var of *cim.Class
	var bad error
	query.Walk(st.Where, func(e query.Expr) {
		x, ok := e.(*query.IsA)
		if !ok || bad != nil {
			return
		}
		if p, ok := x.X.(*query.Prop); !ok || !strings.EqualFold(p.Name, targetInstance) {
			bad = errs.E(errs.NotImplemented, "WQL: at position %d: ISA tests TargetInstance only", x.At+1)
			return
		}
		c, ok := reg.Class(x.Class)
		if !ok {
			bad = errs.Target(errs.Invalid, "query", "WQL: at position %d: no class %s", x.At+1, x.Class)
			return
		}
		x.Resolved = true
		q.isas = append(q.isas, x)
		if of == nil {
			of = c
		}
	})
	if bad != nil {
		return nil, bad
	}
	query.Walk(st.Where, func(e query.Expr) {
		x, ok := e.(*query.Prop)
		if !ok || bad != nil {
			return
		}
		bad = q.bind(x, of)
	})
	if bad != nil {
		return nil, bad
	}
	if err := query.DateTimeLiterals(st.Where); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "WQL")
	}
	return q, nil
}

// bind resolves a property path of the condition against class of.
func (q *Query) bind(x *query.Prop, of *cim.Class) error {
	inst, name, ok := strings.Cut(x.Name, ".")
	previous := strings.EqualFold(inst, previousInstance)
	if !ok || !previous && !strings.EqualFold(inst, targetInstance) || strings.Contains(name, ".") {
		return errs.Target(errs.Invalid, "query", "WQL: at position %d: %s: name TargetInstance.<property> or PreviousInstance.<property>", x.At+1, x.Name)
	}
	if of == nil {
		return errs.Target(errs.Invalid, "query", "WQL: at position %d: %s: say whose property it is with TargetInstance ISA '<class>'", x.At+1, x.Name)
	}
	p, ok := of.Property(name)
	if !ok {
		return errs.Target(errs.Invalid, "query", "WQL: at position %d: class %s has no property %s", x.At+1, of.Name, name)
	}
	key := targetInstance + "." + p.Name
	if previous {
		key = previousInstance + "." + p.Name
	}
	named := *p
	named.Name = key
	x.Property = &named
	q.paths[key] = path{previous: previous, property: p}
	return nil
}

// Within is the query's WITHIN interval in seconds (0: none). Events are
// pushed as they are committed, so it delays nothing.
func (q *Query) Within() float64 { return q.st.Within }

// Match reports whether ev is an event the query selects: of its event
// class (__InstanceOperationEvent: creation, modification and deletion),
// about an instance its ISA tests hold for, and whose values its
// condition holds for. Outcomes: the answer; an error of kind
// errs.Invalid when the event's values do not read back.
func (q *Query) Match(ev store.Event) (bool, error) {
	class := ev.Op.EventClass()
	switch q.st.EventClass {
	case class:
	case store.OperationEventClass:
		if ev.Op == store.Invoked {
			return false, nil
		}
	default:
		return false, nil
	}
	if q.st.Where == nil {
		return true, nil
	}
	c, ok := q.reg.Class(ev.Class)
	if !ok {
		return false, nil
	}
	for _, x := range q.isas {
		x.Holds = c.IsA(x.Class)
	}
	flat := &cim.Instance{Class: c, Values: map[string]any{}}
	if len(q.paths) > 0 {
		target, err := store.DecodeEventValues(q.reg, c, ev.Target)
		if err != nil {
			return false, err
		}
		previous, err := store.DecodeEventValues(q.reg, c, ev.Previous)
		if err != nil {
			return false, err
		}
		for key, p := range q.paths {
			from := target
			if p.previous {
				from = previous
			}
			if v, ok := from.Values[p.property.Name]; ok && c.IsA(p.property.Origin) {
				flat.Values[key] = v
			}
		}
	}
	return query.Eval(q.st.Where, flat)
}
