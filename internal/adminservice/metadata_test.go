package adminservice

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/csdl"
	"github.com/tsprov/tsprov/internal/golden"
	"github.com/tsprov/tsprov/schema"
)

const (
	mdGoldenFile   = "testdata/metadata.golden.xml"
	mdExtractFile  = "../../../shared/reference/adminservice-metadata-extract.xml"
	mdCheckDir     = "testdata/csdlcheck"
	mdRequireCheck = "TSPROV_REQUIRE_CSDL_CHECK"
)

// The parsed document.
type mdEdmx struct {
	XMLName xml.Name   `xml:"Edmx"`
	Version string     `xml:"Version,attr"`
	Schemas []mdSchema `xml:"DataServices>Schema"`
}

type mdSchema struct {
	Namespace    string         `xml:"Namespace,attr"`
	EntityTypes  []mdStructured `xml:"EntityType"`
	ComplexTypes []mdStructured `xml:"ComplexType"`
	Actions      []mdAction     `xml:"Action"`
	Container    *mdContainer   `xml:"EntityContainer"`
}

type mdStructured struct {
	XMLName    xml.Name
	Name       string       `xml:"Name,attr"`
	BaseType   string       `xml:"BaseType,attr"`
	Abstract   string       `xml:"Abstract,attr"`
	Keys       []mdNamed    `xml:"Key>PropertyRef"`
	Properties []mdProperty `xml:"Property"`
}

type mdNamed struct {
	Name string `xml:"Name,attr"`
}

type mdProperty struct {
	Name     string `xml:"Name,attr"`
	Type     string `xml:"Type,attr"`
	Nullable string `xml:"Nullable,attr"`
}

type mdAction struct {
	Name       string       `xml:"Name,attr"`
	IsBound    string       `xml:"IsBound,attr"`
	Parameters []mdProperty `xml:"Parameter"`
	ReturnType *mdProperty  `xml:"ReturnType"`
}

type mdContainer struct {
	Name       string `xml:"Name,attr"`
	EntitySets []struct {
		Name       string `xml:"Name,attr"`
		EntityType string `xml:"EntityType,attr"`
	} `xml:"EntitySet"`
	ActionImports []struct {
		Name   string `xml:"Name,attr"`
		Action string `xml:"Action,attr"`
	} `xml:"ActionImport"`
}

// mdIndex gives access by name to a parsed document.
type mdIndex struct {
	doc     mdEdmx
	types   map[string]*mdStructured // qualified name
	actions map[string][]*mdAction   // qualified name
	sets    map[string]string        // entity set -> entity type
	imports map[string]string        // action import -> action
}

func mdIndexOf(t *testing.T, data []byte) *mdIndex {
	t.Helper()
	var ix mdIndex
	if err := xml.Unmarshal(data, &ix.doc); err != nil {
		t.Fatalf("parse $metadata: %v", err)
	}
	ix.types = map[string]*mdStructured{}
	ix.actions = map[string][]*mdAction{}
	ix.sets = map[string]string{}
	ix.imports = map[string]string{}
	for i := range ix.doc.Schemas {
		s := &ix.doc.Schemas[i]
		for _, list := range [][]mdStructured{s.EntityTypes, s.ComplexTypes} {
			for j := range list {
				q := s.Namespace + "." + list[j].Name
				if ix.types[q] != nil {
					t.Errorf("type %s declared twice", q)
				}
				ix.types[q] = &list[j]
			}
		}
		for j := range s.Actions {
			q := s.Namespace + "." + s.Actions[j].Name
			ix.actions[q] = append(ix.actions[q], &s.Actions[j])
		}
		if s.Container != nil {
			for _, es := range s.Container.EntitySets {
				ix.sets[es.Name] = es.EntityType
			}
			for _, ai := range s.Container.ActionImports {
				ix.imports[ai.Name] = ai.Action
			}
		}
	}
	return &ix
}

func (ix *mdIndex) typ(t *testing.T, name string) *mdStructured {
	t.Helper()
	st := ix.types["AdminService."+name]
	if st == nil {
		t.Fatalf("no type AdminService.%s", name)
	}
	return st
}

// complex reports whether the class name is a ComplexType of the document.
func (ix *mdIndex) complex(name string) bool {
	st := ix.types["AdminService."+name]
	return st != nil && st.XMLName.Local == "ComplexType"
}

// chain returns the type and its base types, nearest first.
func (ix *mdIndex) chain(st *mdStructured) []*mdStructured {
	out := []*mdStructured{st}
	for st.BaseType != "" && len(out) < 64 {
		st = ix.types[st.BaseType]
		if st == nil {
			break
		}
		out = append(out, st)
	}
	return out
}

// findProperty returns the declaration of name along st's chain and the
// type that declares it.
func (ix *mdIndex) findProperty(st *mdStructured, name string) (*mdProperty, *mdStructured) {
	for _, c := range ix.chain(st) {
		for i := range c.Properties {
			if c.Properties[i].Name == name {
				return &c.Properties[i], c
			}
		}
	}
	return nil, nil
}

