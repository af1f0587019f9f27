package taskseq

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
)

// refKey compares references as SMS_TaskSequence_Reference objects hold
// them: a package reference without a program has Program "*".
func refKey(r Reference) string {
	return fmt.Sprintf("%d|%s|%s", r.Type, strings.ToUpper(r.Package), strings.ToUpper(r.ListedProgram()))
}

func refKeys(refs []Reference) []string {
	keys := []string{}
	for _, r := range refs {
		keys = append(keys, refKey(r))
	}
	sort.Strings(keys)
	return keys
}

// exportFiles are the Export-CMTaskSequence object.xml files of the corpus.
func exportFiles(t *testing.T) []string {
	var out []string
	for _, f := range corpusFiles(t) {
		if strings.HasSuffix(f, "_object.xml") {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatal("the corpus has no object.xml")
	}
	return out
}

// TestReferencesMatchWhatConfigMgrExported: for every object.xml in the
// corpus, the references computed from the sequence (and the package's
// BootImageID) equal the References ConfigMgr exported in the same file,
// exactly, order aside.
func TestReferencesMatchWhatConfigMgrExported(t *testing.T) {
	c := testCodec(t)
	for _, f := range exportFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ts, doc := parseFile(t, c, f)
			got := WithBootImage(References(ts), doc.PackageProperties["BootImageID"])
			if g, w := refKeys(got), refKeys(doc.PackageReferences); strings.Join(g, "\n") != strings.Join(w, "\n") {
				t.Errorf("computed references differ from the exported ones:\ncomputed %v\nexported %v", g, w)
			}
		})
	}
}

// TestReferenceListMatchesTheSequence: a sequence that ConfigMgr wrote
// with a <referenceList> lists exactly the references tsprov computes
// (the boot image is not in it).
func TestReferenceListMatchesTheSequence(t *testing.T) {
	c := testCodec(t)
	n := 0
	for _, f := range corpusFiles(t) {
		_, doc := parseFile(t, c, f)
		list := doc.Sequence.Child("referenceList")
		if list == nil || doc.Shape == ShapeMDTPackage || len(list.Elements()) == 0 {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			ts, _ := parseFile(t, c, f)
			var want []Reference
			for _, e := range list.Elements() {
				pkg, _ := e.Attr("package")
				prog, _ := e.Attr("program")
				want = append(want, Reference{Package: pkg, Program: prog})
			}
			if g, w := refKeys(References(ts)), refKeys(want); strings.Join(g, "\n") != strings.Join(w, "\n") {
				t.Errorf("computed references differ from the file's referenceList:\ncomputed %v\nlisted   %v", g, w)
			}
		})
	}
	if n == 0 {
		t.Fatal("no corpus file has a referenceList")
	}
}

// TestTypeFollowsTheExports: the Type rule (DeploysOS) gives the Type
// ConfigMgr exported for every object.xml, and SequenceType keeps the
// exported Type of a sequence read from one.
func TestTypeFollowsTheExports(t *testing.T) {
	c := testCodec(t)
	for _, f := range exportFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ts, doc := parseFile(t, c, f)
			exported := doc.PackageProperties["Type"]
			if got := SequenceType(ts); fmt.Sprint(got) != exported {
				t.Errorf("SequenceType = %d; the export says %s", got, exported)
			}
			if exported == "0" {
				return // undocumented; kept as exported, no rule to check
			}
			computed := TypeGeneric
			if DeploysOS(ts) {
				computed = TypeOSD
			}
			if fmt.Sprint(computed) != exported {
				t.Errorf("the rule gives Type %d; ConfigMgr exported %s", computed, exported)
			}
		})
	}
}

