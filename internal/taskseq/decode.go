package taskseq

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// Decode turns a <sequence> element into an SMS_TaskSequence instance.
// Everything without a documented property is kept in the instances'
// "@tsprov.xml" annotations.
func (c *Codec) Decode(seq *Element) (*cim.Instance, error) {
	if seq == nil || seq.Name != "sequence" {
		return nil, invalidRoot(seq)
	}
	ts := cim.NewInstance(c.class(classSequence))
	r := &residue{Attrs: attrsOf(seq)}
	if v, ok := seq.Attr("version"); ok {
		ts.Set("SchemaVersion", v)
	}
	var steps []any
	for _, child := range seq.Children {
		el, ok := child.(*Element)
		if !ok {
			r.keep(child)
			continue
		}
		switch el.Name {
		case "step", "group", "subtasksequence":
			s, err := c.decodeStep(el)
			if err != nil {
				return nil, err
			}
			steps = append(steps, s)
			r.Children = append(r.Children, "step")
		case "referenceList":
			r.Children = append(r.Children, "referenceList")
			for _, ref := range el.Elements() {
				r.References = append(r.References, attrsOf(ref))
			}
		case "globalVarList":
			r.Children = append(r.Children, "globalVarList")
			r.VarListAttrs = attrsOf(el)
			for _, v := range el.Children {
				r.Vars = append(r.Vars, rawVar(v))
			}
		default:
			r.keep(el)
		}
	}
	ts.Set("Steps", nonNil(steps))
	if err := setResidue(ts, r); err != nil {
		return nil, err
	}
	return ts, nil
}

func invalidRoot(e *Element) error {
	if e == nil {
		return invalid(&Element{Name: "?"}, "no <sequence> element")
	}
	return invalid(e, "expected <sequence>")
}

func nonNil(list []any) []any {
	if list == nil {
		return []any{}
	}
	return list
}

// rawVar keeps a variable-list child as it is (unbound).
func rawVar(n Node) resVar {
	switch x := n.(type) {
	case *Element:
		if x.Name == "variable" && !x.hasElements() {
			v := x.Text()
			return resVar{Attrs: attrsOf(x), Value: &v}
		}
		return resVar{Raw: x.String()}
	case Text:
		return resVar{Raw: escapeText(string(x))}
	}
	return resVar{}
}

// stepAttr maps an attribute of <step>, <group> or <subtasksequence> to a
// property of the step classes.
type stepAttr struct {
	attr, prop string
	negate     bool // disable="true" means Enabled false
}

var stepAttrs = []stepAttr{
	{attr: "name", prop: "Name"},
	{attr: "description", prop: "Description"},
	{attr: "disable", prop: "Enabled", negate: true},
	{attr: "continueOnError", prop: "ContinueOnError"},
	{attr: "runIn", prop: "SupportedEnvironment"},
	{attr: "timeout", prop: "Timeout"},
}

// attrValue reads a step attribute's text as its property's value.
func attrValue(p *cim.Property, a stepAttr, raw string) (any, bool) {
	v, err := parseText(p.Type, raw)
	if err != nil {
		return nil, false
	}
	if a.negate {
		b, ok := v.(bool)
		if !ok {
			return nil, false
		}
		return !b, true
	}
	return v, true
}

func (c *Codec) decodeStep(e *Element) (*cim.Instance, error) {
	typ, _ := e.Attr("type")
	cls, generic := c.stepClass(e.Name, typ)
	in := cim.NewInstanceSize(cls, len(cls.Properties)) // the decoder sets nearly all
	r := &residue{Attrs: attrsOf(e)}
	if def := defaultElement(cls); def != e.Name {
		r.Element = e.Name
	}
	if generic {
		in.Set("ActionType", typ)
	}
	// attributes that hold properties; absent ones take the default
	for _, a := range stepAttrs {
		p, ok := cls.Property(a.prop)
		if !ok {
			continue
		}
		if p.Default != nil {
			in.Values[p.Name] = cim.CloneValue(p.Default)
		}
		if raw, present := e.Attr(a.attr); present {
			if v, ok := attrValue(p, a, raw); ok {
				in.Values[p.Name] = v
			}
		}
	}
	var steps []any
	for _, child := range e.Children {
		el, ok := child.(*Element)
		if !ok {
			r.keep(child)
			continue
		}
		switch {
		case el.Name == "condition" && in.Values["Condition"] == nil:
			cond, err := c.decodeCondition(el)
			if err != nil {
				return nil, err
			}
			in.Set("Condition", cond)
			r.Children = append(r.Children, "condition")
		case el.Name == "action" && r.Action == nil && !el.hasElements():
			text := el.Text()
			r.Action = &text
			r.Children = append(r.Children, "action")
		case el.Name == "defaultVarList" && r.Vars == nil:
			r.VarListAttrs = attrsOf(el)
			r.Vars = c.decodeVariables(in, el, generic)
			if r.Vars == nil {
				r.Vars = []resVar{}
			}
			r.Children = append(r.Children, "defaultVarList")
		case cls.IsA(classGroup) && (el.Name == "step" || el.Name == "group" || el.Name == "subtasksequence"):
			s, err := c.decodeStep(el)
			if err != nil {
				return nil, err
			}
			steps = append(steps, s)
			r.Children = append(r.Children, "step")
		default:
			r.keep(el)
		}
	}
	if cls.IsA(classGroup) {
		in.Set("Steps", nonNil(steps))
	}
	if generic {
		r.moveToGeneric(in)
	} else {
		c.bindAction(in, r)
		fillVariableDefaults(in)
		noteStaleAction(in, r)
	}
	if err := setResidue(in, r); err != nil {
		return nil, err
	}
	return in, nil
}

