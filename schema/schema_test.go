package schema

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
)

// sdkPages is where the public SDK pages live beside the project.
const sdkPages = "../../shared/reference/configmgr-sdk"

// syntaxProperty matches a property line of an SDK page's syntax block:
// "      UInt32 ActionInProgress;" or "String LocalizedCategoryInstanceNames[];".
var syntaxProperty = regexp.MustCompile(`^\s*(\w+)\s+(\w+)(\[\])?;\s*$`)

// TestClassesMatchTheirSDKPages checks that every property in the syntax
// block of a class's SDK page is declared with the same CIM type.
func TestClassesMatchTheirSDKPages(t *testing.T) {
	if _, err := os.Stat(sdkPages); err != nil {
		t.Skipf("SDK pages not found at %s (the shared folder sits beside the project): %v", sdkPages, err)
	}
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{
		"SMS_TaskSequencePackage": "sms_tasksequencepackage-server-wmi-class.md",
		"SMS_PackageBaseclass":    "sms_packagebaseclass-server-wmi-class.md",
	}
	for class, page := range pages {
		t.Run(class, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(sdkPages, page))
			if err != nil {
				t.Fatal(err)
			}
			c, ok := reg.Class(class)
			if !ok {
				t.Fatalf("class %s missing", class)
			}
			block := between(string(data), "```", "```")
			n := 0
			for _, line := range strings.Split(block, "\n") {
				m := syntaxProperty.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				n++
				p, ok := c.Property(m[2])
				if !ok {
					t.Errorf("%s.%s (page) is not declared", class, m[2])
					continue
				}
				want := cim.KindByName(m[1])
				got := p.Type.Kind
				if want == cim.Invalid {
					want, got = cim.Object, p.Type.Kind
					if p.Type.Class != m[1] {
						t.Errorf("%s.%s: type %s, page says %s", class, p.Name, p.Type, m[1])
					}
				}
				if got != want || p.Type.Array != (m[3] != "") {
					t.Errorf("%s.%s: type %s, page says %s%s", class, p.Name, p.Type, m[1], m[3])
				}
			}
			if n < 40 {
				t.Fatalf("read only %d properties from the page's syntax block", n)
			}
		})
	}
}

func between(s, open, close string) string {
	_, after, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	inner, _, _ := strings.Cut(after, close)
	return inner
}

// TestTaskSequencePackageRules checks the qualifiers the provider relies on.
func TestTaskSequencePackageRules(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := reg.Class("SMS_TaskSequencePackage")
	for _, name := range []string{"Sequence", "References", "Type", "BootImageID", "Category", "SupportedOperatingSystems", "RefreshSchedule", "TaskSequenceFlags", "ExtendedData", "ISVData"} {
		if p, ok := c.Property(name); !ok || !p.IsLazy() {
			t.Errorf("%s must be lazy", name)
		}
	}
	for _, name := range []string{"PackageID", "Sequence", "References", "ReferencesCount", "Type", "SourceSite", "SourceVersion", "SedoObjectVersion", "SecuredScopeNames", "LastRefreshTime", "SourceDate", "ActionInProgress"} {
		if p, ok := c.Property(name); !ok || !p.IsReadOnly() {
			t.Errorf("%s must be read-only", name)
		}
	}
	if p, _ := c.Property("RefreshSchedule"); func() bool { n, ok := p.MaxElements(); return !ok || n != 15 }() {
		t.Error("RefreshSchedule must hold at most 15 tokens")
	}
	if keys := c.Keys(); len(keys) != 1 || keys[0].Name != "PackageID" {
		t.Errorf("keys %v", keys)
	}
	if !c.Qualifiers.Has("Secured") {
		t.Error("SMS_TaskSequencePackage is Secured")
	}
}

// customActions is the folder of custom action MOF test files.
const customActions = "../testdata/custom-actions"

// TestWithCustomActionsAddsTheSDKSample: the SDK page's own sample MOF
// (namespace instances, pragmas and all) loads; its class is a task
// sequence action with its qualifiers; the built-in registry is unchanged.
func TestWithCustomActionsAddsTheSDKSample(t *testing.T) {
	reg, err := WithCustomActions(filepath.Join(customActions, "sdk-sample"))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := reg.Class("ConfigMgrTSActionControl")
	if !ok || !c.IsA(CustomActionBase) {
		t.Fatalf("the sample's class is missing or not an action")
	}
	if p, ok := c.Property("PackageIDForApplicationExe"); !ok || !p.Qualifiers.Has("TaskSequencePackage") {
		t.Error("PackageIDForApplicationExe is not a package reference")
	}
	if _, ok := c.Property("SupportedEnvironment"); !ok {
		t.Error("the action's inherited properties are missing")
	}
	if got := c.Qualifiers.String("CommandLine"); got != "smsswd.exe /run:%1 Application.exe /user:%2" {
		t.Errorf("CommandLine %q", got)
	}
	builtin, _ := Registry()
	if _, ok := builtin.Class("ConfigMgrTSActionControl"); ok {
		t.Error("the built-in registry gained the custom class")
	}
}

// TestWithCustomActionsRefusesBadFiles: each bad folder gives one line
// naming the file, the line and the reason.
func TestWithCustomActionsRefusesBadFiles(t *testing.T) {
	cases := []struct{ dir, want string }{
		{"broken", filepath.Join(customActions, "broken", "acme.mof") + `:7: expected ";", found "string"`},
		{"clash", filepath.Join(customActions, "clash", "acme.mof") + ":3: class SMS_TaskSequence_RunCommandLineAction clashes with the class declared at tasksequence.mof:"},
		{"not-an-action", filepath.Join(customActions, "not-an-action", "acme.mof") + ":2: class ACME_Settings does not derive from SMS_TaskSequence_Action"},
		{"missing", "missing"},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			_, err := WithCustomActions(filepath.Join(customActions, tc.dir))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is not one line: %q", err)
			}
		})
	}
	if _, err := WithCustomActions(filepath.Join(customActions, "..", "ts-corpus")); err == nil || !strings.Contains(err.Error(), "no *.mof file") {
		t.Errorf("a folder without MOF files: %v", err)
	}
}

// TestMDTClassesAreCustomActions: every BDD_* class derives from
// SMS_TaskSequence_Action, and the PackageIDs that the SCCM templates
// list as references are TaskSequencePackage properties.
func TestMDTClassesAreCustomActions(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range reg.Classes() {
		if !strings.HasPrefix(c.Name, "BDD_") {
			continue
		}
		n++
		if !c.IsA(CustomActionBase) || c.IsAbstract() {
			t.Errorf("%s is not a concrete action", c.Name)
		}
		if c.Qualifiers.String("CommandLine") == "" {
			t.Errorf("%s has no CommandLine", c.Name)
		}
	}
	if n < 12 {
		t.Errorf("%d BDD_* classes, the corpus shows 12 step types", n)
	}
	for _, name := range []string{"BDD_UsePackage", "BDD_Gather"} {
		c, _ := reg.Class(name)
		if p, ok := c.Property("PackageID"); !ok || !p.Qualifiers.Has("TaskSequencePackage") {
			t.Errorf("%s.PackageID is not a package reference", name)
		}
	}
}
