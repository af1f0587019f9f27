package taskseq

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// parseTreeStd reads XML with encoding/xml, the reference the scanner is
// held to.
func parseTreeStd(data []byte) (*Element, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var root *Element
	var stack []*Element
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			el := &Element{Name: qname(t.Name)}
			for _, a := range t.Attr {
				el.Attrs = append(el.Attrs, Attr{Name: qname(a.Name), Value: a.Value})
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("two roots")
				}
				root = el
			} else {
				stack[len(stack)-1].Children = append(stack[len(stack)-1].Children, el)
			}
			stack = append(stack, el)
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].Name != qname(t.Name) {
				return nil, errors.New("mismatched end")
			}
			dropLayoutWhitespace(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			appendText(stack[len(stack)-1], string(t))
		case xml.Directive:
			return nil, errors.New("directive")
		}
	}
	if root == nil || len(stack) != 0 {
		return nil, errors.New("incomplete")
	}
	return root, nil
}

// treeDump renders a tree with text exactly, for comparison.
func treeDump(e *Element) string {
	var b strings.Builder
	var walk func(*Element)
	walk = func(e *Element) {
		b.WriteString("<" + e.Name)
		for _, a := range e.Attrs {
			b.WriteString(" " + a.Name + "=" + strconvQuote(a.Value))
		}
		b.WriteString(">")
		for _, c := range e.Children {
			switch n := c.(type) {
			case *Element:
				walk(n)
			case Text:
				b.WriteString(strconvQuote(string(n)))
			}
		}
		b.WriteString("</" + e.Name + ">")
	}
	walk(e)
	return b.String()
}

func strconvQuote(s string) string { return "«" + s + "»" }

func TestScannerAgreesWithEncodingXMLOnTheCorpus(t *testing.T) {
	for _, f := range corpusFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = trimPrologue(data)
		if bytes.HasPrefix(data, []byte("&lt;")) {
			continue // the wholly escaped file is not XML until unescaped
		}
		mine, err := parseTree(data, DefaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		std, err := parseTreeStd(data)
		if err != nil {
			t.Fatalf("%s: encoding/xml: %v", f, err)
		}
		if treeDump(std) != treeDump(mine) {
			t.Fatalf("%s: the scanner and encoding/xml read different trees", f)
		}
	}
}

func TestScannerAcceptsWellFormedCommentsAndDeclarations(t *testing.T) {
	for _, doc := range []string{
		`<a><!----></a>`,
		`<a><!-- - --></a>`,
		`<a><!--->--></a>`,
		`<?xml version="1.0"?><a/>`,
		`<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><a/>`,
		"<?xml\tversion = \"1.0\"\nencoding=\"utf-8\"?><a/>",
		`<a><![CDATA[<!-- -- -->]]></a>`,
	} {
		if _, err := parseTree([]byte(doc), DefaultLimits); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
		if _, err := parseTreeStd([]byte(doc)); err != nil {
			t.Errorf("%s: encoding/xml refuses it too (%v): not a valid case", doc, err)
		}
	}
}

func TestReadDocumentRefusesAMalformedPrologueComment(t *testing.T) {
	_, err := ReadDocument([]byte(`<!-- saved by hand ---><?xml version="1.0"?><sequence version="3.10"/>`), DefaultLimits)
	if err == nil || !strings.Contains(err.Error(), `"--" inside a comment`) {
		t.Fatalf("got %v, want the comment refused", err)
	}
	if _, err := ReadDocument([]byte(`<!-- saved by hand --><?xml version="1.0"?><sequence version="3.10"/>`), DefaultLimits); err != nil {
		t.Fatalf("a well-formed comment before the declaration: %v", err)
	}
}

func TestScannerRefusesHostileAndMalformedXML(t *testing.T) {
	cases := map[string]string{
		"billion laughs":      `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><sequence>&lol2;</sequence>`,
		"external entity":     `<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><sequence>&xxe;</sequence>`,
		"unknown entity":      `<sequence>&nbsp;</sequence>`,
		"processing instr":    `<sequence><?php echo 1 ?></sequence>`,
		"unclosed":            `<sequence><step>`,
		"mismatched":          `<sequence></step>`,
		"two roots":           `<a/><b/>`,
		"bad char ref":        `<a>&#0;</a>`,
		"control character":   "<a>\x01</a>",
		"invalid utf-8":       "<a>\xff</a>",
		"unquoted attribute":  `<a b=c/>`,
		"lt in attribute":     `<a b="<"/>`,
		"text outside root":   `x<a/>`,
		"double dash comment": `<a><!-- a -- b --></a>`,
		// found by FuzzScanner: a comment's body may not end with '-'
		"comment ending in a dash":      `<a><!--000---></a>`,
		"prologue comment with a dash":  `<!-- x ---><a/>`,
		"decl after a comment":          `<a/><?xml version="1.0"?>`,
		"decl inside an element":        `<a><?xml version="1.0"?></a>`,
		"decl without version":          `<?xml encoding="utf-8"?><a/>`,
		"decl with encoding first":      `<?xml encoding="utf-8" version="1.0"?><a/>`,
		"decl with an unknown param":    `<?xml version="1.0" foo="bar"?><a/>`,
		"decl params without space":     `<?xml version="1.0"encoding="utf-8"?><a/>`,
		"decl with a bad standalone":    `<?xml version="1.0" standalone="maybe"?><a/>`,
		"decl without any param":        `<?xml?><a/>`,
		"entity split by a comment":     `<a>&am<!---->p;</a>`,
		"cdata outside the root":        `<![CDATA[x]]><a/>`,
		"cdata with a control char":     "<a><![CDATA[\x01]]></a>",
		"pi with a reserved xml target": `<a><?XML version="1.0"?></a>`,
		// found by FuzzScanner: U+035F may continue an XML name, not begin it
		"combining mark first in a name": "<\u035f/>",
		"a name beyond ASCII":            "<a \u00e9t\u00e9=\"1\"/>",
	}
	for name, doc := range cases {
		if _, err := parseTree([]byte(doc), DefaultLimits); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	deep := strings.Repeat("<g>", 10000) + strings.Repeat("</g>", 10000)
	if _, err := parseTree([]byte(deep), DefaultLimits); err == nil || !strings.Contains(err.Error(), "deeper") {
		t.Errorf("10,000 nested elements: %v", err)
	}
}

// FuzzScanner: whatever the scanner accepts, encoding/xml accepts too and
// reads as the same tree.
// Run by hand: go test -run '^$' -fuzz FuzzScanner -fuzztime 10m ./internal/taskseq
func FuzzScanner(f *testing.F) {
	for _, s := range []string{`<a b="1" c='2'>x&amp;y<![CDATA[<z>]]><!-- c --><d/></a>`, "<a>\r\n&#xD;&#10;</a>", `<?xml version="1.0"?><a:b xmlns:a="u"/>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mine, err := parseTree(data, DefaultLimits)
		if err != nil {
			return
		}
		std, err := parseTreeStd(data)
		if err != nil {
			t.Fatalf("the scanner accepts what encoding/xml refuses (%v): %q", err, data)
		}
		if treeDump(mine) != treeDump(std) {
			t.Fatalf("different trees for %q:\n%s\n%s", data, treeDump(mine), treeDump(std))
		}
	})
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}