func (ix *mdIndex) boundAction(name, binding string) *mdAction {
	for _, a := range ix.actions["AdminService."+name] {
		if a.IsBound == "true" && len(a.Parameters) > 0 && a.Parameters[0].Type == binding {
			return a
		}
	}
	return nil
}

func mdRegistry(t *testing.T) *cim.Registry {
	t.Helper()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatalf("load schema: %v", err)
	}
	return reg
}

func mdGenerate(t *testing.T, reg *cim.Registry) []byte {
	t.Helper()
	data, err := Metadata(reg)
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	return data
}

func TestMetadataGolden(t *testing.T) {
	got := mdGenerate(t, mdRegistry(t))
	want := golden.Want(t, mdGoldenFile, got)
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("$metadata differs from %s at line %d:\n got: %s\nwant: %s\n(if the change is intended: go test ./internal/adminservice -run Metadata -update)", mdGoldenFile, i+1, g, w)
			}
		}
	}
}

func TestMetadataDeterministic(t *testing.T) {
	a := mdGenerate(t, mdRegistry(t))
	other, err := cim.Load(schema.FS)
	if err != nil {
		t.Fatal(err)
	}
	if b := mdGenerate(t, other); !bytes.Equal(a, b) {
		t.Fatal("two registries from the same schema give different documents")
	}
}

func TestMetadataWellFormed(t *testing.T) {
	data := mdGenerate(t, mdRegistry(t))
	if !bytes.HasPrefix(data, []byte(`<?xml version="1.0" encoding="utf-8"?>`+"\n<edmx:Edmx ")) {
		t.Errorf("document starts with %q", data[:min(len(data), 80)])
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			want := "http://docs.oasis-open.org/odata/ns/edm"
			if se.Name.Local == "Edmx" || se.Name.Local == "DataServices" {
				want = "http://docs.oasis-open.org/odata/ns/edmx"
			}
			if se.Name.Space != want {
				t.Fatalf("element %s in namespace %q, want %q", se.Name.Local, se.Name.Space, want)
			}
		}
	}
	ix := mdIndexOf(t, data)
	if ix.doc.Version != "4.0" {
		t.Errorf("Edmx Version = %q", ix.doc.Version)
	}
	if len(ix.doc.Schemas) == 0 || ix.doc.Schemas[0].Namespace != "AdminService" {
		t.Fatal("first schema is not AdminService")
	}
	if c := ix.doc.Schemas[0].Container; c == nil || c.Name != "Container" {
		t.Fatal("no EntityContainer Container in schema AdminService")
	}
}

