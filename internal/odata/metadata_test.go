package odata_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/csdl"
	"github.com/tsprov/tsprov/internal/odata"
	"github.com/tsprov/tsprov/schema"
)

// mdDoc is the part of a CSDL XML document the tests read.
type mdDoc struct {
	Version string `xml:"Version,attr"`
	Schema  struct {
		Types []struct {
			XMLName  xml.Name
			Name     string `xml:"Name,attr"`
			BaseType string `xml:"BaseType,attr"`
			Abstract string `xml:"Abstract,attr"`
			Props    []struct {
				Name        string `xml:"Name,attr"`
				Type        string `xml:"Type,attr"`
				Annotations []struct {
					Term string `xml:"Term,attr"`
				} `xml:"Annotation"`
			} `xml:"Property"`
		} `xml:",any"`
		Actions []struct {
			Name    string `xml:"Name,attr"`
			IsBound string `xml:"IsBound,attr"`
			Params  []struct {
				Name string `xml:"Name,attr"`
				Type string `xml:"Type,attr"`
			} `xml:"Parameter"`
			Return *struct {
				Type string `xml:"Type,attr"`
			} `xml:"ReturnType"`
		} `xml:"Action"`
		Container struct {
			Imports []struct {
				Name string `xml:"Name,attr"`
			} `xml:"ActionImport"`
		} `xml:"EntityContainer"`
	} `xml:"DataServices>Schema"`
}

func parseMetadata(t *testing.T, data []byte) *mdDoc {
	t.Helper()
	var d mdDoc
	if err := xml.Unmarshal(data, &d); err != nil {
		t.Fatalf("$metadata is not well-formed XML: %v", err)
	}
	return &d
}

func TestStrictMetadataShapes(t *testing.T) {
	s := newTestServer(t, 0)
	r := s.must(200, "GET", "/odata/$metadata", nil)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/xml") {
		t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
	}
	d := parseMetadata(t, r.raw)
	kinds := map[string]string{}
	bases := map[string]string{}
	for _, ty := range d.Schema.Types {
		if ty.XMLName.Local != "EntityType" && ty.XMLName.Local != "ComplexType" {
			continue
		}
		if _, twice := kinds[ty.Name]; twice {
			t.Errorf("type %s declared twice", ty.Name)
		}
		kinds[ty.Name] = ty.XMLName.Local
		bases[ty.Name] = ty.BaseType
		for _, p := range ty.Props {
			if strings.HasPrefix(p.Name, "__") {
				t.Errorf("%s.%s: WMI system property on the strict root", ty.Name, p.Name)
			}
			if ty.Name == tsClass && p.Name == "Sequence" {
				terms := ""
				for _, a := range p.Annotations {
					terms += a.Term + " "
				}
				if !strings.Contains(terms, "Core.Description") || !strings.Contains(terms, "Core.Computed") {
					t.Errorf("Sequence (lazy, read-only) annotations: %s", terms)
				}
			}
		}
	}
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	m := csdl.NewModel(reg, csdl.Strict)
	for _, c := range reg.Classes() {
		if c.IsPrivate() {
			if _, ok := kinds[c.Name]; ok {
				t.Errorf("private class %s declared", c.Name)
			}
			continue
		}
		want := "EntityType"
		if m.IsComplex(c) {
			want = "ComplexType"
		}
		if kinds[c.Name] != want {
			t.Errorf("%s: %s, want %s", c.Name, kinds[c.Name], want)
		}
	}
	for name, want := range map[string]string{
		"SMS_TaskSequence":           "ComplexType",
		"SMS_TaskSequence_Reference": "ComplexType",
		"SMS_ExtendedStatus":         "ComplexType",
		"SMS_TaskSequence_Step":      "ComplexType",
		tsClass:                      "EntityType",
	} {
		if kinds[name] != want {
			t.Errorf("%s is a %s, want %s", name, kinds[name], want)
		}
	}
	if bases["SMS_TaskSequence_Group"] != "AdminService.SMS_TaskSequence_Step" || bases["SMS_TaskSequence_RunCommandLineAction"] != "AdminService.SMS_TaskSequence_Action" {
		t.Errorf("step subclasses lost their base types: %q %q", bases["SMS_TaskSequence_Group"], bases["SMS_TaskSequence_RunCommandLineAction"])
	}

	bindings := map[string]string{}
	returns := map[string]string{}
	for _, a := range d.Schema.Actions {
		if !csdl.Identifier.MatchString(a.Name) {
			t.Errorf("action name %q is not a simple identifier", a.Name)
		}
		key := a.Name
		if a.IsBound == "true" {
			bindings[a.Name] = a.Params[0].Type
		}
		if a.Return != nil {
			returns[key] = a.Return.Type
		}
	}
	for name, want := range map[string]string{
		"ImportSequence": "Collection(AdminService." + tsClass + ")",
		"SetSequence":    "Collection(AdminService." + tsClass + ")",
		"GetSequence":    "Collection(AdminService." + tsClass + ")",
		// Declared once by the package base class: strict OData binds it
		// there, and every package type inherits it.
		"RefreshPkgSource": "AdminService.SMS_PackageBaseclass",
	} {
		if bindings[name] != want {
			t.Errorf("%s bound to %q, want %q", name, bindings[name], want)
		}
	}
	if rt := returns["ImportSequence"]; rt != "AdminService.SMS_TaskSequencePackage_ImportSequenceResult" {
		t.Errorf("ImportSequence returns %q", rt)
	}
	var resultProps []string
	for _, ty := range d.Schema.Types {
		if ty.Name == "SMS_TaskSequencePackage_ImportSequenceResult" {
			for _, p := range ty.Props {
				resultProps = append(resultProps, p.Name+":"+p.Type)
			}
		}
	}
	if got := strings.Join(resultProps, ","); got != "ReturnValue:Edm.Int32,TaskSequence:AdminService.SMS_TaskSequence" {
		t.Errorf("ImportSequence result type: %s", got)
	}
	for _, imp := range d.Schema.Container.Imports {
		if !csdl.Identifier.MatchString(imp.Name) {
			t.Errorf("ActionImport %q is not a simple identifier", imp.Name)
		}
	}
}

