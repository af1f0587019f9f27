package adminservice_test

import (
	"encoding/json"
	"fmt"

	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/schema"
)

// corpusDirs are the project's copy of the corpus and the shared one beside
// the project (all of it, when it is there).
var corpusDirs = []string{"../../testdata/ts-corpus", "../../../shared/testdata/ts-corpus"}

// TestEveryCorpusFileGoesThroughSetSequence: every real task sequence of
// the corpus is imported and stored by SetSequence over REST and read back
// unchanged. The sequences ConfigMgr exported (object.xml) are stored with
// no warning, with the References and Type ConfigMgr exported, and with
// DANGLING_REF set exactly when they refer to something (nothing they name
// exists on this server).
func TestEveryCorpusFileGoesThroughSetSequence(t *testing.T) {
	s := newTestServer(t, 0)
	var files []string
	seen := map[string]bool{}
	for _, dir := range corpusDirs {
		m, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
		for _, f := range m {
			if xml := readCorpus(t, f); !seen[xml] { // the shared corpus overlaps the project's copy
				seen[xml] = true
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("no corpus")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			xml := readCorpus(t, f)
			ts := s.importSequence(xml)
			r := s.must(200, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
				"TaskSequencePackage": pkgBody(map[string]any{"Name": "corpus"}), "TaskSequence": ts})
			path, _ := r.body["SavedTaskSequencePackagePath"].(string)
			id := strings.TrimSuffix(strings.TrimPrefix(path, `SMS_TaskSequencePackage.PackageID="`), `"`)
			again := s.getSequence(id)
			warnings, _ := r.body["@tsprov.warnings"].([]any)
			export := strings.HasSuffix(f, "_object.xml")
			if export && len(warnings) > 0 {
				t.Errorf("a sequence ConfigMgr saved gets warnings: %v", warnings)
			}
			for _, w := range warnings {
				if !strings.Contains(fmt.Sprint(w), "Steps[") {
					t.Errorf("a warning that names no step: %v", w)
				}
			}
			// SetSequence derives the referenceList (none when there is
			// nothing to list), the export's Type goes to the package and
			// secrets are never returned: the rest comes back as sent.
			for _, seq := range []map[string]any{ts, again} {
				if ann, ok := seq["@tsprov.xml"].(map[string]any); ok {
					delete(ann, "packageType")
					delete(ann, "references")
					ann["children"] = remove(toStrings(ann["children"]), "referenceList")
				}
				blankSecrets(t, seq)
			}
			if !jsonEqual(again, ts) {
				a, _ := json.Marshal(ts)
				b, _ := json.Marshal(again)
				t.Errorf("GetSequence differs from the sequence stored:\n%s", firstDiff(string(a), string(b)))
			}
			if !export {
				return
			}
			doc, err := taskseq.ReadDocument([]byte(xml), taskseq.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			pkg := s.getOne(id)
			var got, want []string
			refs, _ := pkg["References"].([]any)
			for _, ref := range refs {
				m := ref.(map[string]any)
				got = append(got, fmt.Sprintf("%v|%v|%v", m["Type"], m["Package"], m["Program"]))
			}
			for _, ref := range doc.PackageReferences {
				want = append(want, fmt.Sprintf("%d|%s|%s", ref.Type, ref.Package, ref.Program))
			}
			if doc.PackageProperties["BootImageID"] != "" {
				// the boot image is exported but comes from BootImageID, which this package lacks
				want = remove(want, "0|"+doc.PackageProperties["BootImageID"]+"|*")
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("References %v; ConfigMgr exported %v", got, want)
			}
			if fmt.Sprint(pkg["ReferencesCount"]) != fmt.Sprint(len(refs)) {
				t.Errorf("ReferencesCount %v for %d references", pkg["ReferencesCount"], len(refs))
			}
			if fmt.Sprint(pkg["Type"]) != doc.PackageProperties["Type"] {
				t.Errorf("Type %v; ConfigMgr exported %s", pkg["Type"], doc.PackageProperties["Type"])
			}
			dangling := fmt.Sprint(pkg["TaskSequenceFlags"]) == "1"
			if dangling != (len(refs) > 0) {
				t.Errorf("TaskSequenceFlags %v with %d references to absent packages", pkg["TaskSequenceFlags"], len(refs))
			}
		})
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// blankSecrets empties the values of the Secret and QuasiSecret properties
// (as the schema marks them) anywhere in a JSON object.
func blankSecrets(t *testing.T, v any) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	secret := map[string]bool{}
	for _, c := range reg.Classes() {
		for _, p := range c.Properties {
			if p.Qualifiers.Has("Secret") || p.Qualifiers.Has("QuasiSecret") {
				secret[p.Name] = true
			}
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if _, isString := e.(string); isString && secret[k] {
					x[k] = ""
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

// firstDiff shows where two strings first differ.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(i-150, 0)
	return "sent   …" + a[from:min(i+150, len(a))] + "…\nstored …" + b[from:min(i+150, len(b))] + "…"
}

func remove(list []string, s string) []string {
	out := list[:0]
	for _, e := range list {
		if e != s {
			out = append(out, e)
		}
	}
	return out
}

// TestDisabledStepNamesNoReference: a package that only a disabled step
// names is no reference: no DANGLING_REF, no reverse reference, and the
// sequence is stored without a warning (reporting it is the linter's job).
func TestDisabledStepNamesNoReference(t *testing.T) {
	s := newTestServer(t, 0)
	ts := s.importSequence(`<sequence version="3.10"><step type="SMS_TaskSequence_DownloadPackageContentAction" name="dl" disable="true"><defaultVarList><variable name="OSDDownloadDownloadPackages" property="DownloadPackages">PS1FFFFF</variable></defaultVarList></step></sequence>`)
	r := s.must(200, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
		"TaskSequencePackage": pkgBody(map[string]any{"Name": "disabled"}), "TaskSequence": ts})
	if w, ok := r.body["@tsprov.warnings"]; ok {
		t.Errorf("warnings %v", w)
	}
	path, _ := r.body["SavedTaskSequencePackagePath"].(string)
	id := strings.TrimSuffix(strings.TrimPrefix(path, `SMS_TaskSequencePackage.PackageID="`), `"`)
	pkg := s.getOne(id)
	if fmt.Sprint(pkg["TaskSequenceFlags"]) != "0" || fmt.Sprint(pkg["ReferencesCount"]) != "0" {
		t.Errorf("TaskSequenceFlags %v, ReferencesCount %v", pkg["TaskSequenceFlags"], pkg["ReferencesCount"])
	}
	if seq, _ := pkg["Sequence"].(string); strings.Contains(seq, "<referenceList") {
		t.Errorf("the stored sequence lists a reference: %.300s", seq)
	}
	rev := s.must(200, "GET", "/AdminService/wmi/SMS_TaskSequencePackageReference?$filter=ObjectID%20eq%20'PS1FFFFF'", nil)
	if n := len(rev.body["value"].([]any)); n != 0 {
		t.Errorf("%d reverse references for a package only a disabled step names", n)
	}
}