// The properties, keys and actions of SMS_TaskSequencePackage, as clients
// see them in the real AdminService.
func TestMetadataTaskSequencePackage(t *testing.T) {
	ix := mdIndexOf(t, mdGenerate(t, mdRegistry(t)))
	ts := ix.typ(t, "SMS_TaskSequencePackage")
	base := ix.typ(t, "SMS_PackageBaseclass")
	if ts.XMLName.Local != "EntityType" || ts.BaseType != "AdminService.SMS_PackageBaseclass" || ts.Abstract != "" {
		t.Errorf("SMS_TaskSequencePackage: %s BaseType=%q Abstract=%q", ts.XMLName.Local, ts.BaseType, ts.Abstract)
	}
	if len(ts.Keys) != 0 {
		t.Errorf("SMS_TaskSequencePackage declares a key: %v", ts.Keys)
	}
	if base.XMLName.Local != "EntityType" || base.BaseType != "" || base.Abstract != "true" {
		t.Errorf("SMS_PackageBaseclass: %s BaseType=%q Abstract=%q", base.XMLName.Local, base.BaseType, base.Abstract)
	}
	if len(base.Keys) != 1 || base.Keys[0].Name != "PackageID" {
		t.Errorf("SMS_PackageBaseclass key = %v, want PackageID", base.Keys)
	}
	for _, tc := range []struct{ class, prop, typ, nullable, declaredBy string }{
		{"SMS_TaskSequencePackage", "PackageID", "Edm.String", "false", "SMS_PackageBaseclass"},
		{"SMS_TaskSequencePackage", "PackageSize", "Edm.Int64", "", "SMS_PackageBaseclass"},              // UInt32
		{"SMS_TaskSequencePackage", "LastRefreshTime", "Edm.DateTimeOffset", "", "SMS_PackageBaseclass"}, // DateTime
		{"SMS_TaskSequencePackage", "Icon", "Edm.Binary", "", "SMS_PackageBaseclass"},                    // UInt8[]
		{"SMS_TaskSequencePackage", "ExtendedData", "Edm.Binary", "", "SMS_PackageBaseclass"},
		{"SMS_TaskSequencePackage", "RefreshSchedule", "Collection(AdminService.SMS_ScheduleToken)", "", "SMS_PackageBaseclass"},
		{"SMS_TaskSequencePackage", "SecuredScopeNames", "Collection(Edm.String)", "", "SMS_PackageBaseclass"},
		{"SMS_TaskSequencePackage", "ForcedDisconnectEnabled", "Edm.Boolean", "", "SMS_PackageBaseclass"},
		// PackageType is overridden by SMS_TaskSequencePackage: declared once, on the base.
		{"SMS_TaskSequencePackage", "PackageType", "Edm.Int64", "", "SMS_PackageBaseclass"},
		{"SMS_TaskSequencePackage", "Sequence", "Edm.String", "", "SMS_TaskSequencePackage"},
		{"SMS_TaskSequencePackage", "References", "Collection(AdminService.SMS_TaskSequence_Reference)", "", "SMS_TaskSequencePackage"},
		{"SMS_TaskSequencePackage", "SupportedOperatingSystems", "Collection(AdminService.SMS_OS_Details)", "", "SMS_TaskSequencePackage"},
		{"SMS_TaskSequencePackage", "Type", "Edm.Int64", "", "SMS_TaskSequencePackage"},
		{"SMS_TaskSequencePackage", "__PATH", "Edm.String", "", "SMS_PackageBaseclass"},
		{"SMS_TaskSequencePackage", "__DERIVATION", "Collection(Edm.String)", "", "SMS_PackageBaseclass"},
		{"SMS_TaskSequencePackage", "__GENUS", "Edm.Int32", "", "SMS_PackageBaseclass"},
		{"SMS_ScheduleToken", "StartTime", "Edm.DateTimeOffset", "", "SMS_ScheduleToken"},
	} {
		p, owner := ix.findProperty(ix.typ(t, tc.class), tc.prop)
		if p == nil {
			t.Errorf("%s.%s: not declared", tc.class, tc.prop)
			continue
		}
		if p.Type != tc.typ || p.Nullable != tc.nullable || owner.Name != tc.declaredBy {
			t.Errorf("%s.%s: Type=%q Nullable=%q declared by %s; want Type=%q Nullable=%q declared by %s",
				tc.class, tc.prop, p.Type, p.Nullable, owner.Name, tc.typ, tc.nullable, tc.declaredBy)
		}
	}

	// Bound actions, with the parameters of the real document.
	for _, tc := range []struct {
		name   string
		params []mdProperty
	}{
		{"RefreshPkgSource", nil},
		{"Unlock", nil},
		{"SetSourceSite", []mdProperty{{Name: "SourceSite", Type: "Edm.String"}}},
		{"AddDistributionPoints", []mdProperty{{Name: "NALPath", Type: "Collection(Edm.String)"}, {Name: "SiteCode", Type: "Collection(Edm.String)"}}},
		{"AddChangeNotification", nil},
	} {
		a := ix.boundAction(tc.name, "AdminService.SMS_TaskSequencePackage")
		if a == nil {
			t.Errorf("no bound action %s on SMS_TaskSequencePackage", tc.name)
			continue
		}
		want := append([]mdProperty{{Name: "bindingParameter", Type: "AdminService.SMS_TaskSequencePackage"}}, tc.params...)
		if !mdSameParams(a.Parameters, want) {
			t.Errorf("%s parameters = %v, want %v", tc.name, a.Parameters, want)
		}
		if a.ReturnType == nil || a.ReturnType.Type != "Edm.Int32" {
			t.Errorf("%s return type = %v, want Edm.Int32", tc.name, a.ReturnType)
		}
	}

	// Static methods: ActionImports named Class.Method, resolvable.
	for _, tc := range []struct {
		name string
		in   []string
	}{
		{"SetSequence", []string{"TaskSequence", "TaskSequencePackage"}},
		{"GetSequence", []string{"TaskSequencePackage"}},
		{"ImportSequence", []string{"SequenceXML"}},
		{"GetTsPolicies", []string{"AdvertisementComment", "AdvertisementFlags", "AdvertisementID", "AdvertisementName", "BootImageID", "PackageID", "SourceSite", "TaskSequence"}},
		{"GetClientConfigPolicies", nil},
		{"GetPackageHash", []string{"PackageID", "SourceVersion"}},
	} {
		name := "SMS_TaskSequencePackage." + tc.name
		target, ok := ix.imports[name]
		if !ok || target != "AdminService."+name {
			t.Errorf("ActionImport %s: Action=%q (present %v)", name, target, ok)
			continue
		}
		acts := ix.actions[target]
		if len(acts) != 1 || acts[0].IsBound == "true" {
			t.Errorf("ActionImport %s: %d actions %s, want one unbound", name, len(acts), target)
			continue
		}
		var got []string
		for _, p := range acts[0].Parameters {
			got = append(got, p.Name)
		}
		if strings.Join(got, ",") != strings.Join(tc.in, ",") {
			t.Errorf("%s parameters = %v, want %v", target, got, tc.in)
		}
	}
	if got := ix.sets["SMS_TaskSequencePackage"]; got != "AdminService.SMS_TaskSequencePackage" {
		t.Errorf("EntitySet SMS_TaskSequencePackage: EntityType=%q", got)
	}
	for _, name := range []string{"SMS_PackageBaseclass", "SMS_TaskSequence_Reference", "SMS_OS_Details", "SMS_ScheduleToken"} {
		if _, ok := ix.sets[name]; ok {
			t.Errorf("EntitySet %s: abstract, keyless or complex types have none", name)
		}
	}
}

