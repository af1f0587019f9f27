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
