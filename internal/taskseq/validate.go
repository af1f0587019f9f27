package taskseq

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// MaxSequenceBytes is the largest Sequence ConfigMgr accepts (since 2010).
const MaxSequenceBytes = 2 << 20

// CheckSize is the one size rule for task sequence XML: n bytes of it,
// named what in the error, are refused with errs.TooLarge above
// MaxSequenceBytes. Every method that takes or returns sequence XML applies
// it, before parsing what it takes and before returning or storing what it
// writes.
func CheckSize(what string, n int) error {
	if n > MaxSequenceBytes {
		return errs.Target(errs.TooLarge, what, "%s is %d bytes of task sequence XML; task sequences above 2 MB (%d bytes) are refused, as ConfigMgr refuses them since version 2010", what, n, MaxSequenceBytes)
	}
	return nil
}

// Problem is one rule a task sequence breaks.
type Problem struct {
	Step     string // the step's position and name, e.g. `Steps[2].Steps[0] "Format Disk"`; "" for the sequence
	Property string // property path within the step, e.g. "Condition.Operands[0].Operator"
	Message  string
	// Warning marks a problem that does not stop the sequence from being
	// stored: a value an enabled step leaves out (Not_Null,
	// RequiredIfNull), as templates leave them for the editor to fill.
	Warning bool
}

// Errors returns the problems that are not warnings.
func Errors(problems []Problem) []Problem {
	var out []Problem
	for _, p := range problems {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

func (p Problem) String() string {
	where := p.Step
	if p.Property != "" {
		if where != "" {
			where += ": "
		}
		where += p.Property
	}
	if where == "" {
		return p.Message
	}
	return where + ": " + p.Message
}

// Validate checks a task sequence against the qualifiers of its classes,
// for every step, condition and embedded object, and returns every
// problem found, in document order:
//   - a value that breaks AllowedLen, ValueMap (case-insensitive, as the
//     engine compares), Range or max(N) is an error;
//   - a value that Not_Null or RequiredIfNull asks for and an enabled step
//     leaves out is a warning; a disabled step (or one in a disabled
//     group) is not held to them at all: ConfigMgr's own exports keep
//     disabled steps without their required values.
func Validate(ts *cim.Instance) []Problem {
	var out []Problem
	checkObject(ts, nil, nil, &out, checkMissing)
	var walk func(list []any, up *stepAt, missing missingRule)
	walk = func(list []any, up *stepAt, missing missingRule) {
		for i, s := range list {
			step, ok := s.(*cim.Instance)
			if !ok {
				continue
			}
			at := &stepAt{up: up, index: i, step: step}
			m := missing
			if !IsEnabled(step) {
				m = skipMissing
			}
			checkObject(step, at, nil, &out, m)
			children, _ := step.Values["Steps"].([]any)
			walk(children, at, m)
		}
	}
	steps, _ := ts.Values["Steps"].([]any)
	walk(steps, nil, checkMissing)
	return out
}

// missingRule says whether Not_Null and RequiredIfNull apply.
type missingRule bool

const (
	checkMissing missingRule = true
	skipMissing  missingRule = false
)

// stepAt is where a step stands: its index in the Steps of the step
// above (nil: the sequence's). Its label is made only for a problem.
type stepAt struct {
	up    *stepAt
	index int
	step  *cim.Instance
}

// label is Problem.Step of the step at at ("" for the sequence).
func (at *stepAt) label() string {
	if at == nil {
		return ""
	}
	var path []int
	for a := at; a != nil; a = a.up {
		path = append(path, a.index)
	}
	slices.Reverse(path)
	return stepLabel(at.step, path)
}

func stepLabel(step *cim.Instance, path []int) string {
	var b strings.Builder
	for i, n := range path {
		if i > 0 {
			b.WriteString(".")
		}
		fmt.Fprintf(&b, "Steps[%d]", n)
	}
	return fmt.Sprintf("%s %q", b.String(), step.String("Name"))
}

// objectAt is where an embedded object stands within its step: the
// property of the object above (nil: the step) that holds it, and its
// index when that property is an array (-1 when not).
type objectAt struct {
	up    *objectAt
	name  string
	index int
}

// path is the property path of the object at at ("" for the step).
func (at *objectAt) path() string {
	if at == nil {
		return ""
	}
	p := joinPath(at.up.path(), at.name)
	if at.index >= 0 {
		p = fmt.Sprintf("%s[%d]", p, at.index)
	}
	return p
}

// checkObject checks one instance's own values; embedded objects other
// than steps are checked recursively under prefix.
func checkObject(in *cim.Instance, step *stepAt, prefix *objectAt, out *[]Problem, missing missingRule) {
	add := func(prop, format string, args ...any) {
		*out = append(*out, Problem{Step: step.label(), Property: joinPath(prefix.path(), prop), Message: fmt.Sprintf(format, args...)})
	}
	warn := func(prop, format string, args ...any) {
		if missing == checkMissing {
			add(prop, format, args...)
			(*out)[len(*out)-1].Warning = true
		}
	}
	checkClassRules(in, add)
	for _, p := range in.Class.Properties {
		v := in.Values[p.Name]
		if p.Name == "Steps" {
			continue // steps are checked on their own
		}
		if v == nil || isEmptyString(v) {
			if p.Qualifiers.Has("Not_Null") && v == nil {
				warn(p.Name, "is required (Not_Null)")
			}
			if other := p.Qualifiers.String("RequiredIfNull"); other != "" {
				if ov, _ := in.Get(other); ov == nil || isEmptyString(ov) {
					warn(p.Name, "is required when %s is not set (RequiredIfNull)", other)
				}
			}
			if v == nil {
				continue
			}
		}
		if s, ok := v.(string); ok {
			if lo, hi, ok := allowedLen(p); ok {
				n := utf8.RuneCountInString(s)
				if n < lo || n > hi {
					add(p.Name, "is %d characters long; allowed: %d to %d (AllowedLen)", n, lo, hi)
				}
			}
		}
		if err := p.Check(v); err != nil {
			add(p.Name, "%s", strings.TrimPrefix(err.Error(), "property "+p.Name+": "))
		}
		switch x := v.(type) {
		case *cim.Instance:
			checkObject(x, step, &objectAt{up: prefix, name: p.Name, index: -1}, out, missing)
		case []any:
			for i, e := range x {
				if sub, ok := e.(*cim.Instance); ok && !sub.Class.IsA(classStep) {
					checkObject(sub, step, &objectAt{up: prefix, name: p.Name, index: i}, out, missing)
				}
			}
		}
	}
}

func isEmptyString(v any) bool {
	s, ok := v.(string)
	return ok && s == ""
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// allowedLen reads AllowedLen("lo-hi").
func allowedLen(p *cim.Property) (int, int, bool) {
	s := p.Qualifiers.String("AllowedLen")
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, false
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return lo, hi, true
}