func TestMetadataAsJSON(t *testing.T) {
	s := newTestServer(t, 0)
	for _, req := range [][]string{
		{"/odata/$metadata?$format=json"},
		{"/odata/$metadata", "Accept", "application/json"},
	} {
		r := s.must(200, "GET", req[0], nil, req[1:]...)
		var doc map[string]any
		if err := json.Unmarshal(r.raw, &doc); err != nil || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("%v: %v, Content-Type %q", req, err, r.header.Get("Content-Type"))
		}
		if doc["$Version"] != "4.01" || doc["$EntityContainer"] != "AdminService.Container" {
			t.Errorf("%v: $Version %v $EntityContainer %v", req, doc["$Version"], doc["$EntityContainer"])
		}
		ts := doc["AdminService"].(map[string]any)[tsClass].(map[string]any)
		if ts["$Kind"] != "EntityType" || ts["$BaseType"] != "AdminService.SMS_PackageBaseclass" {
			t.Errorf("%v: %s is %v", req, tsClass, ts)
		}
	}
	x := s.must(200, "GET", "/odata/$metadata", nil, "Accept", "application/xml, application/json")
	if !strings.HasPrefix(string(x.raw), "<?xml") {
		t.Errorf("Accept preferring XML got %.40s", x.raw)
	}
	expectError(t, s.do("GET", "/odata/$metadata?$format=atom", nil), 400, "$format")
}

// TestStrictMetadataCSDLParser: the OASIS CSDL parser (odata-csdl) reads
// /odata/$metadata in strict mode with no departure from CSDL allowed, and
// its CSDL JSON is, member for member, the server's $metadata?$format=json.
func TestStrictMetadataCSDLParser(t *testing.T) {
	node := nodeTool(t, csdlCheckDir, "odata-csdl/package.json", requireCSDLCheck, "odata-csdl")
	s := newTestServer(t, 0)
	dir := t.TempDir()
	xmlFile, jsonFile := filepath.Join(dir, "metadata.xml"), filepath.Join(dir, "metadata.json")
	if err := os.WriteFile(xmlFile, s.must(200, "GET", "/odata/$metadata", nil).raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jsonFile, s.must(200, "GET", "/odata/$metadata?$format=json", nil).raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, csdlCheckDir, node, "check.js", "--strict", xmlFile, jsonFile)
	t.Logf("check.js: %s", strings.TrimSpace(out))
}

// TestStrictMetadataRejects: the strict root refuses a registry whose
// names would collide in its one namespace.
func TestStrictMetadataRejects(t *testing.T) {
	for _, tc := range []struct{ name, mof, want string }{
		{"action named like a class", `class A { [key] string ID; sint32 B(); }; class B { string X; };`, "name of a type and of a bound action"},
		{"two unbound actions", `class A { [static] sint32 Go(); }; class B { [static] sint32 Go(); };`, "unbound action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := loadMOF(t, tc.mof)
			if _, err := odata.Metadata(reg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Metadata error = %v, want %q", err, tc.want)
			}
		})
	}
}