func mdSameParams(got, want []mdProperty) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Name != want[i].Name || got[i].Type != want[i].Type {
			return false
		}
	}
	return true
}

// Every class of the registry, checked against the rules of metadata.go.
func TestMetadataFollowsRegistry(t *testing.T) {
	reg := mdRegistry(t)
	ix := mdIndexOf(t, mdGenerate(t, reg))
	mdCheckRegistry(t, reg, ix)
}

func mdCheckRegistry(t *testing.T, reg *cim.Registry, ix *mdIndex) {
	t.Helper()
	served := 0
	for _, c := range reg.Classes() {
		if c.IsPrivate() {
			if _, ok := ix.types["AdminService."+c.Name]; ok {
				t.Errorf("%s is Private (never served) but $metadata declares it", c.Name)
			}
			continue
		}
		served++
	}
	if n := len(ix.types); n != served {
		t.Errorf("%d types for %d served classes", n, served)
	}
	for _, c := range reg.Classes() {
		if c.IsPrivate() {
			continue
		}
		st := ix.typ(t, c.Name)
		wantKind := "EntityType"
		marker := csdl.NewModel(reg, csdl.Faithful).IsMarker(c)
		if c.IsEmbedded() || marker {
			wantKind = "ComplexType"
		}
		if st.XMLName.Local != wantKind {
			t.Errorf("%s: %s, want %s", c.Name, st.XMLName.Local, wantKind)
		}
		if marker {
			if st.BaseType != "" || len(st.Properties) != 0 {
				t.Errorf("%s: marker class written with BaseType %q and %d properties", c.Name, st.BaseType, len(st.Properties))
			}
			for _, sub := range reg.Subclasses(c.Name) {
				if !sub.IsPrivate() && ix.typ(t, sub.Name).BaseType != "" {
					t.Errorf("%s: subclass of the marker class %s has a BaseType", sub.Name, c.Name)
				}
			}
			continue
		}
		chain := ix.chain(st)
		for _, anc := range chain[1:] {
			if !c.IsA(anc.Name) {
				t.Errorf("%s: BaseType chain reaches %s, which is not a superclass", c.Name, anc.Name)
			}
		}
		if chain[len(chain)-1].BaseType != "" {
			t.Errorf("%s: BaseType chain does not end", c.Name)
		}
		// No property is declared twice along the chain.
		seen := map[string]string{}
		for _, typ := range chain {
			for _, p := range typ.Properties {
				if prev, dup := seen[p.Name]; dup {
					t.Errorf("%s: property %s declared by %s and %s", c.Name, p.Name, prev, typ.Name)
				}
				seen[p.Name] = typ.Name
			}
		}
		root := chain[len(chain)-1]
		for i, sp := range csdlSystemProperties {
			if i >= len(root.Properties) || root.Properties[i].Name != sp.name || root.Properties[i].Type != sp.typ {
				t.Errorf("%s: root type %s does not start with the WMI system properties", c.Name, root.Name)
				break
			}
		}
		// Every property of the class is there, with its Edm type.
		for _, p := range c.Properties {
			got, _ := ix.findProperty(st, p.Name)
			if got == nil {
				t.Errorf("%s.%s: not declared", c.Name, p.Name)
				continue
			}
			if want := csdl.EdmType(p.Type); got.Type != want {
				t.Errorf("%s.%s: Type=%q, want %q", c.Name, p.Name, got.Type, want)
			}
			wantNull := ""
			if p.Qualifiers.Has("Not_Null") || (p.IsKey() && wantKind == "EntityType") {
				wantNull = "false"
			}
			if got.Nullable != wantNull {
				t.Errorf("%s.%s: Nullable=%q, want %q", c.Name, p.Name, got.Nullable, wantNull)
			}
		}
		if len(seen) != len(c.Properties)+len(csdlSystemProperties) {
			t.Errorf("%s: %d properties along the chain, want %d", c.Name, len(seen), len(c.Properties)+len(csdlSystemProperties))
		}
		// Keys: declared by exactly one type of the chain.
		var keyed []string
		for _, typ := range chain {
			if len(typ.Keys) > 0 {
				keyed = append(keyed, typ.Name)
			}
		}
		if len(keyed) > 1 {
			t.Errorf("%s: keys on %v", c.Name, keyed)
		}
		if wantKind == "EntityType" && len(c.Keys()) > 0 && len(keyed) != 1 {
			t.Errorf("%s: has key properties but no Key", c.Name)
		}
		// Entity sets.
		_, hasSet := ix.sets[c.Name]
		if want := wantKind == "EntityType" && !c.IsAbstract() && len(keyed) == 1; hasSet != want {
			t.Errorf("%s: EntitySet present=%v, want %v", c.Name, hasSet, want)
		}
		// Methods.
		for _, m := range c.Methods {
			var in []mdProperty
			for _, p := range m.Params {
				if p.In {
					in = append(in, mdProperty{Name: p.Name, Type: csdl.EdmType(p.Type)})
				}
			}
			in = csdl.SortedByName(in, func(p mdProperty) string { return p.Name })
			if m.IsStatic() {
				name := c.Name + "." + m.Name
				if ix.imports[name] != "AdminService."+name {
					t.Errorf("%s: no ActionImport", name)
				}
				acts := ix.actions["AdminService."+name]
				if len(acts) != 1 || !mdSameParams(acts[0].Parameters, in) {
					t.Errorf("%s: unbound action %v, want parameters %v", name, acts, in)
				}
				continue
			}
			// Bound to the class that declares it, or, when an abstract class
			// declares it, to each concrete entity type that inherits it.
			origin, _ := reg.Class(m.Origin)
			a := ix.boundAction(m.Name, "AdminService."+c.Name)
			if c.IsAbstract() || ix.complex(c.Name) || (m.Origin != c.Name && !origin.IsAbstract()) {
				if c.IsAbstract() && a != nil {
					t.Errorf("%s.%s: bound to an abstract class", c.Name, m.Name)
				}
				continue
			}
			if a == nil {
				t.Errorf("%s.%s: no bound action", c.Name, m.Name)
				continue
			}
			if !mdSameParams(a.Parameters[1:], in) {
				t.Errorf("%s.%s: parameters %v, want %v", c.Name, m.Name, a.Parameters[1:], in)
			}
		}
	}
	for name := range ix.imports {
		cls, meth, _ := strings.Cut(name, ".")
		c, ok := reg.Class(cls)
		if !ok {
			t.Errorf("ActionImport %s: no class %s", name, cls)
			continue
		}
		if m, ok := c.Method(meth); !ok || !m.IsStatic() {
			t.Errorf("ActionImport %s: no static method %s", name, meth)
		}
	}
}

