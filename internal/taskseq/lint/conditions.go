package lint

import (
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
)

// atom is one variable test that must hold for a step to run.
type atom struct {
	variable string // as written
	op       string // equals, notEquals, exists, notExists (lower case)
	value    string
	from     string // where it comes from: "the step" or the group
}

func (a atom) String() string {
	if a.op == "exists" || a.op == "notexists" {
		return fmt.Sprintf("%s %s (%s)", a.variable, opName(a.op), a.from)
	}
	return fmt.Sprintf("%s %s %q (%s)", a.variable, opName(a.op), a.value, a.from)
}

func opName(op string) string {
	switch op {
	case "notequals":
		return "notEquals"
	case "notexists":
		return "notExists"
	}
	return op
}

// musts collects the variable tests a condition's operands require, as an
// implicit and: top-level operands, and operators, and not over a single
// variable test. Or operators decide nothing alone and are left out.
func musts(ops []any, negate bool, from string, out *[]atom) {
	for _, o := range ops {
		in, ok := o.(*cim.Instance)
		if !ok {
			continue
		}
		switch {
		case in.Class.IsA("SMS_TaskSequence_ConditionOperator"):
			sub, _ := in.Values["Operands"].([]any)
			switch t := strings.ToLower(in.String("OperatorType")); {
			case t == "and" && !negate, t == "or" && negate:
				musts(sub, negate, from, out) // not (a or b) = not a and not b
			case t == "not" && len(sub) == 1:
				musts(sub, !negate, from, out)
			}
		case in.Class.IsA("SMS_TaskSequence_VariableConditionExpression"):
			a := atom{variable: in.String("Variable"), op: strings.ToLower(in.String("Operator")), value: in.String("Value"), from: from}
			if negate {
				switch a.op {
				case "equals":
					a.op = "notequals"
				case "notequals":
					a.op = "equals"
				case "exists":
					a.op = "notexists"
				case "notexists":
					a.op = "exists"
				default:
					continue
				}
			}
			*out = append(*out, a)
		}
	}
}

// conflict says why two tests of one variable cannot both hold, or "".
func conflict(a, b atom) bool {
	if a.op > b.op {
		a, b = b, a
	}
	switch {
	case a.op == "equals" && b.op == "equals":
		return !strings.EqualFold(a.value, b.value)
	case a.op == "equals" && b.op == "notequals":
		return strings.EqualFold(a.value, b.value)
	case a.op == "exists" && b.op == "notexists":
		return true
	case a.op == "equals" && b.op == "notexists":
		return a.value != ""
	}
	return false
}

func checkContradictions(l *linter) {
	r := rule("contradictory-condition")
	reported := map[*step]bool{}
	for _, s := range l.steps {
		if !s.enabled {
			continue
		}
		// a group whose own tests conflict is reported once, not for each
		// of its steps
		if p := s.parent; p != nil && reported[p] {
			reported[s] = true
			continue
		}
		var atoms []atom
		for p := s; p != nil; p = p.parent {
			c, ok := p.in.Values["Condition"].(*cim.Instance)
			if !ok {
				continue
			}
			from := "its own condition"
			if p != s {
				from = fmt.Sprintf("group %s %q", p.path, p.name)
			}
			ops, _ := c.Values["Operands"].([]any)
			var own []atom
			musts(ops, false, from, &own)
			for _, a := range own {
				// a group's test holds when the group starts; a step
				// between it and s may change the variable
				if p == s || !l.mayChange(a.variable, p, s) {
					atoms = append(atoms, a)
				}
			}
		}
		for i := 0; i < len(atoms) && !reported[s]; i++ {
			for j := i + 1; j < len(atoms); j++ {
				a, b := atoms[i], atoms[j]
				if !strings.EqualFold(a.variable, b.variable) || !conflict(a, b) {
					continue
				}
				l.report(r, s, "it can never run: %s and %s cannot both hold", b, a)
				reported[s] = true
				break
			}
		}
	}
}

// stepConditions returns every condition a step holds: its own and those
// of its Set Dynamic Variables rules, each with a label.
func stepConditions(s *step) []labelled {
	var out []labelled
	if c, ok := s.in.Values["Condition"].(*cim.Instance); ok {
		out = append(out, labelled{"Condition", c})
	}
	rules, _ := s.in.Values["Rules"].([]any)
	for i, r := range rules {
		if ri, ok := r.(*cim.Instance); ok {
			if c, ok := ri.Values["Condition"].(*cim.Instance); ok {
				out = append(out, labelled{fmt.Sprintf("Rules[%d].Condition", i), c})
			}
		}
	}
	return out
}

type labelled struct {
	label string
	cond  *cim.Instance
}

// eachExpression calls fn for every expression under ops.
func eachExpression(ops []any, fn func(*cim.Instance)) {
	for _, o := range ops {
		in, ok := o.(*cim.Instance)
		if !ok {
			continue
		}
		if sub, ok := in.Values["Operands"].([]any); ok {
			eachExpression(sub, fn)
			continue
		}
		fn(in)
	}
}

func checkWQL(l *linter) {
	r := rule("invalid-wql")
	for _, s := range l.steps {
		for _, lc := range stepConditions(s) {
			ops, _ := lc.cond.Values["Operands"].([]any)
			eachExpression(ops, func(e *cim.Instance) {
				if !e.Class.IsA("SMS_TaskSequence_WMIConditionExpression") {
					return
				}
				q := e.String("Query")
				_, err := query.ParseWQL(q)
				if err == nil || errs.Is(err, errs.NotImplemented) {
					return // valid WQL that tsprov does not evaluate is not a mistake
				}
				l.report(r, s, "%s: the WMI query %q does not parse: %s", lc.label, q, errs.Message(err))
			})
		}
	}
}

// mayChange reports whether a step that runs after group g starts and
// before s may change variable v: one that sets it, or one that runs a
// command line or script (which may set any variable through the task
// sequence environment).
func (l *linter) mayChange(v string, g, s *step) bool {
	for _, t := range l.steps[g.index+1 : s.index] {
		if !t.enabled || t.isGroup() {
			continue
		}
		if runsCode(t) {
			return true
		}
		for _, n := range sets(t) {
			if strings.EqualFold(n, v) {
				return true
			}
		}
	}
	return false
}

// runsCode reports a step that runs a command line or script of the
// author's: Run Command Line, Run PowerShell Script, and steps no class
// describes.
func runsCode(s *step) bool {
	c := s.in.Class
	return c.IsA("SMS_TaskSequence_RunCommandLineAction") || c.IsA("SMS_TaskSequence_RunPowerShellScriptAction") ||
		c.IsA("TSPROV_GenericAction") || strings.HasPrefix(c.Name, "BDD_")
}
