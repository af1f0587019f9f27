package csdl

import (
	"encoding/json"
	"testing"
)

// TestJSONFollowsTheXML: the CSDL JSON of a small document states what its
// CSDL XML states, with the JSON format's defaults ($Type Edm.String and
// $Nullable false left out; XML's Nullable defaults to true). The OASIS
// parser checks the whole /odata/ document the same way
// (internal/odata/metadata_test.go) where npm is installed.
func TestJSONFollowsTheXML(t *testing.T) {
	doc := E("edmx:Edmx", "Version", "4.01").Add(
		E("edmx:Reference", "Uri", "https://example.com/Org.OData.Core.V1.xml").Add(
			E("edmx:Include", "Namespace", "Org.OData.Core.V1", "Alias", "Core")),
		E("edmx:DataServices").Add(E("Schema", "Namespace", "NS").Add(
			E("EntityType", "Name", "Pkg", "Abstract", "true").Add(
				E("Key").Add(E("PropertyRef", "Name", "ID")),
				E("Property", "Name", "ID", "Type", "Edm.String", "Nullable", "false"),
				E("Property", "Name", "Size", "Type", "Edm.Int64").Add(
					E("Annotation", "Term", "Core.Computed", "Bool", "true")),
				E("Property", "Name", "Tags", "Type", "Collection(Edm.String)", "Nullable", "true"),
				E("Property", "Name", "When", "Type", "Edm.DateTimeOffset", "Precision", "6"),
				E("Property", "Name", "Target", "Type", "Edm.String").Add(
					E("Annotation", "Term", "Validation.AllowedValues").Add(E("Collection").Add(
						E("Record").Add(E("PropertyValue", "Property", "Value", "String", "HD")),
						E("Record").Add(E("PropertyValue", "Property", "Value", "String", "")))),
					E("Annotation", "Term", "NS.Ref")),
				E("Property", "Name", "Mode", "Type", "Edm.Int64").Add(
					E("Annotation", "Term", "Validation.AllowedValues").Add(E("Collection").Add(
						E("Record").Add(E("PropertyValue", "Property", "Value", "Int", "1"))))),
				E("NavigationProperty", "Name", "Uses", "Type", "Collection(NS.Pkg)")),
			E("Term", "Name", "Ref", "Type", "Core.Tag", "AppliesTo", "Property").Add(
				E("Annotation", "Term", "Core.Description", "String", "a reference")),
			E("ComplexType", "Name", "Result").Add(
				E("Property", "Name", "ReturnValue", "Type", "Edm.Int32")),
			E("Action", "Name", "Go", "IsBound", "true").Add(
				E("Parameter", "Name", "bindingParameter", "Type", "Collection(NS.Pkg)", "Nullable", "false"),
				E("Parameter", "Name", "Xml", "Type", "Edm.String"),
				E("ReturnType", "Type", "NS.Result", "Nullable", "false")),
			E("Action", "Name", "Go", "IsBound", "true").Add(
				E("Parameter", "Name", "bindingParameter", "Type", "NS.Pkg", "Nullable", "false")),
			E("EntityContainer", "Name", "Container").Add(
				E("EntitySet", "Name", "Pkgs", "EntityType", "NS.Pkg"),
				E("ActionImport", "Name", "Run", "Action", "NS.Run")))))
	got, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"$Version":"4.01","$EntityContainer":"NS.Container",
"$Reference":{"https://example.com/Org.OData.Core.V1.json":{"$Include":[{"$Namespace":"Org.OData.Core.V1","$Alias":"Core"}]}},
"NS":{
 "Pkg":{"$Kind":"EntityType","$Abstract":true,"$Key":["ID"],
  "ID":{},
  "Size":{"$Type":"Edm.Int64","$Nullable":true,"@Core.Computed":true},
  "Tags":{"$Collection":true,"$Nullable":true},
  "When":{"$Type":"Edm.DateTimeOffset","$Nullable":true,"$Precision":6},
  "Target":{"$Nullable":true,"@Validation.AllowedValues":[{"Value":"HD"},{"Value":""}],"@NS.Ref":true},
  "Mode":{"$Type":"Edm.Int64","$Nullable":true,"@Validation.AllowedValues":[{"Value":1}]},
  "Uses":{"$Kind":"NavigationProperty","$Collection":true,"$Type":"NS.Pkg"}},
 "Ref":{"$Kind":"Term","$Type":"Core.Tag","$Nullable":true,"$AppliesTo":["Property"],"@Core.Description":"a reference"},
 "Result":{"$Kind":"ComplexType","ReturnValue":{"$Type":"Edm.Int32","$Nullable":true}},
 "Go":[
  {"$Kind":"Action","$IsBound":true,"$Parameter":[{"$Name":"bindingParameter","$Collection":true,"$Type":"NS.Pkg"},{"$Name":"Xml","$Nullable":true}],"$ReturnType":{"$Type":"NS.Result"}},
  {"$Kind":"Action","$IsBound":true,"$Parameter":[{"$Name":"bindingParameter","$Type":"NS.Pkg"}]}],
 "Container":{"$Kind":"EntityContainer","Pkgs":{"$Collection":true,"$Type":"NS.Pkg"},"Run":{"$Action":"NS.Run"}}}}`
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("CSDL JSON:\n got %s\nwant %s", gb, wb)
	}
	if _, err := E("edmx:Edmx").Add(E("edmx:DataServices").Add(E("Schema").Add(E("Function", "Name", "F").Add(E("Bogus"))))).JSON(); err == nil {
		t.Error("an element the writer does not know was written")
	}
}