// A small schema that exercises every rule, including the ones that the
// real schema does not reach yet.
func TestMetadataRules(t *testing.T) {
	const mof = `
[Abstract] class Marker { };
[Abstract] class Root : Marker {
    [key] string ID;
    string Name;
    uint32 Count;
    sint32 Touch([in] string Zeta, [in] string Alpha, [out] string Result);
    [static] uint32 Next([in] string Prefix, [out] uint32 Value);
};
class Leaf : Root {
    string Name = "x";
    [Not_Null] boolean Enabled = true;
    boolean Soft = false;
    Part Parts[];
    object Any;
    sint32 Touch([in] string Other);
    [static] void Reset();
};
[Embedded] class Part { string A; };
[Embedded] class SubPart : Part { string B; };
[Embedded] class Flat : Root { string C; };
class Loose { string X; };
[Abstract] class Lonely { };
`
	reg, err := cim.Load(fstest.MapFS{"t.mof": {Data: []byte(mof)}})
	if err != nil {
		t.Fatal(err)
	}
	data := mdGenerate(t, reg)
	ix := mdIndexOf(t, data)
	mdCheckRegistry(t, reg, ix)

	if m := ix.typ(t, "Marker"); m.XMLName.Local != "ComplexType" || len(m.Properties) != 0 {
		t.Errorf("marker class: %s with %d properties, want an empty ComplexType", m.XMLName.Local, len(m.Properties))
	}
	if r := ix.typ(t, "Root"); r.BaseType != "" || r.Properties[0].Name != "__GENUS" || r.Abstract != "true" {
		t.Errorf("Root: BaseType=%q first property %s Abstract=%q", r.BaseType, r.Properties[0].Name, r.Abstract)
	}
	leaf := ix.typ(t, "Leaf")
	var names []string
	for _, p := range leaf.Properties {
		names = append(names, p.Name+":"+p.Type+":"+p.Nullable)
	}
	want := "Any:Edm.ComplexType:,Enabled:Edm.Boolean:false,Parts:Collection(AdminService.Part):,Soft:Edm.Boolean:"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("Leaf properties:\n got %s\nwant %s", got, want)
	}
	if f := ix.typ(t, "Flat"); f.XMLName.Local != "ComplexType" || f.BaseType != "" || len(f.Keys) != 0 {
		t.Errorf("Flat (embedded below an entity type): %s BaseType=%q keys=%v", f.XMLName.Local, f.BaseType, f.Keys)
	} else if p, _ := ix.findProperty(f, "ID"); p == nil || p.Nullable != "" {
		t.Errorf("Flat: inherited ID not declared as a plain property: %v", p)
	}
	if s := ix.typ(t, "SubPart"); s.BaseType != "AdminService.Part" || s.XMLName.Local != "ComplexType" {
		t.Errorf("SubPart: %s BaseType=%q", s.XMLName.Local, s.BaseType)
	}
	if l := ix.typ(t, "Lonely"); l.XMLName.Local != "EntityType" || len(l.Properties) != len(csdlSystemProperties) {
		t.Errorf("Lonely (empty root without subclasses): %s with %d properties", l.XMLName.Local, len(l.Properties))
	}
	if a := ix.boundAction("Touch", "AdminService.Leaf"); a == nil || len(a.Parameters) != 2 {
		t.Errorf("Touch overload bound to Leaf: %v", a)
	}
	if a := ix.boundAction("Touch", "AdminService.Root"); a != nil {
		t.Errorf("Touch bound to the abstract Root: %v", a)
	}
	if acts := ix.actions["AdminService.Leaf.Reset"]; len(acts) != 1 || acts[0].ReturnType != nil {
		t.Errorf("void static method: %v", acts)
	}
	if acts := ix.actions["AdminService.Root.Next"]; len(acts) != 1 || acts[0].ReturnType == nil || acts[0].ReturnType.Type != "Edm.Int64" {
		t.Errorf("uint32 static method: %v", acts)
	}
	for _, name := range []string{"Leaf.Next", "Flat.Next"} { // inherited static methods
		if ix.imports[name] != "AdminService."+name {
			t.Errorf("no ActionImport %s", name)
		}
	}
	for set, want := range map[string]bool{"Leaf": true, "Root": false, "Loose": false, "Flat": false, "Part": false} {
		if _, ok := ix.sets[set]; ok != want {
			t.Errorf("EntitySet %s present = %v, want %v", set, ok, want)
		}
	}
	t.Run("CSDL parser", func(t *testing.T) {
		node := mdCSDLCheck(t)
		if out, ok := mdRunCheck(t, node, data); !ok {
			t.Fatalf("the CSDL parser rejects the document:\n%s\n%s", out, data)
		} else {
			t.Logf("check.js: %s", strings.TrimSpace(out))
		}
	})
}

