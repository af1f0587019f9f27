package store

// This file holds the value encodings that every backend shares, so that a
// value written by one backend reads back the same from another and so that
// no backend invents its own form.

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// EncodeJSON returns the JSON text that stores v, a value of type t, in a
// JSON column or in the apart-values table. The form is the AdminService
// one (cim.JSONValue) with two differences that make it lossless:
// DateTime values are written in DMTF form, so that the offset and the
// "+***" mark of an unknown zone survive (cim.ParseDateTime reads DMTF
// back); embedded objects carry only the properties present in their
// Values (absent stays absent, nil stays null).
//
// Outcomes: the JSON text ("null" for nil); an error of kind errs.Invalid
// when v is not of the Go type that t calls for (see package cim), when an
// array holds a nil element, or when an embedded object is of an abstract
// class, of a class that is not t's class or a subclass of it, or holds a
// property its class does not declare. What EncodeJSON accepts,
// DecodeJSON reads back as an equal value (cim.Equal).
func EncodeJSON(t cim.Type, v any) ([]byte, error) {
	return encodeJSON(t, v, cim.MarshalValue)
}

// encodeJSON is EncodeJSON writing the text with marshal: as bytes, or as
// a string (cim.MarshalValueString) for a caller that stores a string.
func encodeJSON[T []byte | string](t cim.Type, v any, marshal func(any) (T, error)) (T, error) {
	var none T
	j, err := jsonValue(t, v)
	if err != nil {
		return none, err
	}
	out, err := marshal(j)
	if err != nil {
		return none, errs.E(errs.Invalid, "encode %v value: %w", t, err)
	}
	return out, nil
}

// DecodeJSON reads JSON text written by EncodeJSON as a value of type t;
// where names the value in errors (for example "SMS_TaskSequencePackage.
// RefreshSchedule"). Outcomes: the value (nil for "null"); an error of kind
// errs.Invalid, naming where, when the text is not a value of type t.
func DecodeJSON(reg *cim.Registry, t cim.Type, data []byte, where string) (any, error) {
	return reg.DecodeValue(t, data, where)
}

func jsonValue(t cim.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.IsBytes() {
		b, ok := v.([]byte)
		if !ok {
			return nil, wrongGoType(t, v)
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	if t.Array {
		list, ok := v.([]any)
		if !ok {
			return nil, wrongGoType(t, v)
		}
		out := make([]any, len(list))
		for i, e := range list {
			if e == nil {
				return nil, errs.E(errs.Invalid, "%v element %d is null", t, i)
			}
			j, err := jsonValue(t.Elem(), e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = j
		}
		return out, nil
	}
	if same(t.Kind, v) {
		return v, nil
	}
	switch t.Kind {
	case cim.DateTime:
		if d, ok := v.(cim.DateTimeValue); ok {
			return d.DMTF(), nil
		}
	case cim.Object:
		if in, ok := v.(*cim.Instance); ok {
			return objectValue(t, in)
		}
	}
	return nil, wrongGoType(t, v)
}

func objectValue(t cim.Type, in *cim.Instance) (any, error) {
	c := in.Class
	if c == nil {
		return nil, errs.E(errs.Invalid, "embedded %s object has no class", t.Class)
	}
	if t.Class != "" && !c.IsA(t.Class) {
		return nil, errs.E(errs.Invalid, "embedded object of class %s is not a %s", c.Name, t.Class)
	}
	if c.IsAbstract() {
		return nil, errs.E(errs.Invalid, "embedded object of class %s: the class is abstract", c.Name)
	}
	for name := range in.Values {
		if p, ok := c.Property(name); !ok || p.Name != name {
			return nil, errs.E(errs.Invalid, "embedded %s object: class has no property %q", c.Name, name)
		}
	}
	o := cim.NewObject()
	o.Set("@odata.type", cim.ODataType(c.Name))
	for _, p := range c.Properties {
		v, ok := in.Values[p.Name]
		if !ok {
			continue
		}
		j, err := jsonValue(p.Type, v)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", c.Name, p.Name, err)
		}
		o.Set(p.Name, j)
	}
	return o, nil
}

func wrongGoType(t cim.Type, v any) error {
	return errs.E(errs.Invalid, "a %v value cannot be a Go %T", t, v)
}

// DateTimeText returns the text form that orders DateTime values in a text
// column: DMTF normalised to UTC (offset "+000"), so that text order is
// time order. A value whose zone is unknown ("+***") is taken as UTC, as
// it is shown: its digits, "+000", and the mark "*" after them, so that
// its first DateTimeKeyLen characters (the part a comparison reads) are
// those of the UTC instant. ParseDateTimeText reads the text back.
func DateTimeText(d cim.DateTimeValue) string {
	if d.UnknownOffset {
		return strings.TrimSuffix(d.DMTF(), unknownOffset) + "+000" + unknownMark
	}
	return cim.DateTimeValue{Time: d.Time.In(time.UTC)}.DMTF()
}

// DateTimeKeyLen is how much of a DateTimeText comparisons read: the
// digits and the offset, not the unknown-zone mark.
const DateTimeKeyLen = len("20060102150405.000000+000")

const (
	unknownOffset = "+***" // DMTF's unknown zone
	unknownMark   = "*"    // follows DateTimeText of a value whose zone is unknown
)

// ParseDateTimeText reads a DateTimeText back: the same instant, in UTC,
// or the digits with the unknown zone they were stored with.
func ParseDateTimeText(text string) (cim.DateTimeValue, error) {
	if len(text) == DateTimeKeyLen+len(unknownMark) && strings.HasSuffix(text, "+000"+unknownMark) {
		text = text[:DateTimeKeyLen-len(unknownOffset)] + unknownOffset
	}
	return cim.ParseDMTF(text)
}