// defaultElement is the element a step class is written as.
func defaultElement(cls *cim.Class) string {
	switch {
	case cls.IsA(classGroup):
		return "group"
	case cls.IsA(classPointer):
		return "subtasksequence"
	}
	return "step"
}

// decodeVariables binds the <variable> children of defaultVarList (or of
// an expression) to properties of in's class: by the property attribute
// for steps, by the name for expressions. A generic class keeps every
// variable in its Variables property.
func (c *Codec) decodeVariables(in *cim.Instance, list *Element, generic bool) []resVar {
	out := make([]resVar, 0, len(list.Children)) // one for each child
	var bound lowerSet
	var generics []any
	if generic {
		generics = make([]any, 0, len(list.Children))
	}
	for _, n := range list.Children {
		rv := rawVar(n)
		el, ok := n.(*Element)
		if !ok || rv.Raw != "" {
			out = append(out, rv)
			continue
		}
		text := el.Text()
		if generic {
			generics = append(generics, c.genericVariable(el, text))
			rv.Bound = "Variables"
			rv.Value = nil
			out = append(out, rv)
			continue
		}
		key, ok := el.Attr("property")
		if !ok {
			key, _ = el.Attr("name")
			if list.Name == "defaultVarList" {
				out = append(out, rv)
				continue
			}
		}
		if prop, ok := in.Class.Property(key); ok && c.isRuleList(prop) && !bound.has(prop.Name) {
			if rules, ok := c.parseRules(text); ok {
				in.Values[prop.Name] = rules
				bound.add(prop.Name)
				rv.Bound = prop.Name
				if hasSecretValue(rules) {
					rv.Value = nil // never keep a secret in the annotation
				}
			}
			out = append(out, rv)
			continue
		}
		b, ok := bind(c.reg, in.Class, key)
		if !ok || bound.has(b.path()) || isStepLevel(b.prop) {
			out = append(out, rv)
			continue
		}
		v, err := parseText(b.typ(), text)
		if err != nil {
			out = append(out, rv)
			continue
		}
		b.set(c.reg, in, v)
		bound.add(b.path())
		rv.Bound = b.path()
		secret := isSecret(b.prop) || (b.field != nil && isSecret(b.field))
		if formatText(v) == text || secret {
			rv.Value = nil
		}
		out = append(out, rv)
	}
	if generic {
		in.Set("Variables", nonNil(generics))
	}
	return out
}

// isStepLevel reports the properties that attributes and child elements
// hold, which variables must not overwrite.
func isStepLevel(p *cim.Property) bool {
	ascii := isASCII(p.Name) // then names of another length differ
	for _, a := range stepAttrs {
		if (!ascii || len(a.prop) == len(p.Name)) && strings.EqualFold(a.prop, p.Name) {
			return true
		}
	}
	if p.Origin == classGenericAction {
		return true // the step's XML itself
	}
	switch p.Name {
	case "Condition", "Steps", "Variables", "ActionType":
		return true
	}
	return false
}

// classVariables holds variableProperties' answer by class.
var classVariables = cim.NewClassMemo(variableProperties)

// variableProperties returns the properties of c that are not step level
// (isStepLevel), in class order: those a step's variables may hold.
func variableProperties(c *cim.Class) []*cim.Property {
	out := make([]*cim.Property, 0, len(c.Properties))
	for _, p := range c.Properties {
		if !isStepLevel(p) {
			out = append(out, p)
		}
	}
	return out
}

// commandLineProperty holds a command line step's command.
const commandLineProperty = "CommandLine"

// bindAction gives a step whose command line no variable holds (MDT) the
// <action> text as its CommandLine.
func (c *Codec) bindAction(in *cim.Instance, r *residue) {
	p, ok := in.Class.Property(commandLineProperty)
	if !ok || p.Type.Kind != cim.String || p.Type.Array || r.Action == nil || *r.Action == "" {
		return
	}
	if in.Values[p.Name] != nil {
		return
	}
	in.Values[p.Name] = *r.Action
	r.ActionBound = p.Name
}

// noteStaleAction records, for a step whose <action> is not the command
// line its template derives, what the template derived when it was read
// (see actionText).
func noteStaleAction(in *cim.Instance, r *residue) {
	if r.Action == nil || r.ActionBound != "" {
		return
	}
	if derived, ok := deriveCommandLine(in); ok && derived != *r.Action {
		r.Derived = &derived
	}
}

// fillVariableDefaults gives properties that no variable held their
// class default, as a new instance of the class has.
func fillVariableDefaults(in *cim.Instance) {
	for _, p := range classVariables.Of(in.Class) {
		if p.Default == nil {
			continue
		}
		if _, ok := in.Values[p.Name]; !ok {
			in.Values[p.Name] = cim.CloneValue(p.Default)
		}
	}
}
