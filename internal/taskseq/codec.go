// Package taskseq is the task sequence: the SMS_TaskSequence object model
// (instances of the schema's classes), its XML codec, the references a
// sequence makes and its validation. It does no I/O and no storage.
package taskseq

import (
	"fmt"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// The classes the XML format maps to (sdk-spec.md §3, ts-xml-format.md).
const (
	classSequence      = "SMS_TaskSequence"
	classStep          = "SMS_TaskSequence_Step"
	classGroup         = "SMS_TaskSequence_Group"
	classAction        = "SMS_TaskSequence_Action"
	classPointer       = "SMS_TaskSequence_Pointer"
	classCondition     = "SMS_TaskSequence_Condition"
	classOperand       = "SMS_TaskSequence_ConditionOperand"
	classOperator      = "SMS_TaskSequence_ConditionOperator"
	classOSCondGroup   = "SMS_TaskSequence_OSConditionGroup"
	classOSExprGroup   = "SMS_TaskSequence_OSExpressionGroup"
	classExpression    = "SMS_TaskSequence_ConditionExpression"
	classVariable      = "SMS_TaskSequence_Variable"
	classGenericAction = "TSPROV_GenericAction"
	classGenericVar    = "TSPROV_GenericVariable"
	classGenericExpr   = "TSPROV_GenericConditionExpression"
)

// Codec converts task sequence XML to the object model and back. It is
// driven by the registry: a <variable property="X"> of a step holds the
// step class's property X.
type Codec struct {
	reg     *cim.Registry
	classes map[string]*cim.Class
}

// NewCodec returns a codec for the task sequence classes of reg.
func NewCodec(reg *cim.Registry) (*Codec, error) {
	c := &Codec{reg: reg, classes: map[string]*cim.Class{}}
	for _, name := range []string{classSequence, classStep, classGroup, classAction, classPointer, classCondition,
		classOperand, classOperator, classOSCondGroup, classOSExprGroup, classExpression, classVariable,
		classGenericAction, classGenericVar, classGenericExpr} {
		cls, ok := reg.Class(name)
		if !ok {
			return nil, fmt.Errorf("taskseq: the schema lacks class %s", name)
		}
		c.classes[name] = cls
	}
	return c, nil
}

// Registry returns the registry the codec uses.
func (c *Codec) Registry() *cim.Registry { return c.reg }

func (c *Codec) class(name string) *cim.Class { return c.classes[name] }

// stepClass returns the class of a step element of the given type, and
// whether it is the generic class (a type no class describes).
func (c *Codec) stepClass(elem, typ string) (*cim.Class, bool) {
	if elem == "group" {
		return c.class(classGroup), false
	}
	if cls, ok := c.reg.Class(typ); ok && cls.IsA(classStep) && !cls.IsAbstract() && !cls.IsA(classGroup) {
		return cls, false
	}
	return c.class(classGenericAction), true
}

// Parse reads a task sequence file of any shape into the object model.
func (c *Codec) Parse(data []byte) (*cim.Instance, *Document, error) {
	doc, err := ReadDocument(data, DefaultLimits)
	if err != nil {
		return nil, nil, err
	}
	ts, err := c.Decode(doc.Sequence)
	if err != nil {
		return nil, nil, err
	}
	if t := doc.PackageProperties["Type"]; doc.Shape == ShapeCIMInstance && t != "" {
		r, err := getResidue(ts)
		if err != nil {
			return nil, nil, err
		}
		r.PackageType = t
	}
	return ts, doc, nil
}

// invalid is the error of a document the model cannot take.
func invalid(e *Element, format string, args ...any) error {
	return errs.E(errs.Invalid, "%s: %s", describe(e), fmt.Sprintf(format, args...))
}
