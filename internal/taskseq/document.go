package taskseq

import (
	"bytes"
	"html"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
)

// Shape names the outer form a task sequence arrived in.
type Shape string

const (
	// ShapeSequence is a bare <sequence> (SMS_TaskSequencePackage.Sequence).
	ShapeSequence Shape = "sequence"
	// ShapeCIMInstance is an Export-CMTaskSequence object.xml: a CIM-XML
	// INSTANCE of SMS_TaskSequencePackage with the sequence as the text of
	// its Sequence property.
	ShapeCIMInstance Shape = "cim-instance"
	// ShapeMDTPackage is MDT's <SmsTaskSequencePackage> template wrapper,
	// with the sequence inside <SequenceData>.
	ShapeMDTPackage Shape = "mdt-package"
)

// Document is a task sequence file taken apart: the <sequence> element and
// what the wrapper (if any) says about the package.
type Document struct {
	Shape Shape
	// Escaped is true when the whole file was entity-escaped text.
	Escaped bool
	// Sequence is the <sequence> element.
	Sequence *Element
	// PackageProperties are the wrapper's package properties as text (CIM
	// instance PROPERTY values, or the MDT wrapper's child elements), by
	// name. Empty for a bare sequence.
	PackageProperties map[string]string
	// PackageReferences are the References the wrapper lists (CIM instance
	// only), as ConfigMgr computed them.
	PackageReferences []Reference
}

// Reference is one entry of a task sequence's references.
type Reference struct {
	Package string // PackageID, or the application's model name when Type is 1
	Program string
	Type    int64 // 0 package, 1 application
}

// AnyProgram is the Program ConfigMgr lists for a package reference that
// names no program: any program of the package.
const AnyProgram = "*"

// ListedProgram is the Program as ConfigMgr lists the reference in
// SMS_TaskSequence_Reference: the program, AnyProgram for a package
// reference without one, empty for an application.
func (r Reference) ListedProgram() string {
	if r.Program == "" && r.Type == 0 {
		return AnyProgram
	}
	return r.Program
}

// ReadDocument takes any shape of task sequence file apart: a bare
// <sequence>, an object.xml CIM instance, MDT's SmsTaskSequencePackage
// wrapper, a wholly entity-escaped file, or a file with comments before its
// XML declaration. Errors are errs.Invalid (or errs.TooLarge) and say what
// is wrong.
func ReadDocument(data []byte, lim Limits) (*Document, error) {
	data = trimPrologue(data)
	doc := &Document{PackageProperties: map[string]string{}}
	if bytes.HasPrefix(data, []byte("&lt;")) {
		data = []byte(html.UnescapeString(string(data)))
		doc.Escaped = true
		data = trimPrologue(data)
	}
	root, err := parseTree(data, lim)
	if err != nil {
		return nil, err
	}
	switch root.Name {
	case "sequence":
		doc.Shape, doc.Sequence = ShapeSequence, root
	case "INSTANCE":
		doc.Shape = ShapeCIMInstance
		if err := readCIMInstance(root, doc, lim); err != nil {
			return nil, err
		}
	case "SmsTaskSequencePackage":
		doc.Shape = ShapeMDTPackage
		if err := readMDTPackage(root, doc); err != nil {
			return nil, err
		}
	default:
		return nil, errs.E(errs.Invalid, "not a task sequence: the root element is <%s>; expected <sequence>, a CIM <INSTANCE> or <SmsTaskSequencePackage>", root.Name)
	}
	return doc, nil
}

// trimPrologue drops a byte-order mark, leading white space and comments
// that stand before the XML declaration (not well-formed, but found in
// hand-saved files).
func trimPrologue(data []byte) []byte {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for {
		data = bytes.TrimLeft(data, " \t\r\n")
		if !bytes.HasPrefix(data, []byte("<!--")) {
			return data
		}
		end := bytes.Index(data[4:], []byte("-->"))
		if end < 0 || checkComment(data[4:4+end]) != nil {
			return data // the scanner reports it
		}
		data = data[4+end+3:]
	}
}

// readCIMInstance reads an Export-CMTaskSequence object.xml.
func readCIMInstance(root *Element, doc *Document, lim Limits) error {
	if cls, _ := root.Attr("CLASSNAME"); cls != "SMS_TaskSequencePackage" {
		return errs.E(errs.Invalid, "CIM instance of %q, not of SMS_TaskSequencePackage", cls)
	}
	for _, p := range root.Elements() {
		name, _ := p.Attr("NAME")
		switch p.Name {
		case "PROPERTY":
			if v := p.Child("VALUE"); v != nil {
				doc.PackageProperties[name] = v.Text()
			}
		case "PROPERTY.OBJECTARRAY":
			if name != "References" {
				continue
			}
			for _, inst := range descendants(p, "INSTANCE") {
				var r Reference
				for _, f := range inst.Elements() {
					v := f.Child("VALUE")
					if f.Name != "PROPERTY" || v == nil {
						continue
					}
					switch n, _ := f.Attr("NAME"); n {
					case "Package":
						r.Package = v.Text()
					case "Program":
						r.Program = v.Text()
					case "Type":
						if v.Text() == "1" {
							r.Type = 1
						}
					}
				}
				doc.PackageReferences = append(doc.PackageReferences, r)
			}
		}
	}
	seq, ok := doc.PackageProperties["Sequence"]
	if !ok || strings.TrimSpace(seq) == "" {
		return errs.E(errs.Invalid, "the SMS_TaskSequencePackage instance has no Sequence property value")
	}
	inner, err := parseTree(trimPrologue([]byte(seq)), lim)
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "the Sequence property")
	}
	if inner.Name != "sequence" {
		return errs.E(errs.Invalid, "the Sequence property holds <%s>, not <sequence>", inner.Name)
	}
	doc.Sequence = inner
	delete(doc.PackageProperties, "Sequence")
	return nil
}

// readMDTPackage reads MDT's SmsTaskSequencePackage template wrapper.
func readMDTPackage(root *Element, doc *Document) error {
	for _, f := range root.Elements() {
		if f.Name == "SequenceData" {
			doc.Sequence = f.Child("sequence")
			continue
		}
		doc.PackageProperties[f.Name] = f.Text()
	}
	if doc.Sequence == nil {
		return errs.E(errs.Invalid, "<SmsTaskSequencePackage> has no <SequenceData><sequence>")
	}
	return nil
}

func descendants(e *Element, name string) []*Element {
	var out []*Element
	for _, c := range e.Elements() {
		if c.Name == name {
			out = append(out, c)
		}
		out = append(out, descendants(c, name)...)
	}
	return out
}
