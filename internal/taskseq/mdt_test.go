package taskseq

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
)

// mdtSCCMTemplate is an MDT template for ConfigMgr: the form in which
// ConfigMgr holds MDT's custom actions (BDD_UsePackage, BDD_Gather,
// BDD_Validate), with the referenceList of their packages.
const mdtSCCMTemplate = "../../testdata/ts-corpus/keithga__DeployShared__Source_MDT.8443_SCCM_SCCM_Client.xml"

// TestMDTStepsBuiltThroughJSONMatchTheCorpus: each distinct BDD_* step of
// an MDT ConfigMgr template, built again through JSON from nothing but its
// documented properties (no annotation), is written with the <action> the
// file holds, and the sequence's references are the packages the file's
// referenceList names for those steps.
func TestMDTStepsBuiltThroughJSONMatchTheCorpus(t *testing.T) {
	c := testCodec(t)
	data, err := os.ReadFile(mdtSCCMTemplate)
	if err != nil {
		t.Skipf("corpus file missing: %v", err)
	}
	ts, doc, err := c.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, r := range doc.Sequence.Elements() {
		if r.Name == "referenceList" {
			for _, ref := range r.Elements() {
				p, _ := ref.Attr("package")
				listed[p] = true
			}
		}
	}
	type sample struct {
		step   *cim.Instance
		action string
	}
	var samples []sample
	seen := map[string]bool{}
	Walk(ts, func(step *cim.Instance, _ []int) bool {
		if !strings.HasPrefix(step.Class.Name, "BDD_") {
			return true
		}
		r, _ := getResidue(step)
		if r.Action == nil || seen[step.Class.Name+*r.Action] {
			return true
		}
		seen[step.Class.Name+*r.Action] = true
		samples = append(samples, sample{step, *r.Action})
		return true
	})
	classes := map[string]bool{}
	var steps []any
	for _, s := range samples {
		classes[s.step.Class.Name] = true
		// only the documented properties: the JSON of the step without its annotation
		var obj map[string]any
		if err := json.Unmarshal([]byte(jsonOf(t, s.step)), &obj); err != nil {
			t.Fatal(err)
		}
		delete(obj, residueKey)
		delete(obj, "Condition")
		steps = append(steps, obj)
	}
	for _, want := range []string{"BDD_UsePackage", "BDD_Gather", "BDD_Validate"} {
		if !classes[want] {
			t.Fatalf("%s has no %s step", mdtSCCMTemplate, want)
		}
	}
	body, _ := json.Marshal(map[string]any{"Steps": steps})
	built, err := c.Registry().DecodeObject(ts.Class, json.RawMessage(body), "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Encode(built, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	written := out.Elements()
	for i, s := range samples {
		var got string
		for _, ch := range written[i].Elements() {
			if ch.Name == "action" {
				got = ch.Text()
			}
		}
		if got != s.action {
			t.Errorf("%s %q built through JSON: <action>%s</action>, the file has <action>%s</action>", s.step.Class.Name, s.step.String("Name"), got, s.action)
		}
	}
	var refs []string
	for _, r := range References(built) {
		refs = append(refs, r.Package)
		if !listed[r.Package] {
			t.Errorf("reference %s is not in the file's referenceList", r.Package)
		}
	}
	sort.Strings(refs)
	if strings.Join(refs, ",") != "CAS00009,CAS0001E" {
		t.Errorf("references %v, want the toolkit package CAS0001E and the settings package CAS00009", refs)
	}
}
