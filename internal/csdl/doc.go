package csdl

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// The XML namespaces of a CSDL XML document.
const (
	EdmxNS = "http://docs.oasis-open.org/odata/ns/edmx"
	EdmNS  = "http://docs.oasis-open.org/odata/ns/edm"
)

// Element is one element of a CSDL XML document: its name, its attributes
// in order (name, value pairs) and its children. A document is built once
// as a tree and written as CSDL XML (XML) or CSDL JSON (JSON).
type Element struct {
	Name     string
	Attrs    []string
	Children []*Element
}

// E returns an element with attributes given as name, value pairs.
func E(name string, attrs ...string) *Element { return &Element{Name: name, Attrs: attrs} }

// Add appends children and returns e.
func (e *Element) Add(children ...*Element) *Element {
	e.Children = append(e.Children, children...)
	return e
}

// Attr returns the value of the attribute name, or "".
func (e *Element) Attr(name string) string {
	for i := 0; i+1 < len(e.Attrs); i += 2 {
		if e.Attrs[i] == name {
			return e.Attrs[i+1]
		}
	}
	return ""
}

// HasAttr reports whether e has the attribute name, empty or not.
func (e *Element) HasAttr(name string) bool {
	for i := 0; i+1 < len(e.Attrs); i += 2 {
		if e.Attrs[i] == name {
			return true
		}
	}
	return false
}

// XML writes the document rooted at e (an edmx:Edmx element) as indented
// CSDL XML: an element without children is written as an empty tag.
func (e *Element) XML() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	e.writeXML(&b, 0)
	return b.Bytes()
}

func (e *Element) writeXML(b *bytes.Buffer, depth int) {
	indent := strings.Repeat("  ", depth)
	b.WriteString(indent)
	b.WriteByte('<')
	b.WriteString(e.Name)
	for i := 0; i+1 < len(e.Attrs); i += 2 {
		b.WriteByte(' ')
		b.WriteString(e.Attrs[i])
		b.WriteString(`="`)
		_ = xml.EscapeText(b, []byte(e.Attrs[i+1])) // writes to a bytes.Buffer: cannot fail
		b.WriteByte('"')
	}
	if len(e.Children) == 0 {
		b.WriteString(" />\n")
		return
	}
	b.WriteString(">\n")
	for _, c := range e.Children {
		c.writeXML(b, depth+1)
	}
	b.WriteString(indent)
	b.WriteString("</" + e.Name + ">\n")
}
