package taskseq

import (
	"bytes"
	"strings"
)

// xmlSink receives what the encoder writes, in document order: Marshal
// writes it straight to bytes (bytesSink), Encode builds an element tree
// of it (treeSink). The two agree: writing the tree that treeSink builds
// gives the bytes that bytesSink writes.
type xmlSink interface {
	// open starts an element; dropLayout removes the whitespace-only text
	// of an element that turns out to have child elements (that text is
	// indentation).
	open(name string, attrs [][2]string, dropLayout bool)
	// text adds character data; empty text adds nothing.
	text(s string)
	// node adds a node kept from the source (an unknown element, or text).
	node(n Node)
	// close ends the element opened last.
	close()
}

// treeSink builds the element tree.
type treeSink struct {
	root  *Element
	stack []treeFrame
}

type treeFrame struct {
	el         *Element
	dropLayout bool
}

func (t *treeSink) open(name string, attrs [][2]string, dropLayout bool) {
	el := &Element{Name: name, Attrs: toAttrs(attrs)}
	if n := len(t.stack); n > 0 {
		parent := t.stack[n-1].el
		parent.Children = append(parent.Children, el)
	} else {
		t.root = el
	}
	t.stack = append(t.stack, treeFrame{el, dropLayout})
}

func (t *treeSink) text(s string) {
	if s != "" {
		t.node(Text(s))
	}
}

func (t *treeSink) node(n Node) {
	top := t.stack[len(t.stack)-1].el
	top.Children = append(top.Children, n)
}

func (t *treeSink) close() {
	f := t.stack[len(t.stack)-1]
	t.stack = t.stack[:len(t.stack)-1]
	if f.dropLayout {
		dropLayoutWhitespace(f.el)
	}
}

// bytesSink writes compact XML as writeElement does, without a tree: an
// element's start tag is finished when its first child arrives, and the
// text of an element that drops layout waits until it is known whether
// the element has child elements (which drops its whitespace-only text).
type bytesSink struct {
	w *bytes.Buffer
	// endTags writes an element without children as <x></x>.
	endTags bool
	stack   []bytesFrame
}

type bytesFrame struct {
	name       string
	dropLayout bool
	hasChild   bool
	hasElem    bool
	pending    []string // text not yet written (dropLayout, no child element yet)
}

// child notes that the open element gets a child, finishing its start tag.
func (b *bytesSink) child() *bytesFrame {
	if len(b.stack) == 0 {
		return nil
	}
	f := &b.stack[len(b.stack)-1]
	if !f.hasChild {
		f.hasChild = true
		b.w.WriteByte('>')
	}
	return f
}

// childElement notes that the open element gets a child element: its
// whitespace-only text, if it drops layout, is indentation.
func (b *bytesSink) childElement() {
	if f := b.child(); f != nil && !f.hasElem {
		f.hasElem = true
		b.flushPending(f)
	}
}

func (b *bytesSink) open(name string, attrs [][2]string, dropLayout bool) {
	b.childElement()
	b.w.WriteByte('<')
	b.w.WriteString(name)
	for _, a := range attrs {
		b.w.WriteByte(' ')
		b.w.WriteString(a[0])
		b.w.WriteString(`="`)
		writeEscaped(b.w, &attrEscapes, a[1])
		b.w.WriteByte('"')
	}
	b.stack = append(b.stack, bytesFrame{name: name, dropLayout: dropLayout})
}

func (b *bytesSink) text(s string) {
	if s != "" {
		b.addText(s)
	}
}

func (b *bytesSink) addText(s string) {
	f := b.child()
	switch {
	case !f.dropLayout:
		writeEscaped(b.w, &textEscapes, s)
	case !f.hasElem:
		f.pending = append(f.pending, s)
	case !isLayout(s):
		writeEscaped(b.w, &textEscapes, s)
	}
}

// flushPending writes the text held back, without its whitespace-only
// pieces once the element has child elements.
func (b *bytesSink) flushPending(f *bytesFrame) {
	for _, p := range f.pending {
		if !f.hasElem || !isLayout(p) {
			writeEscaped(b.w, &textEscapes, p)
		}
	}
	f.pending = nil
}

// isLayout reports whether text is whitespace only, as dropLayoutWhitespace
// judges it.
func isLayout(s string) bool { return strings.TrimSpace(s) == "" }

func (b *bytesSink) node(n Node) {
	switch x := n.(type) {
	case *Element:
		b.childElement()
		writeElement(b.w, x, b.endTags)
	case Text:
		b.addText(string(x))
	}
}

func (b *bytesSink) close() {
	f := &b.stack[len(b.stack)-1]
	switch {
	case !f.hasChild && b.endTags:
		b.w.WriteString("></")
		b.w.WriteString(f.name)
		b.w.WriteByte('>')
	case !f.hasChild:
		b.w.WriteString(" />")
	default:
		b.flushPending(f)
		b.w.WriteString("</")
		b.w.WriteString(f.name)
		b.w.WriteByte('>')
	}
	b.stack = b.stack[:len(b.stack)-1]
}