func TestMetadataRejects(t *testing.T) {
	for _, tc := range []struct{ name, mof, want string }{
		{"array key", `class A { [key] string IDs[]; };`, "cannot be an OData key"},
		{"object key", `[Embedded] class E { string X; }; class A { [key] E Ref; };`, "cannot be an OData key"},
		{"second key", `class A { [key] string ID; }; class B : A { [key] string Other; };`, "inherits a key"},
		{"method named like a class", `class A { [key] string ID; sint32 B(); }; class B { string X; };`, "named like a class"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := cim.Load(fstest.MapFS{"t.mof": {Data: []byte(tc.mof)}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Metadata(reg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Metadata error = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Metadata(nil); err == nil {
		t.Fatal("Metadata(nil) did not fail")
	}
}

// mdExtract reads the real AdminService document that we must resemble.
// The extract is not well-formed (it cuts the container's start tag), so it
// is read token by token.
func mdExtract(t *testing.T) (types map[string]*mdStructured, actions []*mdAction, imports []string) {
	t.Helper()
	data, err := os.ReadFile(mdExtractFile)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not found: the shared reference folder is not beside this repository", mdExtractFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	attr := func(se xml.StartElement, name string) string {
		for _, a := range se.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	types = map[string]*mdStructured{}
	var curType *mdStructured
	var curAction *mdAction
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read extract: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "EntityType", "ComplexType":
			curType = &mdStructured{XMLName: se.Name, Name: attr(se, "Name"), BaseType: attr(se, "BaseType"), Abstract: attr(se, "Abstract")}
			types[curType.Name] = curType
			curAction = nil
		case "Action":
			curAction = &mdAction{Name: attr(se, "Name"), IsBound: attr(se, "IsBound")}
			actions = append(actions, curAction)
			curType = nil
		case "PropertyRef":
			if curType != nil {
				curType.Keys = append(curType.Keys, mdNamed{Name: attr(se, "Name")})
			}
		case "Property":
			if curType != nil {
				curType.Properties = append(curType.Properties, mdProperty{Name: attr(se, "Name"), Type: attr(se, "Type"), Nullable: attr(se, "Nullable")})
			}
		case "Parameter":
			if curAction != nil {
				curAction.Parameters = append(curAction.Parameters, mdProperty{Name: attr(se, "Name"), Type: attr(se, "Type")})
			}
		case "ReturnType":
			if curAction != nil {
				curAction.ReturnType = &mdProperty{Type: attr(se, "Type")}
			}
		case "ActionImport":
			imports = append(imports, attr(se, "Name"))
		}
	}
	return types, actions, imports
}

// Our document against the real one, for the classes that both have.
// Differences that follow from a deliberate choice or from the schema are
// logged; those that break a client are errors.
func TestMetadataMatchesExtract(t *testing.T) {
	realTypes, realActions, realImports := mdExtract(t)
	reg := mdRegistry(t)
	ix := mdIndexOf(t, mdGenerate(t, reg))

	strict := map[string]bool{"SMS_TaskSequencePackage": true, "SMS_PackageBaseclass": true,
		"SMS_SecuredCategory": true, "SMS_SecuredCategoryMembership": true}
	for _, c := range reg.Classes() {
		rt := realTypes[c.Name]
		if rt == nil {
			t.Logf("%s: not in the extract", c.Name)
			continue
		}
		ours := ix.typ(t, c.Name)
		if ours.XMLName.Local != rt.XMLName.Local || ours.BaseType != rt.BaseType {
			t.Errorf("%s: %s BaseType=%q; the real document has %s BaseType=%q",
				c.Name, ours.XMLName.Local, ours.BaseType, rt.XMLName.Local, rt.BaseType)
		}
		if ours.Abstract != rt.Abstract {
			t.Logf("DIFF %s: Abstract=%q; real %q", c.Name, ours.Abstract, rt.Abstract)
		}
		if mdNames(ours.Keys) != mdNames(rt.Keys) {
			t.Errorf("%s: key %s; real %s", c.Name, mdNames(ours.Keys), mdNames(rt.Keys))
		}
		report := t.Logf
		if strict[c.Name] {
			report = t.Errorf
		}
		declared := map[string]mdProperty{}
		for _, p := range ours.Properties {
			declared[p.Name] = p
		}
		for _, rp := range rt.Properties {
			p, ok := declared[rp.Name]
			switch {
			case !ok:
				report("DIFF %s.%s (%s): declared by the real document, not by ours", c.Name, rp.Name, rp.Type)
			case p.Type != rp.Type:
				report("DIFF %s.%s: Type=%q; real %q", c.Name, rp.Name, p.Type, rp.Type)
			case p.Nullable != rp.Nullable:
				t.Logf("DIFF %s.%s: Nullable=%q; real %q", c.Name, rp.Name, p.Nullable, rp.Nullable)
			}
			delete(declared, rp.Name)
		}
		for _, p := range ours.Properties {
			if _, extra := declared[p.Name]; extra {
				t.Logf("DIFF %s.%s (%s): declared by ours, not by the real document", c.Name, p.Name, p.Type)
			}
		}
		if strict[c.Name] && len(declared) == 0 {
			var a, b []string
			for _, p := range ours.Properties {
				a = append(a, p.Name)
			}
			for _, p := range rt.Properties {
				b = append(b, p.Name)
			}
			if strings.Join(a, ",") != strings.Join(b, ",") {
				t.Errorf("%s: properties in another order than the real document's", c.Name)
			}
		}
	}

	// Bound actions: the extract lists each right after its type.
	var binding string
	for _, a := range realActions {
		if len(a.Parameters) == 0 {
			continue
		}
		binding = strings.TrimPrefix(a.Parameters[0].Type, "AdminService.")
		if _, ok := reg.Class(binding); !ok {
			continue
		}
		ours := ix.boundAction(a.Name, "AdminService."+binding)
		switch {
		case ours == nil:
			t.Errorf("%s.%s: bound action of the real document missing", binding, a.Name)
		case !mdSameParams(ours.Parameters, a.Parameters):
			t.Errorf("%s.%s: parameters %v; real %v", binding, a.Name, ours.Parameters, a.Parameters)
		case ours.ReturnType == nil || a.ReturnType == nil || ours.ReturnType.Type != a.ReturnType.Type:
			t.Errorf("%s.%s: return type %v; real %v", binding, a.Name, ours.ReturnType, a.ReturnType)
		}
	}

	// Static methods of the real document that our schema lacks.
	for _, name := range realImports {
		cls, _, _ := strings.Cut(name, ".")
		if _, ok := reg.Class(cls); !ok {
			continue
		}
		if _, ok := ix.imports[name]; !ok {
			t.Logf("DIFF ActionImport %s: in the real document, not in ours (no such static method in the schema)", name)
		}
	}
}

func mdNames(ns []mdNamed) string {
	var s []string
	for _, n := range ns {
		s = append(s, n.Name)
	}
	return strings.Join(s, ",")
}

// csdlcheck: the document, parsed by the OASIS OData TC's CSDL parser.

func mdCSDLCheck(t *testing.T) (node string) {
	t.Helper()
	skip := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...) +
			"; install it with: npm ci --prefix internal/adminservice/testdata/csdlcheck"
		if os.Getenv(mdRequireCheck) == "1" {
			t.Fatalf("%s (%s=1)", msg, mdRequireCheck)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node not found on PATH")
	}
	if _, err := os.Stat(filepath.Join(mdCheckDir, "node_modules", "odata-csdl", "package.json")); err != nil {
		skip("odata-csdl is not installed in %s", mdCheckDir)
	}
	return node
}

// mdRunCheck runs check.js on doc and returns its output and whether it
// accepted the document.
func mdRunCheck(t *testing.T, node string, doc []byte) (string, bool) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "metadata.xml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "check.js", file)
	cmd.Dir = mdCheckDir
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), true
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return string(out), false
	default:
		t.Fatalf("node check.js: %v\n%s", err, out)
		return "", false
	}
}

