package taskseq

import (
	"fmt"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// decodeCondition reads <condition>: its operands are expressions,
// operators and OS condition groups, in order (several operands are an
// implicit AND).
func (c *Codec) decodeCondition(e *Element) (*cim.Instance, error) {
	in := cim.NewInstance(c.class(classCondition))
	ops, r, err := c.decodeOperands(e, false)
	if err != nil {
		return nil, err
	}
	in.Set("Operands", ops)
	return in, setResidue(in, r)
}

// decodeOperands reads the operand children of a condition or operator;
// with platformKey, the first <platformKey> child is kept in the residue.
func (c *Codec) decodeOperands(e *Element, platformKey bool) ([]any, *residue, error) {
	r := &residue{Attrs: attrsOf(e)}
	ops := []any{}
	for _, child := range e.Children {
		el, ok := child.(*Element)
		if !ok {
			r.keep(child)
			continue
		}
		if platformKey && el.Name == "platformKey" && r.PlatformKey == nil {
			r.PlatformKey = attrsOf(el)
			if r.PlatformKey == nil {
				r.PlatformKey = [][2]string{}
			}
			r.Children = append(r.Children, "platformKey")
			continue
		}
		var op *cim.Instance
		var err error
		switch el.Name {
		case "expression":
			op, err = c.decodeExpression(el)
		case "operator", "osConditionGroup", "osExpressionGroup":
			op, err = c.decodeOperator(el)
		}
		if err != nil {
			return nil, nil, err
		}
		if op == nil {
			r.keep(el)
			continue
		}
		ops = append(ops, op)
		r.Children = append(r.Children, "operand")
	}
	return ops, r, nil
}

// operatorClass maps the operator elements to their classes.
var operatorClass = map[string]string{
	"operator":          classOperator,
	"osConditionGroup":  classOSCondGroup,
	"osExpressionGroup": classOSExprGroup,
}

// platformKeyAttrs maps <platformKey> attributes to OSExpressionGroup
// properties.
var platformKeyAttrs = [][2]string{
	{"arch", "PlatformArchKey"},
	{"type", "PlatformTypeKey"},
	{"minVer", "PlatformMinVerKey"},
	{"maxVer", "PlatformMaxVerKey"},
}

func (c *Codec) decodeOperator(e *Element) (*cim.Instance, error) {
	in := cim.NewInstance(c.class(operatorClass[e.Name]))
	if t, ok := e.Attr("type"); ok {
		in.Set("OperatorType", t)
	}
	if n, ok := e.Attr("name"); ok && in.Class.IsA(classOSExprGroup) {
		in.Set("Name", n)
	}
	ops, r, err := c.decodeOperands(e, in.Class.IsA(classOSExprGroup))
	if err != nil {
		return nil, err
	}
	for _, m := range platformKeyAttrs {
		if v, ok := pairValue(r.PlatformKey, m[0]); ok {
			in.Set(m[1], v)
		}
	}
	in.Set("Operands", ops)
	return in, setResidue(in, r)
}

// decodeExpression reads <expression type="…"> with its <variable name=…>
// children bound to the expression class's properties by name.
func (c *Codec) decodeExpression(e *Element) (*cim.Instance, error) {
	typ, _ := e.Attr("type")
	cls, ok := c.reg.Class(typ)
	generic := !ok || !cls.IsA(classExpression) || cls.IsAbstract()
	if generic {
		cls = c.class(classGenericExpr)
	}
	in := cim.NewInstanceSize(cls, len(cls.Properties))
	if generic {
		in.Set("ExpressionType", typ)
	}
	r := &residue{Attrs: attrsOf(e)}
	r.Vars = c.decodeVariables(in, e, generic)
	if r.Vars == nil {
		r.Vars = []resVar{}
	}
	return in, setResidue(in, r)
}

// condition writes <condition> and its operands.
func (w *writer) condition(in *cim.Instance, where string) error {
	return w.operandContainer(in, "condition", where)
}

// operandContainer writes a condition or an operator element: its
// attributes, then its operands (and kept children) in the order read.
func (w *writer) operandContainer(in *cim.Instance, name, where string) error {
	r, err := getResidue(in)
	if err != nil {
		return errs.Target(errs.Invalid, where, "%s: %w", where, err)
	}
	attrs := r.Attrs
	if name != "condition" {
		if t := in.String("OperatorType"); t != "" || hasPair(attrs, "type") {
			attrs = keepOrSet(attrs, "type", t)
		}
		if in.Class.IsA(classOSExprGroup) {
			if n, ok := in.Get("Name"); ok && n != nil || hasPair(attrs, "name") {
				attrs = keepOrSet(attrs, "name", in.String("Name"))
			}
		}
	}
	w.out.open(name, attrs, true)
	ops, _ := in.Values["Operands"].([]any)
	markers := r.Children
	if !contains(markers, "operand") {
		markers = append(markers, "operand")
	}
	if in.Class.IsA(classOSExprGroup) && !contains(markers, "platformKey") {
		markers = append([]string{"platformKey"}, markers...)
	}
	other := r.Other
	done := false
	for _, m := range markers {
		switch m {
		case "operand":
			if done {
				continue
			}
			done = true
			for i, op := range ops {
				if err := w.operand(op, fmt.Sprintf("%s.Operands[%d]", where, i)); err != nil {
					return err
				}
			}
		case "platformKey":
			pk := r.PlatformKey
			for _, m := range platformKeyAttrs {
				if v, ok := in.Values[m[1]].(string); ok || hasPair(pk, m[0]) {
					pk = keepOrSet(pk, m[0], v)
				}
			}
			w.out.open("platformKey", pk, false)
			w.out.close()
		case "other":
			if err := w.kept(&other); err != nil {
				return err
			}
		}
	}
	w.out.close()
	return nil
}

func hasPair(pairs [][2]string, name string) bool {
	_, ok := pairValue(pairs, name)
	return ok
}

// keepOrSet keeps the raw attribute when it equals v, else sets it.
func keepOrSet(pairs [][2]string, name, v string) [][2]string {
	if raw, ok := pairValue(pairs, name); ok && raw == v {
		return pairs
	}
	return setPair(pairs, name, v)
}

// operand writes one operand: an expression or an operator.
func (w *writer) operand(v any, where string) error {
	in, ok := v.(*cim.Instance)
	if !ok || !in.Class.IsA(classOperand) {
		return errs.Target(errs.Invalid, where, "%s is not an SMS_TaskSequence_ConditionOperand", where)
	}
	switch {
	case in.Class.IsA(classOSExprGroup):
		return w.operandContainer(in, "osExpressionGroup", where)
	case in.Class.IsA(classOSCondGroup):
		return w.operandContainer(in, "osConditionGroup", where)
	case in.Class.IsA(classOperator):
		return w.operandContainer(in, "operator", where)
	}
	r, err := getResidue(in)
	if err != nil {
		return errs.Target(errs.Invalid, where, "%s: %w", where, err)
	}
	generic := in.Class.IsA(classGenericExpr)
	typ := in.Class.Name
	if generic {
		typ = in.String("ExpressionType")
	}
	attrs := r.Attrs
	if attrs == nil {
		attrs = [][2]string{{"type", typ}}
	}
	attrs = keepOrSet(attrs, "type", typ)
	return w.variables(in, r, "expression", attrs, generic, where)
}