// TestReferenceRules: disabled steps and steps of disabled groups at any
// depth contribute nothing; 00000000 and empty values are no package;
// variables refer to nothing fixed; duplicates are listed once.
func TestReferenceRules(t *testing.T) {
	c := testCodec(t)
	const seq = `<sequence version="3.10">
<step type="SMS_TaskSequence_InstallSoftwareAction" name="a"><defaultVarList><variable name="PackageID" property="PackageID">PS100001</variable><variable name="ProgramName" property="ProgramName">Install</variable></defaultVarList></step>
<step type="SMS_TaskSequence_InstallSoftwareAction" name="off" disable="true"><defaultVarList><variable name="PackageID" property="PackageID">PS100002</variable><variable name="ProgramName" property="ProgramName">Install</variable></defaultVarList></step>
<group name="g" disable="true"><group name="inner"><step type="SMS_TaskSequence_DownloadPackageContentAction" name="dl"><defaultVarList><variable name="OSDDownloadDownloadPackages" property="DownloadPackages">PS100003,PS100004</variable></defaultVarList></step></group></group>
<group name="h"><step type="SMS_TaskSequence_DownloadPackageContentAction" name="dl2"><defaultVarList><variable name="OSDDownloadDownloadPackages" property="DownloadPackages">PS100005,%PKG%,PS100001</variable></defaultVarList></step></group>
<step type="SMS_TaskSequence_UpgradeOperatingSystemAction" name="up"><defaultVarList><variable name="OSDUpgradeInstallPackageID" property="InstallPackageID">00000000</variable><variable name="OSDUpgradeDriverPackageID" property="DriverPackageID"></variable><variable name="OSDUpgradeSourcePath" property="InstallPath">\\srv\src</variable></defaultVarList></step>
</sequence>`
	root, err := parseTree([]byte(seq), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.Decode(root)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(refKeys(References(ts)), " ")
	if want := "0|PS100001|* 0|PS100001|INSTALL 0|PS100005|*"; got != want {
		t.Errorf("References = %s; want %s", got, want)
	}
	withBoot := func(id string) string { return strings.Join(refKeys(WithBootImage(References(ts), id)), " ") }
	if got, want := withBoot("00000000"), "0|PS100001|* 0|PS100001|INSTALL 0|PS100005|*"; got != want {
		t.Errorf("with the placeholder boot image: %s; want %s", got, want)
	}
	if got, want := withBoot("PS100009"), "0|PS100001|* 0|PS100001|INSTALL 0|PS100005|* 0|PS100009|*"; got != want {
		t.Errorf("with a boot image: %s; want %s", got, want)
	}
	disabled := strings.Join(refKeys(DisabledReferences(ts)), " ")
	if want := "0|PS100002|INSTALL 0|PS100003|* 0|PS100004|*"; disabled != want {
		t.Errorf("DisabledReferences = %s; want %s", disabled, want)
	}
}

func parseFile(t *testing.T, c *Codec, f string) (*cim.Instance, *Document) {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	ts, doc, err := c.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return ts, doc
}

// RemapReferences moves every reference of a real sequence, disabled
// steps included, to new ids, and References then lists only those.
func TestRemapReferencesMovesEveryReference(t *testing.T) {
	c := testCodec(t)
	for _, f := range exportFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ts, _ := parseFile(t, c, f)
			var before []Reference
			Walk(ts, func(step *cim.Instance, _ []int) bool {
				before = appendStepReferences(before, step)
				return true
			})
			before = dedupe(before)
			mapped := map[string]string{}
			n := RemapReferences(ts, func(id string, typ int64) (string, bool) {
				if typ == 1 {
					return "", false
				}
				to := fmt.Sprintf("NEW%05d", len(mapped))
				if m, ok := mapped[strings.ToUpper(id)]; ok {
					to = m
				}
				mapped[strings.ToUpper(id)] = to
				return to, true
			})
			var after []Reference
			Walk(ts, func(step *cim.Instance, _ []int) bool {
				after = appendStepReferences(after, step)
				return true
			})
			after = dedupe(after)
			if len(after) != len(before) {
				t.Fatalf("%d references before, %d after", len(before), len(after))
			}
			for i, r := range after {
				if r.Type == 0 && (!strings.HasPrefix(r.Package, "NEW") || mapped[strings.ToUpper(before[i].Package)] != r.Package) {
					t.Errorf("reference %d: %s became %s", i, before[i].Package, r.Package)
				}
			}
			if len(mapped) > 0 && n == 0 {
				t.Errorf("mapped %d ids but no value changed", len(mapped))
			}
		})
	}
}