var mdSummary = regexp.MustCompile(`(?m)^ok: CSDL 4\.0, (\d+) schemas, (\d+) entity types \((\d+) with key\), (\d+) complex types, (\d+) actions \((\d+) bound\), (\d+) action imports, (\d+) entity sets`)

func TestMetadataCSDLParser(t *testing.T) {
	node := mdCSDLCheck(t)
	doc := mdGenerate(t, mdRegistry(t))
	out, ok := mdRunCheck(t, node, doc)
	t.Logf("check.js: %s", strings.TrimSpace(out))
	if !ok {
		t.Fatalf("the CSDL parser rejects the generated $metadata:\n%s", out)
	}
	// The parser saw the whole document: its counts are ours.
	m := mdSummary.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary line in %q", out)
	}
	ix := mdIndexOf(t, doc)
	var entity, complexes, keyed, actions, bound, sets, imports int
	for _, s := range ix.doc.Schemas {
		entity += len(s.EntityTypes)
		complexes += len(s.ComplexTypes)
		for _, e := range s.EntityTypes {
			if len(e.Keys) > 0 {
				keyed++
			}
		}
		actions += len(s.Actions)
		for _, a := range s.Actions {
			if a.IsBound == "true" {
				bound++
			}
		}
		if s.Container != nil {
			sets += len(s.Container.EntitySets)
			imports += len(s.Container.ActionImports)
		}
	}
	for i, want := range []int{len(ix.doc.Schemas), entity, keyed, complexes, actions, bound, imports, sets} {
		if got, _ := strconv.Atoi(m[i+1]); got != want {
			t.Errorf("parser summary %q: field %d = %d, want %d", m[0], i+1, got, want)
		}
	}
}

