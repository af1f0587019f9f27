package policy

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// SequenceUnitBytes is what one UTF-16 code unit of the sequence XML costs
// in a task sequence policy: TS_Sequence holds the sequence as UTF-16 (2
// bytes), encrypted, written as hex (4 characters), in a document the
// client counts in UTF-16 (8 bytes).
const SequenceUnitBytes = 8

// StepWeight is what one step of a sequence adds to its policy.
type StepWeight struct {
	Path  string // group names and the step's name, joined by " / "
	Type  string // the step's type attribute
	Bytes int64  // policy bytes (UTF-16) the step's XML costs
}

// Size is the size of a task sequence's policy in UTF-16 bytes, as Build
// would write it for any deployment (ids of 8 characters, a site of 3).
// References and the deployment's values change it by a few hundred
// bytes at most.
func Size(ts TaskSequence) (int64, error) {
	probe := ts
	probe.References = nil
	if probe.PackageID == "" {
		probe.PackageID = "XXX00000"
	}
	b := builder{in: Input{Deployment: Deployment{AdvertisementID: "XXX00000", SourceSite: "XXX"}, TaskSequence: probe}, limit: 1 << 62}
	doc, err := b.taskSequence(&probe)
	if err != nil {
		return 0, err
	}
	var refs int64
	for _, r := range ts.References {
		refs += UTF16Bytes("<value><![CDATA[" + r.PackageID + "]]></value>")
	}
	return UTF16Bytes(doc.Body) + refs, nil
}

// Weigh lists the steps of a sequence (<step> and <subtasksequence>
// elements; a group weighs what its steps weigh) with the policy bytes
// each costs, heaviest first (ties in document order).
func Weigh(sequence string) ([]StepWeight, error) {
	d := xml.NewDecoder(strings.NewReader(sequence))
	type open struct {
		start      int64
		name, typ  string
		isStep     bool
		isGroup    bool
		childSteps int
	}
	var stack []open
	var out []StepWeight
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("policy: sequence XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			o := open{start: off, isStep: t.Name.Local == "step" || t.Name.Local == "subtasksequence", isGroup: t.Name.Local == "group"}
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "name":
					o.name = a.Value
				case "type":
					o.typ = a.Value
				}
			}
			stack = append(stack, o)
		case xml.EndElement:
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !o.isStep {
				continue
			}
			var path []string
			for _, g := range stack {
				if g.isGroup {
					path = append(path, g.name)
				}
			}
			path = append(path, o.name)
			raw := []byte(sequence[o.start:d.InputOffset()])
			out = append(out, StepWeight{Path: strings.Join(path, " / "), Type: o.typ, Bytes: SequenceUnitBytes * utf16Units(bytes.TrimSpace(raw))})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Bytes > out[j].Bytes })
	return out, nil
}
