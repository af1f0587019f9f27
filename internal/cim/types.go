// Package cim is the class registry of tsprov: CIM types, qualifiers,
// classes, properties and methods, read from the MOF files in schema/, and
// the typed values that instances of those classes hold. Nothing else in
// tsprov lists properties by hand: every layer asks the registry.
package cim

import (
	"fmt"
	"strings"
)

// Kind is a CIM intrinsic type, or Object for an embedded instance.
type Kind int

const (
	Invalid Kind = iota
	Boolean
	UInt8
	SInt8
	UInt16
	SInt16
	UInt32
	SInt32
	UInt64
	SInt64
	Real32
	Real64
	String
	Char16
	DateTime
	Object
)

var kindNames = []struct {
	kind Kind
	name string
}{
	{Boolean, "Boolean"}, {UInt8, "UInt8"}, {SInt8, "SInt8"}, {UInt16, "UInt16"},
	{SInt16, "SInt16"}, {UInt32, "UInt32"}, {SInt32, "SInt32"}, {UInt64, "UInt64"},
	{SInt64, "SInt64"}, {Real32, "Real32"}, {Real64, "Real64"}, {String, "String"},
	{Char16, "Char16"}, {DateTime, "DateTime"},
}

// KindByName returns the intrinsic kind named s (case-insensitive), or
// Invalid when s names no intrinsic type (it may then name a class).
func KindByName(s string) Kind {
	for _, k := range kindNames {
		if strings.EqualFold(k.name, s) {
			return k.kind
		}
	}
	return Invalid
}

func (k Kind) String() string {
	for _, n := range kindNames {
		if n.kind == k {
			return n.name
		}
	}
	if k == Object {
		return "Object"
	}
	return "Invalid"
}

// IsInteger reports whether k is one of the integer kinds.
func (k Kind) IsInteger() bool { return k >= UInt8 && k <= SInt64 }

// IsInt64 reports whether k is written as Edm.Int64 (UInt32, UInt64,
// SInt64): the kinds that OData clients may send as strings.
func (k Kind) IsInt64() bool { return k == UInt32 || k == UInt64 || k == SInt64 }

// IntRange returns the smallest and largest value of an integer kind.
// UInt64 is limited to the largest SInt64: tsprov holds integers as int64.
func (k Kind) IntRange() (lo, hi int64) {
	switch k {
	case UInt8:
		return 0, 1<<8 - 1
	case SInt8:
		return -1 << 7, 1<<7 - 1
	case UInt16:
		return 0, 1<<16 - 1
	case SInt16:
		return -1 << 15, 1<<15 - 1
	case UInt32:
		return 0, 1<<32 - 1
	case SInt32:
		return -1 << 31, 1<<31 - 1
	case UInt64, SInt64:
		if k == UInt64 {
			return 0, 1<<63 - 1
		}
		return -1 << 63, 1<<63 - 1
	}
	return 0, 0
}

// Type is the type of a property, parameter or method result.
type Type struct {
	Kind  Kind
	Array bool
	Class string // for Kind Object: the embedded class name
}

func (t Type) String() string {
	s := t.Kind.String()
	if t.Kind == Object {
		s = t.Class
	}
	if t.Array {
		s += "[]"
	}
	return s
}

// IsBytes reports whether t is UInt8[], which is held as []byte.
func (t Type) IsBytes() bool { return t.Array && t.Kind == UInt8 }

// Elem returns the element type of an array type.
func (t Type) Elem() Type { return Type{Kind: t.Kind, Class: t.Class} }

// EdmType returns the OData primitive or structured type name for t's
// element, as AdminService declares it (UInt32 is Edm.Int64, UInt8[] is
// Edm.Binary, DateTime is Edm.DateTimeOffset).
func (t Type) EdmType(namespace string) string {
	if t.IsBytes() {
		return "Edm.Binary"
	}
	var s string
	switch t.Kind {
	case Boolean:
		s = "Edm.Boolean"
	case UInt8:
		s = "Edm.Byte"
	case SInt8:
		s = "Edm.SByte"
	case UInt16, SInt32:
		s = "Edm.Int32"
	case SInt16:
		s = "Edm.Int16"
	case UInt32, UInt64, SInt64:
		s = "Edm.Int64"
	case Real32:
		s = "Edm.Single"
	case Real64:
		s = "Edm.Double"
	case String, Char16:
		s = "Edm.String"
	case DateTime:
		s = "Edm.DateTimeOffset"
	case Object:
		s = namespace + "." + t.Class
	default:
		panic(fmt.Sprintf("cim: no Edm type for %v", t))
	}
	if t.Array {
		return "Collection(" + s + ")"
	}
	return s
}
