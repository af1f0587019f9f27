package query

import (
	"strconv"
	"strings"
)

// EventStatement is a parsed WQL event query (MS-WMI §2.2.1.2):
//
//	SELECT * | prop[, prop…] FROM EventClass [WITHIN interval] [WHERE condition]
//
// The condition is the AST that $filter and WQL data queries share; its
// properties are named by paths: TargetInstance.Name,
// PreviousInstance.Name, and TargetInstance alone as the operand of ISA
// (TargetInstance ISA 'SMS_TaskSequencePackage').
type EventStatement struct {
	// EventClass is one of the intrinsic event classes, as the schema
	// spells it (__InstanceOperationEvent matches the three instance
	// events).
	EventClass string
	// Within is the WITHIN interval in seconds, 0 when there is none.
	Within float64
	// Properties are the names of the SELECT list as written; nil for *.
	Properties []string
	// Where is the condition, nil when there is none.
	Where Expr
}

// EventClasses are the event classes an event query may name, in the
// spelling the answers use.
var EventClasses = []string{
	"__InstanceOperationEvent",
	"__InstanceCreationEvent",
	"__InstanceModificationEvent",
	"__InstanceDeletionEvent",
	"__MethodInvocationEvent",
}

// ParseEventWQL parses a WQL event query. WITHIN takes a positive number
// of seconds (fractions allowed); the condition's grammar is ParseWQL's,
// with property paths. Outcomes: the statement; an error of kind
// errs.NotImplemented naming the construct for valid WQL that tsprov does
// not serve (GROUP WITHIN … BY … HAVING, aggregate events; an event class
// other than EventClasses); errs.Invalid otherwise. Both say "WQL: at
// position N: …" with N the 1-based byte position.
func ParseEventWQL(src string) (*EventStatement, error) {
	p := &wqlParser{src: src, event: true}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return p.eventStatement()
}

func (p *wqlParser) eventStatement() (*EventStatement, error) {
	if !p.is("select") {
		return nil, wqlError(p.tok.pos, "expected SELECT, not %s", p.tok.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	st := &EventStatement{}
	if p.tok.kind == wStar {
		if err := p.advance(); err != nil {
			return nil, err
		}
	} else {
		st.Properties = []string{}
		for {
			t := p.tok
			if t.kind != wIdent || reserved[strings.ToLower(t.text)] {
				return nil, wqlError(t.pos, "expected * or a property name, not %s", t.describe())
			}
			st.Properties = append(st.Properties, t.text)
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != wComma {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	if !p.is("from") {
		return nil, wqlError(p.tok.pos, "expected FROM, not %s", p.tok.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	t := p.tok
	if t.kind != wIdent || reserved[strings.ToLower(t.text)] {
		return nil, wqlError(t.pos, "expected an event class, not %s", t.describe())
	}
	for _, c := range EventClasses {
		if strings.EqualFold(c, t.text) {
			st.EventClass = c
		}
	}
	if st.EventClass == "" {
		return nil, wqlUnsupported(t.pos, "the event class %s (tsprov raises %s)", t.text, strings.Join(EventClasses, ", "))
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.is("within") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		t := p.tok
		n, err := strconv.ParseFloat(t.text, 64)
		if t.kind != wNumber || err != nil || n <= 0 {
			return nil, wqlError(t.pos, "WITHIN takes a positive number of seconds, not %s", t.describe())
		}
		st.Within = n
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	where, err := p.where()
	if err != nil {
		return nil, err
	}
	st.Where = where
	t = p.tok
	switch {
	case t.kind == wEnd:
		return st, nil
	case p.is("group"):
		return nil, wqlUnsupported(t.pos, "GROUP WITHIN … BY … HAVING (aggregate events)")
	case p.is("having"):
		return nil, wqlUnsupported(t.pos, "HAVING (aggregate events)")
	case p.is("within"):
		return nil, wqlError(t.pos, "WITHIN comes before WHERE")
	}
	return nil, wqlError(t.pos, "unexpected %s", t.describe())
}

// Walk calls fn on e and on each node below it, parents first (the
// operand of an ISA is not visited); nothing for a nil e.
func Walk(e Expr, fn func(Expr)) {
	if e != nil {
		walk(e, fn)
	}
}
