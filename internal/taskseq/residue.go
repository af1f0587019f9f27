package taskseq

import (
	"encoding/json"
	"fmt"

	"github.com/tsprov/tsprov/internal/cim"
)

// residueKey is the instance annotation that carries what the XML held
// beyond the documented properties (attributes, child order, the action
// command line, variable names, unknown elements), so that an object read
// from XML is written back without loss, also after a trip through JSON.
const residueKey = "@tsprov.xml"

// residue is the content of the annotation for one element.
type residue struct {
	// Element is the element name when it is not the one the class implies.
	Element string `json:"element,omitempty"`
	// Attrs are the element's attributes in document order, raw. Those that
	// hold a property are rewritten from it on output unless the raw text
	// still means the property's value.
	Attrs [][2]string `json:"attrs,omitempty"`
	// Children is the order of the element's children: "condition",
	// "action", "defaultVarList", "step", "operand", "platformKey",
	// "referenceList", "globalVarList", "variable" or "other".
	Children []string `json:"children,omitempty"`
	// Action is the text of <action> (the command line).
	Action *string `json:"action,omitempty"`
	// Derived is the command line the class's template gave the step's
	// arguments when it was read, kept only when it differs from Action:
	// while the arguments still give it, Action is written unchanged.
	Derived *string `json:"derived,omitempty"`
	// ActionBound names the property that holds the <action> text when no
	// variable holds it (MDT writes a command line step's command only
	// there).
	ActionBound string `json:"actionBound,omitempty"`
	// Vars are the <variable> elements of defaultVarList (of a step),
	// globalVarList (of the sequence) or of an expression, in order.
	Vars []resVar `json:"vars,omitempty"`
	// VarListAttrs are the attributes of <defaultVarList>/<globalVarList>.
	VarListAttrs [][2]string `json:"varListAttrs,omitempty"`
	// Other holds unknown children as XML, in the order "other" markers
	// name them.
	Other []string `json:"other,omitempty"`
	// PlatformKey holds the attributes of an osExpressionGroup's
	// <platformKey>.
	PlatformKey [][2]string `json:"platformKey,omitempty"`
	// References holds the <referenceList> entries as read.
	References [][][2]string `json:"references,omitempty"`
	// PackageType is the Type of the package a sequence was exported
	// with (an Export-CMTaskSequence object.xml), on the sequence only.
	PackageType string `json:"packageType,omitempty"`
}

// resVar is one <variable>.
type resVar struct {
	Attrs [][2]string `json:"attrs"`
	// Bound is the property path the value belongs to ("CommandLine",
	// "AppInfo[0].Name", "Variables[3]"); empty when no property holds it.
	Bound string `json:"bound,omitempty"`
	// Value is the raw text: always for an unbound variable; for a bound
	// one only when it differs from how tsprov writes the property's value
	// (and never for a Secret or QuasiSecret property).
	Value *string `json:"value,omitempty"`
	// Raw is a non-<variable> element found among the variables, as XML.
	Raw string `json:"raw,omitempty"`
}

func attrsOf(e *Element) [][2]string {
	if len(e.Attrs) == 0 {
		return nil
	}
	out := make([][2]string, len(e.Attrs))
	for i, a := range e.Attrs {
		out[i] = [2]string{a.Name, a.Value}
	}
	return out
}

func toAttrs(pairs [][2]string) []Attr {
	out := make([]Attr, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, Attr{Name: p[0], Value: p[1]})
	}
	return out
}

func pairValue(pairs [][2]string, name string) (string, bool) {
	for _, p := range pairs {
		if p[0] == name {
			return p[1], true
		}
	}
	return "", false
}

// setResidue stores r on the instance. The annotation holds the struct
// itself (encoding/json writes it when the instance goes out as JSON); r
// must not change afterwards.
func setResidue(in *cim.Instance, r *residue) error {
	if in.Annotations == nil {
		in.Annotations = make(map[string]any, 1)
	}
	in.Annotations[residueKey] = r
	return nil
}

// getResidue reads the residue of an instance: the struct set by the
// decoder, or the JSON a client sent back. An instance built without XML
// has none and gets an empty one. The result must not be modified.
func getResidue(in *cim.Instance) (*residue, error) {
	switch v := in.Annotations[residueKey].(type) {
	case nil:
		return &residue{}, nil
	case *residue:
		return v, nil
	case json.RawMessage:
		r, err := decodeResidue(v)
		if err != nil {
			return nil, fmt.Errorf("the %s annotation of a %s is malformed: %w", residueKey, in.Class.Name, err)
		}
		return r, nil
	}
	return nil, fmt.Errorf("the %s annotation of a %s has an unexpected form", residueKey, in.Class.Name)
}

// hasResidue reports whether the instance was read from XML (or carries
// what was read through JSON), as opposed to built without XML.
func hasResidue(in *cim.Instance) bool {
	_, ok := in.Annotations[residueKey]
	return ok
}

// keep records a child the model has no place for (an unknown element, or
// text) as an "other" child, to be written back where it stood.
func (r *residue) keep(n Node) {
	r.Children = append(r.Children, "other")
	switch x := n.(type) {
	case *Element:
		r.Other = append(r.Other, x.String())
	case Text:
		r.Other = append(r.Other, escapeText(string(x)))
	}
}

// XMLAttr returns an attribute the element of in had in the XML it was
// read from and that no property holds (an expression's
// ignoreQueryFailure, a step's retryCount); ok is false when it had none
// or in was not read from XML.
func XMLAttr(in *cim.Instance, name string) (string, bool) {
	r, err := getResidue(in)
	if err != nil {
		return "", false
	}
	return pairValue(r.Attrs, name)
}
