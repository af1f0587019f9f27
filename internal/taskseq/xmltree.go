package taskseq

import (
	"bytes"
	"fmt"
	"strings"
)

// Element is a node of a parsed XML document: its name, its attributes in
// document order, and its children (elements and text) in order.
// Whitespace-only text between child elements is dropped; the text of an
// element without child elements is kept as it is.
type Element struct {
	Name     string
	Attrs    []Attr
	Children []Node
}

// Attr is one attribute.
type Attr struct {
	Name, Value string
}

// Node is an *Element or a Text.
type Node interface{ node() }

// Text is character data.
type Text string

func (*Element) node() {}
func (Text) node()     {}

// Attr returns the value of the named attribute.
func (e *Element) Attr(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// Elements returns the child elements.
func (e *Element) Elements() []*Element {
	var out []*Element
	for _, c := range e.Children {
		if el, ok := c.(*Element); ok {
			out = append(out, el)
		}
	}
	return out
}

// hasElements reports whether e has a child element (Elements without
// the list).
func (e *Element) hasElements() bool {
	for _, c := range e.Children {
		if _, ok := c.(*Element); ok {
			return true
		}
	}
	return false
}

// Child returns the first child element with the given name.
func (e *Element) Child(name string) *Element {
	for _, c := range e.Children {
		if el, ok := c.(*Element); ok && el.Name == name {
			return el
		}
	}
	return nil
}

// Text returns the concatenated text children.
func (e *Element) Text() string {
	if len(e.Children) == 1 { // the common case: no copy
		t, _ := e.Children[0].(Text)
		return string(t)
	}
	var b strings.Builder
	for _, c := range e.Children {
		if t, ok := c.(Text); ok {
			b.WriteString(string(t))
		}
	}
	return b.String()
}

// Limits bound what a parse accepts.
type Limits struct {
	MaxBytes    int // 0: no limit
	MaxDepth    int
	MaxElements int
}

// DefaultLimits accept every real task sequence (the largest in the survey
// is 273 KB with groups six deep) and refuse hostile shapes.
var DefaultLimits = Limits{MaxBytes: 32 << 20, MaxDepth: 64, MaxElements: 500_000}

// dropLayoutWhitespace removes whitespace-only text from an element that
// has child elements: that text is indentation.
func dropLayoutWhitespace(e *Element) {
	hasElem := false
	for _, c := range e.Children {
		if _, ok := c.(*Element); ok {
			hasElem = true
			break
		}
	}
	if !hasElem {
		return
	}
	kept := e.Children[:0]
	for _, c := range e.Children {
		if t, ok := c.(Text); ok && strings.TrimSpace(string(t)) == "" {
			continue
		}
		kept = append(kept, c)
	}
	e.Children = kept
}

// writeTree writes e compactly, as ConfigMgr stores a sequence: no
// whitespace between elements, attributes with &quot;, text with &lt; &gt;
// &amp;, carriage returns and line feeds in attributes as &#xD; &#xA;.
func writeTree(w *bytes.Buffer, e *Element) {
	writeElement(w, e, false)
}

// writeElement writes e compactly; endTags writes an element without
// children as <x></x>, not <x />.
func writeElement(w *bytes.Buffer, e *Element, endTags bool) {
	w.WriteByte('<')
	w.WriteString(e.Name)
	for _, a := range e.Attrs {
		w.WriteByte(' ')
		w.WriteString(a.Name)
		w.WriteString(`="`)
		writeEscaped(w, &attrEscapes, a.Value)
		w.WriteByte('"')
	}
	if len(e.Children) == 0 && !endTags {
		w.WriteString(" />")
		return
	}
	w.WriteByte('>')
	for _, c := range e.Children {
		switch n := c.(type) {
		case *Element:
			writeElement(w, n, endTags)
		case Text:
			writeEscaped(w, &textEscapes, string(n))
		}
	}
	w.WriteString("</")
	w.WriteString(e.Name)
	w.WriteByte('>')
}

// writeEscaped writes s with each byte that escapes has a reference for
// replaced by it.
func writeEscaped(w *bytes.Buffer, escapes *escapeSet, s string) {
	start := 0
	for i := 0; i < len(s); i++ {
		if !escapes.special[s[i]] {
			continue // most text has nothing to escape: one test a byte
		}
		w.WriteString(s[start:i])
		w.WriteString(escapes.ref[s[i]])
		start = i + 1
	}
	w.WriteString(s[start:])
}

// An escapeSet gives the reference written for each special character.
type escapeSet struct {
	ref     [256]string
	special [256]bool // ref is not empty
}

// The references written for special characters: in text, & < > and
// carriage returns (which a parser would read as line feeds); in
// attribute values also quotes, line feeds and tabs (which a parser would
// read as spaces).
var textEscapes, attrEscapes = escapeTable(false), escapeTable(true)

func escapeTable(attr bool) escapeSet {
	var t escapeSet
	t.ref['&'], t.ref['<'], t.ref['>'], t.ref['\r'] = "&amp;", "&lt;", "&gt;", "&#xD;"
	if attr {
		t.ref['"'], t.ref['\n'], t.ref['\t'] = "&quot;", "&#xA;", "&#x9;"
	}
	for c, r := range t.ref {
		t.special[c] = r != ""
	}
	return t
}

// escapeText returns s escaped as XML text.
func escapeText(s string) string {
	var b bytes.Buffer
	writeEscaped(&b, &textEscapes, s)
	return b.String()
}

// size estimates how many bytes e takes written compactly, escapes aside.
func (e *Element) size() int {
	n := 2*len(e.Name) + 5
	for _, a := range e.Attrs {
		n += len(a.Name) + len(a.Value) + 4
	}
	for _, c := range e.Children {
		switch x := c.(type) {
		case *Element:
			n += x.size()
		case Text:
			n += len(x)
		}
	}
	return n
}

// String renders e as compact XML.
func (e *Element) String() string {
	var b bytes.Buffer
	size := e.size()
	b.Grow(size + size/16)
	writeTree(&b, e)
	return b.String()
}

// Canonical renders e for comparison: attributes sorted by name, layout
// whitespace dropped (as parsing does), compact.
func Canonical(e *Element) string {
	c := canonicalCopy(e)
	return c.String()
}

func canonicalCopy(e *Element) *Element {
	out := &Element{Name: e.Name, Attrs: append([]Attr(nil), e.Attrs...)}
	sortAttrs(out.Attrs)
	for _, c := range e.Children {
		switch n := c.(type) {
		case *Element:
			out.Children = append(out.Children, canonicalCopy(n))
		case Text:
			out.Children = append(out.Children, n)
		}
	}
	return out
}

func sortAttrs(as []Attr) {
	for i := 1; i < len(as); i++ {
		for j := i; j > 0 && as[j].Name < as[j-1].Name; j-- {
			as[j], as[j-1] = as[j-1], as[j]
		}
	}
}

// describe names an element for messages.
func describe(e *Element) string {
	if n, ok := e.Attr("name"); ok {
		return fmt.Sprintf("<%s name=%q>", e.Name, n)
	}
	return "<" + e.Name + ">"
}

// WriteIndented writes e with two-space indentation, one element a line,
// for reading; elements that hold text stay on one line.
func WriteIndented(w *bytes.Buffer, e *Element) {
	writeIndented(w, e, 0)
}

func writeIndented(w *bytes.Buffer, e *Element, depth int) {
	pad := strings.Repeat("  ", depth)
	if !e.hasElements() {
		w.WriteString(pad)
		writeTree(w, e)
		w.WriteByte('\n')
		return
	}
	open := &Element{Name: e.Name, Attrs: e.Attrs}
	s := open.String()
	w.WriteString(pad)
	w.WriteString(strings.TrimSuffix(s, " />"))
	w.WriteString(">\n")
	for _, c := range e.Children {
		switch n := c.(type) {
		case *Element:
			writeIndented(w, n, depth+1)
		case Text:
			w.WriteString(pad + "  ")
			writeEscaped(w, &textEscapes, string(n))
			w.WriteByte('\n')
		}
	}
	w.WriteString(pad + "</" + e.Name + ">\n")
}
