package taskseq

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
)

// stripGenericAnnotations removes the @tsprov.xml annotation of every
// TSPROV_GenericAction in a JSON document, as a client that keeps only
// the documented properties does, and counts them.
func stripGenericAnnotations(v any, n *int) {
	switch x := v.(type) {
	case map[string]any:
		if x["@odata.type"] == cim.ODataType(classGenericAction) {
			delete(x, residueKey)
			*n++
		}
		for _, m := range x {
			stripGenericAnnotations(m, n)
		}
	case []any:
		for _, e := range x {
			stripGenericAnnotations(e, n)
		}
	}
}

// TestGenericStepsRoundTripWithoutAnnotation: in every corpus file, the
// steps of a type that no class describes (MDT's steps without a type,
// SMS_TaskSequence_VirtualHardDiskAction) are written back whole from
// JSON that lacks their @tsprov.xml annotation: attributes, <action>,
// variables with their property and hidden attributes, and the order of
// their children, as canonical XML.
func TestGenericStepsRoundTripWithoutAnnotation(t *testing.T) {
	c := testCodec(t)
	total := 0
	for _, f := range corpusFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ts, doc, err := c.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		var tree any
		if err := json.Unmarshal([]byte(jsonOf(t, ts)), &tree); err != nil {
			t.Fatal(err)
		}
		n := 0
		stripGenericAnnotations(tree, &n)
		if n == 0 {
			continue
		}
		total += n
		t.Run(filepath.Base(f), func(t *testing.T) {
			stripped, _ := json.Marshal(tree)
			back, err := c.Registry().DecodeObject(ts.Class, json.RawMessage(stripped), "")
			if err != nil {
				t.Fatalf("decode JSON: %v", err)
			}
			out, err := c.Encode(back, WriteOptions{})
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if want, got := Canonical(doc.Sequence), Canonical(out); want != got {
				t.Fatalf("%d generic steps without their annotation are not written back whole:\n%s", n, firstDifference(want, got))
			}
		})
	}
	if total == 0 {
		t.Skip("no generic step in the corpus")
	}
	t.Logf("%d generic steps written back without their annotation", total)
}

// TestGenericStepFromJSON: a step of an unknown type built through JSON,
// with only its documented properties, is written as ConfigMgr writes a
// step: the type, the action text, the attributes given, and each
// variable with name and property.
func TestGenericStepFromJSON(t *testing.T) {
	c := testCodec(t)
	const in = `{"Steps": [{"@odata.type": "#AdminService.TSPROV_GenericAction",
		"ActionType": "ACME_Deploy", "Name": "Deploy", "Action": "acme.exe /mode:%ACMEMode%",
		"Attributes": ["successCodeList=0 1641"],
		"Variables": [{"Name": "ACMEMode", "Value": "full"},
			{"@odata.type": "#AdminService.TSPROV_GenericVariable", "Name": "ACMEKey", "Property": "Key", "Hidden": true, "Value": "k"}]}]}`
	cls, _ := c.Registry().Class(classSequence)
	ts, err := c.Registry().DecodeObject(cls, json.RawMessage(in), "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Marshal(ts, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	step := mustElement(t, out).Elements()[0]
	for attr, want := range map[string]string{"type": "ACME_Deploy", "name": "Deploy", "successCodeList": "0 1641"} {
		if got, _ := step.Attr(attr); got != want {
			t.Errorf("%s=%q, want %q: %s", attr, got, want, out)
		}
	}
	for _, want := range []string{
		`<action>acme.exe /mode:%ACMEMode%</action>`,
		`<variable name="ACMEMode" property="ACMEMode">full</variable>`,
		`<variable name="ACMEKey" property="Key" hidden="true">k</variable>`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("written XML lacks %s:\n%s", want, out)
		}
	}
	back, err := c.Decode(reparse(t, mustElement(t, out)))
	if err != nil {
		t.Fatal(err)
	}
	read := back.Values["Steps"].([]any)[0].(*cim.Instance)
	if read.String("Action") != "acme.exe /mode:%ACMEMode%" || read.String("ActionType") != "ACME_Deploy" {
		t.Errorf("read back: %s", jsonOf(t, read))
	}
}

func mustElement(t *testing.T, data []byte) *Element {
	t.Helper()
	e, err := parseTree(data, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestOnlyUnknownTypesAreGeneric: no step of the corpus whose type names a
// class (the built-in actions, MDT's BDD_* classes) is read as a generic
// step.
func TestOnlyUnknownTypesAreGeneric(t *testing.T) {
	c := testCodec(t)
	mdt := 0
	for _, f := range corpusFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ts, _, err := c.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		Walk(ts, func(step *cim.Instance, path []int) bool {
			if strings.HasPrefix(step.Class.Name, "BDD_") {
				mdt++
			}
			if !step.Class.IsA(classGenericAction) {
				return true
			}
			if typ := step.String("ActionType"); typ != "" {
				if _, known := c.Registry().Class(typ); known {
					t.Errorf("%s %s: type %s has a class but was read as a generic step", filepath.Base(f), stepLabel(step, path), typ)
				}
			}
			return true
		})
	}
	if mdt == 0 {
		t.Error("no BDD_* step was read as its class")
	}
}
