package cmexport

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Instance is a CIM-XML INSTANCE element as WMI writes it in an export
// (WMI DTD 2.0: DSP0201 plus PROPERTY.OBJECTARRAY, VALUE.OBJECT,
// VALUE.OBJECTARRAY and the TOINSTANCE flavor). It keeps what the XML
// says, system properties and qualifiers included, and the three states
// of a value: absent (NULL), empty and filled.
type Instance struct {
	ClassName  string
	Qualifiers []Qualifier
	Properties []*Property
}

// Attr is one XML attribute, kept in the order it was read or is written.
type Attr struct{ Name, Value string }

// Qualifier is a QUALIFIER element: its name, its other attributes in
// order (TYPE, PROPAGATED, flavors) and its value.
type Qualifier struct {
	Name  string
	Attrs []Attr
	Value string
}

// PropertyKind tells the element a property is written as.
type PropertyKind int

const (
	// Scalar is PROPERTY: one VALUE or none (NULL).
	Scalar PropertyKind = iota
	// Array is PROPERTY.ARRAY: a VALUE.ARRAY (possibly empty) or none.
	Array
	// ObjectArray is PROPERTY.OBJECTARRAY: a VALUE.OBJECTARRAY of
	// VALUE.OBJECT/INSTANCE (possibly empty) or none.
	ObjectArray
)

var kindElements = map[PropertyKind]string{Scalar: "PROPERTY", Array: "PROPERTY.ARRAY", ObjectArray: "PROPERTY.OBJECTARRAY"}

// Property is one property of an instance.
type Property struct {
	Kind       PropertyKind
	Name       string
	Attrs      []Attr // CLASSORIGIN, PROPAGATED, TYPE, REFERENCECLASS … in order
	Qualifiers []Qualifier
	Null       bool        // no VALUE / VALUE.ARRAY / VALUE.OBJECTARRAY
	Value      string      // Scalar
	Values     []string    // Array
	Objects    []*Instance // ObjectArray
}

// Attr returns the value of the attribute named name ("" when absent).
func (p *Property) Attr(name string) string {
	for _, a := range p.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

// Type is the TYPE attribute (the CIM type of the value or its elements).
func (p *Property) Type() string { return p.Attr("TYPE") }

// IsSystem reports a WMI system property (__PATH, __CLASS, …).
func (p *Property) IsSystem() bool { return strings.HasPrefix(p.Name, "__") }

// Property returns the property named name (case-insensitive), or nil.
func (in *Instance) Property(name string) *Property {
	for _, p := range in.Properties {
		if strings.EqualFold(p.Name, name) {
			return p
		}
	}
	return nil
}

// StringValue returns a scalar property's value and whether it is set
// (present and not NULL).
func (in *Instance) StringValue(name string) (string, bool) {
	p := in.Property(name)
	if p == nil || p.Null || p.Kind != Scalar {
		return "", false
	}
	return p.Value, true
}

// maxDepth bounds the nesting of embedded instances a reader accepts.
const maxDepth = 16

// DecodeInstance reads a CIM-XML INSTANCE document (an object.xml part).
// Anything else (another root, an element the format does not have, text
// where elements belong, broken XML) is an error saying what and where.
func DecodeInstance(data []byte) (*Instance, error) {
	d := &decoder{Decoder: xml.NewDecoder(bytes.NewReader(data)), src: data}
	d.Strict = true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil, fmt.Errorf("no INSTANCE element: the part is empty")
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "INSTANCE" || t.Name.Space != "" {
				return nil, fmt.Errorf("the root element is <%s>, not the CIM-XML <INSTANCE>", t.Name.Local)
			}
			in, err := decodeInstance(d, t, 0)
			if err != nil {
				return nil, err
			}
			if err := expectEnd(d); err != nil {
				return nil, err
			}
			return in, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("text before the INSTANCE element")
			}
		}
	}
}

func expectEnd(d *decoder) error {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML after INSTANCE: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return fmt.Errorf("a second root element <%s> after INSTANCE", t.Name.Local)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("text after the INSTANCE element")
			}
		}
	}
}