// The parser must reject broken documents, or the test above proves nothing.
// The first cases are rejected by odata-csdl itself, the rest by the
// reference checks of check.js.
func TestMetadataCSDLParserRejects(t *testing.T) {
	node := mdCSDLCheck(t)
	doc := string(mdGenerate(t, mdRegistry(t)))
	const tsType = `<EntityType Name="SMS_TaskSequencePackage" BaseType="AdminService.SMS_PackageBaseclass">`
	for _, tc := range []struct{ name, old, new, want string }{
		{"not well-formed", "</edmx:Edmx>", "</edmx:Edm>", "parse error"},
		{"unexpected element", tsType, tsType + "\n<Bogus />", "unexpected child: Bogus"},
		{"unexpected attribute", tsType, strings.Replace(tsType, ">", ` Colour="red">`, 1), "unexpected attribute"},
		{"property without name", `<Property Name="TsEnabled"`, `<Property`, "missing attribute: Name"},
		{"property declared twice", tsType, tsType + "\n" + `<Property Name="Sequence" Type="Edm.String" />`, "collides"},
		{"unknown BaseType", tsType, strings.Replace(tsType, "SMS_PackageBaseclass", "SMS_NoSuchClass", 1), "BaseType"},
		{"inherited property redeclared", tsType, tsType + "\n" + `<Property Name="PackageID" Type="Edm.String" Nullable="false" />`, "redeclares an inherited property"},
		{"unknown property type", `<Property Name="Sequence" Type="Edm.String"`, `<Property Name="Sequence" Type="AdminService.SMS_Nothing"`, "does not resolve"},
		{"nullable key", `<Property Name="ObjectPath" Type="Edm.String" />` + "\n" + `        <Property Name="PackageID" Type="Edm.String" Nullable="false" />`, `<Property Name="ObjectPath" Type="Edm.String" />` + "\n" + `        <Property Name="PackageID" Type="Edm.String" />`, "key property PackageID is nullable"},
		{"dangling ActionImport", `Action="AdminService.SMS_TaskSequencePackage.SetSequence"`, `Action="AdminService.SMS_TaskSequencePackage.SetSequenceX"`, "is not an unbound action"},
		{"entity set of a keyless type", "</EntityContainer>", `<EntitySet Name="SMS_TaskSequence_Reference" EntityType="AdminService.SMS_TaskSequence_Reference" />` + "\n</EntityContainer>", "which has no key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(doc, tc.old) != 1 {
				t.Fatalf("the document holds %q %d times, want once: fix the test", tc.old, strings.Count(doc, tc.old))
			}
			out, ok := mdRunCheck(t, node, []byte(strings.Replace(doc, tc.old, tc.new, 1)))
			if ok {
				t.Fatalf("check.js accepted a broken document:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("check.js rejected it for another reason (want %q):\n%s", tc.want, out)
			}
		})
	}
}
