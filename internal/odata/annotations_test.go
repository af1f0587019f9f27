package odata_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tsprov/tsprov/schema"
)

// TestMetadataAnnotatesValuesAndPackageReferences: a property whose MOF
// declares a ValueMap lists its values (Validation.AllowedValues), and a
// property that holds a PackageID a step refers to ([TaskSequencePackage])
// carries the term AdminService.PackageReference, declared in the
// document — so a client (the web console) offers choices and package
// pickers from $metadata, with no copy of the schema. Checked on every
// property of the registry, in the JSON form of the document.
func TestMetadataAnnotatesValuesAndPackageReferences(t *testing.T) {
	s := newTestServer(t, 0)
	r := s.must(200, "GET", "/odata/$metadata?$format=json", nil)
	var doc map[string]any
	if err := json.Unmarshal(r.raw, &doc); err != nil {
		t.Fatal(err)
	}
	ns := doc["AdminService"].(map[string]any)
	if term, _ := ns["PackageReference"].(map[string]any); term["$Kind"] != "Term" {
		t.Errorf("the term PackageReference is not declared: %v", ns["PackageReference"])
	}
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	values, refs := 0, 0
	for _, c := range reg.Classes() {
		typ, ok := ns[c.Name].(map[string]any)
		if !ok {
			continue
		}
		for _, p := range c.Properties {
			if p.Origin != c.Name {
				continue // declared by a base class, checked there
			}
			prop, ok := typ[p.Name].(map[string]any)
			if !ok {
				continue
			}
			vals, has := p.ValueMap()
			got, _ := prop["@Validation.AllowedValues"].([]any)
			if has && !p.Type.Array {
				values++
				if len(got) != len(vals) {
					t.Errorf("%s.%s: AllowedValues %v, want %v", c.Name, p.Name, got, vals)
					continue
				}
				for i, v := range vals {
					if fmt.Sprint(got[i].(map[string]any)["Value"]) != v {
						t.Errorf("%s.%s: AllowedValues[%d] %v, want %q", c.Name, p.Name, i, got[i], v)
					}
				}
			} else if got != nil {
				t.Errorf("%s.%s: AllowedValues %v without a ValueMap", c.Name, p.Name, got)
			}
			if p.Qualifiers.Has("TaskSequencePackage") {
				refs++
			}
			if (prop["@AdminService.PackageReference"] == true) != p.Qualifiers.Has("TaskSequencePackage") {
				t.Errorf("%s.%s: PackageReference %v", c.Name, p.Name, prop["@AdminService.PackageReference"])
			}
		}
	}
	if values == 0 || refs == 0 {
		t.Errorf("checked %d ValueMaps and %d package references: the registry has both", values, refs)
	}
}