func attrsOf(se xml.StartElement) (name string, attrs []Attr) {
	for _, a := range se.Attr {
		if a.Name.Local == "NAME" && a.Name.Space == "" {
			name = a.Value
			continue
		}
		attrs = append(attrs, Attr{Name: a.Name.Local, Value: a.Value})
	}
	return name, attrs
}

func decodeInstance(d *decoder, se xml.StartElement, depth int) (*Instance, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("embedded instances nest deeper than %d levels", maxDepth)
	}
	in := &Instance{}
	for _, a := range se.Attr {
		if a.Name.Local == "CLASSNAME" {
			in.ClassName = a.Value
		}
	}
	if in.ClassName == "" {
		return nil, fmt.Errorf("INSTANCE without CLASSNAME")
	}
	err := children(d, "INSTANCE", func(c xml.StartElement) error {
		switch c.Name.Local {
		case "QUALIFIER":
			q, err := decodeQualifier(d, c)
			if err != nil {
				return err
			}
			in.Qualifiers = append(in.Qualifiers, q)
			return nil
		case "PROPERTY", "PROPERTY.ARRAY", "PROPERTY.OBJECTARRAY":
			p, err := decodeProperty(d, c, depth)
			if err != nil {
				return err
			}
			in.Properties = append(in.Properties, p)
			return nil
		}
		return fmt.Errorf("unexpected <%s> in INSTANCE %s", c.Name.Local, in.ClassName)
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// children calls fn for each child element of the element just opened,
// up to its end; text other than white space is an error.
func children(d *decoder, parent string, fn func(xml.StartElement) error) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("inside <%s>: %w", parent, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("unexpected text %q in <%s>", clip(string(t)), parent)
			}
		}
	}
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// decoder reads CIM-XML and keeps the source, so that a value's text is
// taken as written: XML parsers turn CR LF into LF, and the values of
// real exports hold CR LF (inside CDATA) that must round-trip.
type decoder struct {
	*xml.Decoder
	src []byte
}

