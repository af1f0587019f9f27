package taskseq

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// A step of a type that no class describes is a TSPROV_GenericAction.
// Its properties hold the step's XML itself, so that it is written back
// whole even from JSON that lacks the @tsprov.xml annotation:
//
//	Action      the <action> text
//	Attributes  every attribute, "name=value", in document order
//	Children    the order of the children; an unknown child as its XML
//	Variables   the <variable> elements (TSPROV_GenericVariable)
//
// The annotation keeps only layout that no property holds (the
// defaultVarList's attributes, non-variable elements among the variables).

// The child markers of Children, as the residue names them.
var genericMarkers = map[string]bool{"condition": true, "action": true, "defaultVarList": true}

// genericVariable is a <variable> of a generic step.
func (c *Codec) genericVariable(el *Element, text string) *cim.Instance {
	v := cim.NewInstance(c.class(classGenericVar))
	name, _ := el.Attr("name")
	v.Set("Name", name)
	v.Set("Value", text)
	if prop, ok := el.Attr("property"); ok {
		v.Set("Property", prop)
	}
	if hidden, ok := el.Attr("hidden"); ok {
		if b, err := parseText(cim.Type{Kind: cim.Boolean}, hidden); err == nil {
			v.Set("Hidden", b)
		}
	}
	return v
}

// genericVariableAttrs are the attributes of a generic step's variable:
// those read (attrs) with name, property and hidden taken from v. A plain
// SMS_TaskSequence_Variable has property equal to its name.
func genericVariableAttrs(attrs [][2]string, v *cim.Instance) [][2]string {
	if attrs == nil {
		attrs = [][2]string{{"name", ""}, {"property", ""}}
	}
	attrs = setPair(attrs, "name", v.String("Name"))
	if !v.Class.IsA(classGenericVar) {
		if _, ok := pairValue(attrs, "property"); ok {
			attrs = setPair(attrs, "property", v.String("Name"))
		}
		return attrs
	}
	if prop, ok := v.Values["Property"].(string); ok {
		attrs = setPair(attrs, "property", prop)
	} else {
		attrs = removePair(attrs, "property")
	}
	if hidden, ok := v.Values["Hidden"].(bool); ok {
		attrs = setPair(attrs, "hidden", boolText(hidden))
	} else {
		attrs = removePair(attrs, "hidden")
	}
	return attrs
}

// moveToGeneric moves what the residue of a generic step holds into the
// step's properties: the attributes, the order of the children with the
// unknown ones, the action text.
func (r *residue) moveToGeneric(in *cim.Instance) {
	attrs := []any{}
	for _, a := range r.Attrs {
		attrs = append(attrs, a[0]+"="+a[1])
	}
	in.Set("Attributes", attrs)
	children := []any{}
	other := r.Other
	for _, m := range r.Children {
		if m == "other" && len(other) > 0 {
			children = append(children, other[0])
			other = other[1:]
			continue
		}
		children = append(children, m)
	}
	in.Set("Children", children)
	if r.Action != nil {
		in.Set("Action", *r.Action)
	}
	r.Attrs, r.Children, r.Other, r.Action = nil, nil, nil, nil
}

// genericLayout is the residue a generic step is written with: the one
// read, with the attributes, children and action taken from the step's
// properties where they are set. read reports whether the step's layout
// is known (from the properties or the annotation), as opposed to a step
// built without XML.
func genericLayout(in *cim.Instance, r *residue) (*residue, bool) {
	out := *r
	read := hasResidue(in)
	if attrs, ok := in.Values["Attributes"].([]any); ok {
		read = true
		out.Attrs = [][2]string{}
		for _, a := range attrs {
			s, _ := a.(string)
			name, value, _ := strings.Cut(s, "=")
			if name != "" {
				out.Attrs = append(out.Attrs, [2]string{name, value})
			}
		}
	}
	if children, ok := in.Values["Children"].([]any); ok {
		read = true
		out.Children, out.Other = []string{}, nil
		for _, ch := range children {
			s, _ := ch.(string)
			if genericMarkers[s] {
				out.Children = append(out.Children, s)
				continue
			}
			out.Children = append(out.Children, "other")
			out.Other = append(out.Other, s)
		}
	}
	if action, ok := in.Values["Action"].(string); ok {
		out.Action = &action
	}
	if !hasResidue(in) {
		// built through JSON: what the properties leave unsaid is written
		// as ConfigMgr writes a new step
		if out.Attrs == nil {
			out.Attrs = defaultStepAttrs(in.Class, "step")
		}
		if out.Children == nil {
			out.Children = []string{"condition", "action", "defaultVarList"}
		}
	}
	return &out, read
}
