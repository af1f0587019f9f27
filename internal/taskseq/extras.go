package taskseq

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// Variable is a name and value a task sequence sets without a property of
// the object model holding it.
type Variable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ExtraAttributes returns the attributes of a step's element that no
// property holds (successCodeList, startIn, retryCount, runFromNet, …), by
// name, as written. A generic step keeps them in its Attributes property;
// a typed step in its annotation. Attributes that a property holds (name,
// description, disable, continueOnError, runIn, timeout, type) are left
// out.
func ExtraAttributes(step *cim.Instance) map[string]string {
	out := map[string]string{}
	add := func(name, value string) {
		if !heldByProperty(name) {
			out[name] = value
		}
	}
	if step.Class.IsA(classGenericAction) {
		attrs, _ := step.Values["Attributes"].([]any)
		for _, a := range attrs {
			s, _ := a.(string)
			name, value, _ := strings.Cut(s, "=")
			add(name, value)
		}
		return out
	}
	r, err := getResidue(step)
	if err != nil {
		return out
	}
	for _, a := range r.Attrs {
		add(a[0], a[1])
	}
	return out
}

func heldByProperty(attr string) bool {
	if attr == "type" {
		return true
	}
	for _, a := range stepAttrs {
		if a.attr == attr {
			return true
		}
	}
	return false
}

// ListedVariables returns the variables an element lists without a
// property holding them, in document order: for the sequence, its
// <globalVarList>; for a generic step, its Variables; for a typed step,
// the <variable> elements of its defaultVarList that no property of its
// class binds. Secret values never appear here (the codec binds them).
func ListedVariables(in *cim.Instance) []Variable {
	var out []Variable
	if vars, ok := in.Values["Variables"].([]any); ok && in.Class.IsA(classGenericAction) {
		for _, x := range vars {
			if v, ok := x.(*cim.Instance); ok {
				out = append(out, Variable{Name: v.String("Name"), Value: v.String("Value")})
			}
		}
		return out
	}
	r, err := getResidue(in)
	if err != nil {
		return nil
	}
	for _, v := range r.Vars {
		if v.Bound != "" || v.Raw != "" || v.Value == nil {
			continue
		}
		name, ok := pairValue(v.Attrs, "name")
		if !ok {
			name, _ = pairValue(v.Attrs, "property")
		}
		out = append(out, Variable{Name: name, Value: *v.Value})
	}
	return out
}