// text reads the character data of an element that holds only text,
// from the source bytes between its tags.
func text(d *decoder, name string) (string, error) {
	start := d.InputOffset()
	for {
		tok, err := d.Token()
		if err != nil {
			return "", fmt.Errorf("inside <%s>: %w", name, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			end := d.InputOffset()
			raw := d.src[start:end]
			i := bytes.LastIndex(raw, []byte("</"))
			if i < 0 {
				return "", fmt.Errorf("inside <%s>: cannot find the end tag", name)
			}
			return rawText(raw[:i])
		case xml.StartElement:
			return "", fmt.Errorf("unexpected <%s> in <%s>", t.Name.Local, name)
		}
	}
}

// rawText decodes element content that the XML parser has already found
// well-formed: CDATA sections literally, other text with its entity and
// character references replaced, CR kept.
func rawText(raw []byte) (string, error) {
	var b strings.Builder
	for len(raw) > 0 {
		if bytes.HasPrefix(raw, []byte("<![CDATA[")) {
			raw = raw[len("<![CDATA["):]
			j := bytes.Index(raw, []byte("]]>"))
			if j < 0 {
				return "", fmt.Errorf("unterminated CDATA section")
			}
			b.Write(raw[:j])
			raw = raw[j+3:]
			continue
		}
		j := bytes.Index(raw, []byte("<![CDATA["))
		if j < 0 {
			j = len(raw)
		}
		if err := unescapeTo(&b, raw[:j]); err != nil {
			return "", err
		}
		raw = raw[j:]
	}
	return b.String(), nil
}

var namedEntities = map[string]string{"lt": "<", "gt": ">", "amp": "&", "quot": `"`, "apos": "'"}

func unescapeTo(b *strings.Builder, s []byte) error {
	for len(s) > 0 {
		i := bytes.IndexByte(s, '&')
		if i < 0 {
			b.Write(s)
			return nil
		}
		b.Write(s[:i])
		s = s[i+1:]
		j := bytes.IndexByte(s, ';')
		if j < 0 {
			return fmt.Errorf("unterminated entity reference")
		}
		ref := string(s[:j])
		s = s[j+1:]
		if v, ok := namedEntities[ref]; ok {
			b.WriteString(v)
			continue
		}
		var n int64
		var err error
		switch {
		case strings.HasPrefix(ref, "#x") || strings.HasPrefix(ref, "#X"):
			n, err = strconv.ParseInt(ref[2:], 16, 32)
		case strings.HasPrefix(ref, "#"):
			n, err = strconv.ParseInt(ref[1:], 10, 32)
		default:
			err = fmt.Errorf("unknown entity")
		}
		if err != nil {
			return fmt.Errorf("bad reference &%s;", ref)
		}
		b.WriteRune(rune(n))
	}
	return nil
}

func decodeQualifier(d *decoder, se xml.StartElement) (Qualifier, error) {
	name, attrs := attrsOf(se)
	q := Qualifier{Name: name, Attrs: attrs}
	err := children(d, "QUALIFIER", func(c xml.StartElement) error {
		switch c.Name.Local {
		case "VALUE":
			v, err := text(d, "VALUE")
			q.Value = v
			return err
		case "VALUE.ARRAY":
			var vals []string
			err := children(d, "VALUE.ARRAY", func(v xml.StartElement) error {
				s, err := text(d, v.Name.Local)
				vals = append(vals, s)
				return err
			})
			q.Value = strings.Join(vals, ",")
			return err
		}
		return fmt.Errorf("unexpected <%s> in QUALIFIER %s", c.Name.Local, name)
	})
	return q, err
}

func decodeProperty(d *decoder, se xml.StartElement, depth int) (*Property, error) {
	name, attrs := attrsOf(se)
	if name == "" {
		return nil, fmt.Errorf("<%s> without NAME", se.Name.Local)
	}
	p := &Property{Name: name, Attrs: attrs, Null: true}
	switch se.Name.Local {
	case "PROPERTY.ARRAY":
		p.Kind = Array
	case "PROPERTY.OBJECTARRAY":
		p.Kind = ObjectArray
	}
	err := children(d, se.Name.Local, func(c xml.StartElement) error {
		switch {
		case c.Name.Local == "QUALIFIER":
			q, err := decodeQualifier(d, c)
			p.Qualifiers = append(p.Qualifiers, q)
			return err
		case c.Name.Local == "VALUE" && p.Kind == Scalar && p.Null:
			v, err := text(d, "VALUE")
			p.Value, p.Null = v, false
			return err
		case c.Name.Local == "VALUE.ARRAY" && p.Kind == Array && p.Null:
			p.Null = false
			p.Values = []string{}
			return children(d, "VALUE.ARRAY", func(v xml.StartElement) error {
				if v.Name.Local != "VALUE" {
					return fmt.Errorf("unexpected <%s> in VALUE.ARRAY of %s", v.Name.Local, name)
				}
				s, err := text(d, "VALUE")
				p.Values = append(p.Values, s)
				return err
			})
		case c.Name.Local == "VALUE.OBJECTARRAY" && p.Kind == ObjectArray && p.Null:
			p.Null = false
			p.Objects = []*Instance{}
			return children(d, "VALUE.OBJECTARRAY", func(v xml.StartElement) error {
				if v.Name.Local != "VALUE.OBJECT" {
					return fmt.Errorf("unexpected <%s> in VALUE.OBJECTARRAY of %s", v.Name.Local, name)
				}
				return children(d, "VALUE.OBJECT", func(i xml.StartElement) error {
					if i.Name.Local != "INSTANCE" {
						return fmt.Errorf("unexpected <%s> in VALUE.OBJECT of %s", i.Name.Local, name)
					}
					sub, err := decodeInstance(d, i, depth+1)
					if err != nil {
						return fmt.Errorf("%s: %w", name, err)
					}
					p.Objects = append(p.Objects, sub)
					return nil
				})
			})
		}
		return fmt.Errorf("unexpected <%s> in %s %s", c.Name.Local, se.Name.Local, name)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// EncodeInstance writes in as the console writes object.xml: no BOM, no
// XML declaration, CRLF line ends, two spaces of indentation per level,
// no newline at the end.
func EncodeInstance(in *Instance) []byte {
	var b bytes.Buffer
	encodeInstance(&b, in, 0)
	return b.Bytes()
}

const crlf = "\r\n"

func indent(b *bytes.Buffer, level int) {
	for i := 0; i < level; i++ {
		b.WriteString("  ")
	}
}

func encodeInstance(b *bytes.Buffer, in *Instance, level int) {
	indent(b, level)
	b.WriteString(`<INSTANCE CLASSNAME="`)
	b.WriteString(escapeAttr(in.ClassName))
	b.WriteString(`">`)
	for _, q := range in.Qualifiers {
		b.WriteString(crlf)
		encodeQualifier(b, q, level+1)
	}
	for _, p := range in.Properties {
		b.WriteString(crlf)
		encodeProperty(b, p, level+1)
	}
	b.WriteString(crlf)
	indent(b, level)
	b.WriteString("</INSTANCE>")
}

func openTag(b *bytes.Buffer, elem, name string, attrs []Attr) {
	b.WriteString("<" + elem + ` NAME="` + escapeAttr(name) + `"`)
	for _, a := range attrs {
		b.WriteString(" " + a.Name + `="` + escapeAttr(a.Value) + `"`)
	}
	b.WriteString(">")
}

func encodeQualifier(b *bytes.Buffer, q Qualifier, level int) {
	indent(b, level)
	openTag(b, "QUALIFIER", q.Name, q.Attrs)
	b.WriteString(crlf)
	indent(b, level+1)
	writeValue(b, q.Value)
	b.WriteString(crlf)
	indent(b, level)
	b.WriteString("</QUALIFIER>")
}

func writeValue(b *bytes.Buffer, v string) {
	b.WriteString("<VALUE>")
	b.WriteString(escapeValue(v))
	b.WriteString("</VALUE>")
}

func encodeProperty(b *bytes.Buffer, p *Property, level int) {
	elem := kindElements[p.Kind]
	indent(b, level)
	openTag(b, elem, p.Name, p.Attrs)
	if len(p.Qualifiers) == 0 && p.Null {
		b.WriteString("</" + elem + ">")
		return
	}
	for _, q := range p.Qualifiers {
		b.WriteString(crlf)
		encodeQualifier(b, q, level+1)
	}
	if !p.Null {
		b.WriteString(crlf)
		indent(b, level+1)
		switch p.Kind {
		case Scalar:
			writeValue(b, p.Value)
		case Array:
			b.WriteString("<VALUE.ARRAY>")
			for _, v := range p.Values {
				b.WriteString(crlf)
				indent(b, level+2)
				writeValue(b, v)
			}
			if len(p.Values) > 0 {
				b.WriteString(crlf)
				indent(b, level+1)
			}
			b.WriteString("</VALUE.ARRAY>")
		case ObjectArray:
			b.WriteString("<VALUE.OBJECTARRAY>")
			for _, o := range p.Objects {
				b.WriteString(crlf)
				indent(b, level+2)
				b.WriteString("<VALUE.OBJECT>" + crlf)
				encodeInstance(b, o, level+3)
				b.WriteString(crlf)
				indent(b, level+2)
				b.WriteString("</VALUE.OBJECT>")
			}
			if len(p.Objects) > 0 {
				b.WriteString(crlf)
				indent(b, level+1)
			}
			b.WriteString("</VALUE.OBJECTARRAY>")
		}
	}
	b.WriteString(crlf)
	indent(b, level)
	b.WriteString("</" + elem + ">")
}

var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\r", "&#xD;", "\n", "&#xA;", "\t", "&#x9;")

func escapeAttr(s string) string { return attrEscaper.Replace(s) }

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")

// escapeValue writes a value's text: markup (the Sequence XML, other XML
// documents) goes in a CDATA section, as in every export; other text is
// escaped. "]]>" inside CDATA is split across two sections.
func escapeValue(s string) string {
	if strings.ContainsAny(s, "<&") {
		return "<![CDATA[" + strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") + "]]>"
	}
	return textEscaper.Replace(s)
}
