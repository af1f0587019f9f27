package cim

import (
	"strings"
	"testing"
	"testing/fstest"
)

const testMOF = `
#pragma namespace("\\\\.\\root\\sms")
// a base class
[Abstract]
class Base
{
    [key, read] string ID;
    /* block
       comment */
    [bits{"A(0)", "B(3)"}] uint32 Flags = 9;
    string Tags[] = {"x", "y"};
    [Range("1-7")] uint32 Day = 1;
    [ValueMap{"GB", "MB"}] string Unit = "MB";
    datetime When = "20240102030405.000006+060";
    [max(2), lazy] Part Parts[];
    [static] sint32 Make([in] string Name, [out] Base Made);
    sint32 Touch();
};

[Embedded]
class Part
{
    string Label = "it's \"quoted\"";
};

class Leaf : Base
{
    [ValueMap{"MB"}] string Unit = "MB";
    boolean On = true;
};
`

func loadTest(t *testing.T, src string) *Registry {
	t.Helper()
	reg, err := Load(fstest.MapFS{"t.mof": {Data: []byte(src)}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return reg
}

func TestLoadResolvesInheritanceAndOverrides(t *testing.T) {
	reg := loadTest(t, testMOF)
	leaf, ok := reg.Class("LEAF")
	if !ok {
		t.Fatal("class lookup is not case-insensitive")
	}
	if leaf.Superclass != "Base" || leaf.Dynasty() != "Base" || !leaf.IsA("base") {
		t.Errorf("derivation: super %q dynasty %q", leaf.Superclass, leaf.Dynasty())
	}
	if leaf.IsAbstract() {
		t.Error("Abstract must not be inherited")
	}
	var names []string
	for _, p := range leaf.Properties {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "ID,Flags,Tags,Day,Unit,When,Parts,On" {
		t.Errorf("property order %s", got)
	}
	unit, _ := leaf.Property("unit")
	if unit.Origin != "Leaf" {
		t.Errorf("override origin %s", unit.Origin)
	}
	if vals, _ := unit.ValueMap(); len(vals) != 1 {
		t.Errorf("override ValueMap %v", vals)
	}
	base, _ := reg.Class("Base")
	if bu, _ := base.Property("Unit"); bu.Origin != "Base" {
		t.Error("override leaked into the base class")
	}
	if len(leaf.Keys()) != 1 || leaf.Keys()[0].Name != "ID" {
		t.Errorf("keys %v", leaf.Keys())
	}
	if m, ok := leaf.Method("make"); !ok || !m.IsStatic() || len(m.Params) != 2 || !m.Params[1].Out || m.Params[1].In {
		t.Errorf("method Make: %+v", m)
	}
	if m, _ := leaf.Method("Touch"); m.IsStatic() {
		t.Error("Touch is an instance method")
	}
}

func TestDefaultsAreTyped(t *testing.T) {
	reg := loadTest(t, testMOF)
	c, _ := reg.Class("Leaf")
	want := map[string]any{"Flags": int64(9), "Day": int64(1), "Unit": "MB", "On": true}
	for name, v := range want {
		p, _ := c.Property(name)
		if !Equal(p.Default, v) {
			t.Errorf("%s default %#v, want %#v", name, p.Default, v)
		}
	}
	tags, _ := c.Property("Tags")
	if !Equal(tags.Default, []any{"x", "y"}) {
		t.Errorf("Tags default %#v", tags.Default)
	}
	when, _ := c.Property("When")
	d := when.Default.(DateTimeValue)
	if d.DMTF() != "20240102030405.000006+060" {
		t.Errorf("When default %s", d.DMTF())
	}
	part, _ := reg.Class("Part")
	label, _ := part.Property("Label")
	if label.Default != `it's "quoted"` {
		t.Errorf("escaped string default %q", label.Default)
	}
}

func TestLoadErrorsNameTheProblem(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown superclass", "class A : Nope { };", "unknown superclass Nope"},
		{"unknown embedded type", "class A { Nope X; };", "unknown class Nope"},
		{"duplicate class", "class A { }; class A { };", "declared twice"},
		{"missing semicolon", "class A { string X }", "t.mof:1"},
		{"default breaks range", `class A { [Range("1-3")] uint32 X = 9; };`, "outside the allowed range"},
		{"default breaks bits", `class A { [bits{"A(0)"}] uint32 X = 2; };`, "undefined bits"},
		{"bad bits value", `class A { [bits{"A"}] uint32 X; };`, "NAME(position)"},
		{"cycle", "class A : B { }; class B : A { };", "derives from itself"},
		{"type changed in override", "class A { string X; }; class B : A { uint32 X; };", "another type"},
		{"unterminated string", "class A { string X = \"abc; };", "unterminated string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(fstest.MapFS{"t.mof": {Data: []byte(tc.src)}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestPropertyCheck(t *testing.T) {
	reg := loadTest(t, testMOF)
	c, _ := reg.Class("Leaf")
	prop := func(n string) *Property { p, _ := c.Property(n); return p }
	part, _ := reg.Class("Part")
	cases := []struct {
		prop  string
		value any
		ok    bool
	}{
		{"Flags", int64(1 | 8), true},
		{"Flags", int64(2), false},
		{"Flags", int64(-1), false},
		{"Day", int64(7), true},
		{"Day", int64(8), false},
		{"Unit", "mb", true},
		{"Unit", "GB", false},
		{"Parts", []any{NewInstance(part), NewInstance(part)}, true},
		{"Parts", []any{NewInstance(part), NewInstance(part), NewInstance(part)}, false},
	}
	for _, tc := range cases {
		err := prop(tc.prop).Check(tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("%s = %v: error %v, want ok=%v", tc.prop, tc.value, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), tc.prop) {
			t.Errorf("error %q does not name the property", err)
		}
	}
}

// TestExtendAddsClassesAndKeepsTheBase: Extend builds a new registry whose
// new classes inherit from the base's; the base registry is unchanged;
// instances of __Namespace (custom action MOF boilerplate) are skipped.
func TestExtendAddsClassesAndKeepsTheBase(t *testing.T) {
	base := loadTest(t, testMOF)
	ext, added, err := base.Extend(Source{Name: "dir/ext.mof", Text: []byte(`
#pragma namespace("\\\\.\\root")
instance of __Namespace
{
    Name = "SMS";
};
[Note("x")]
class Twig : Leaf
{
    [Not_Null] string Bud;
};`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 1 || added[0].Name != "Twig" || added[0].Pos != "dir/ext.mof:8" {
		t.Fatalf("added %d classes, the first %s at %s", len(added), added[0].Name, added[0].Pos)
	}
	twig, ok := ext.Class("twig")
	if !ok || !twig.IsA("Base") {
		t.Fatalf("Twig missing or not derived: %v", twig)
	}
	if _, ok := twig.Property("Unit"); !ok {
		t.Error("Twig lacks the inherited Unit")
	}
	if _, ok := base.Class("Twig"); ok {
		t.Error("Extend changed the base registry")
	}
	if n := len(ext.Subclasses("Leaf")); n != 1 {
		t.Errorf("Leaf has %d subclasses in the extension", n)
	}
}

func TestExtendErrorsNameFileAndLine(t *testing.T) {
	base := loadTest(t, testMOF)
	cases := []struct {
		name, src, want string
	}{
		{"clash with the base", "\n\nclass Leaf : Base { };", "x.mof:3: class Leaf clashes with the class declared at t.mof:"},
		{"does not parse", "class A : Base {\n string X\n};", "x.mof:3:"},
		{"unknown superclass", "class A : Nope { };", "x.mof:1: class A: unknown superclass Nope"},
		{"other instances", "instance of Base { ID = \"1\"; };", "x.mof:1: instance of Base"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := base.Extend(Source{Name: "x.mof", Text: []byte(tc.src)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestIsA: IsA finds a class and its superclasses under any case, and
// no other, whether its names are ASCII (where names of another length
// are not compared) or not.
func TestIsA(t *testing.T) {
	reg, err := Load(fstest.MapFS{"a.mof": {Data: []byte(`
class Base_Class { string K; };
class Base_Class_Step : Base_Class { };
class Base_Class_Step_Two : Base_Class_Step { };
class Other_Class { };
`)}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Class("Base_Class_Step_Two")
	for base, want := range map[string]bool{
		"Base_Class_Step_Two": true, "base_class_step_two": true, "BASE_CLASS_STEP": true, "Base_Class": true,
		"Base_Class_Step_Tw": false, "Base_Class_Step_Twoo": false, "Other_Class": false, "": false,
		"Base_Clas\u212a": false, "Base_Class_Step_Two\u00e9": false,
	} {
		if got := c.IsA(base); got != want {
			t.Errorf("IsA(%q) = %v, want %v", base, got, want)
		}
	}
	k := &Class{Name: "\u212aind", Derivation: []string{"Base"}} // Kelvin sign: folds to "kind", one byte shorter
	if !k.IsA("kind") || !k.IsA("KIND") || !k.IsA("base") || k.IsA("kin") {
		t.Errorf("IsA of a class with a name beyond ASCII")
	}
}
