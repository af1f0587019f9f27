package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const (
	corpus       = "../../testdata/ts-corpus/"
	mdtTemplate  = corpus + "keithga__DeployShared__Source_MDT.8456_Templates_Client.xml"
	objectXML    = corpus + "gwblok__garytown__OSD_CloudOSD_OSDCloudTaskSequence__SMS_TaskSequencePackage_MEM000F8_object.xml"
	mdtSCCM      = corpus + "keithga__DeployShared__Source_MDT.8443_SCCM_SCCM_Client.xml"
	plainHubFile = corpus + "microsoft__configmgr-hub__objects_TaskSequence_Gather-Light.xml"
)

func TestTSShowReadsEveryShape(t *testing.T) {
	for _, f := range []string{mdtTemplate, objectXML, mdtSCCM, plainHubFile} {
		code, out, errOut := runCLI("ts", "show", f)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", f, code, errOut)
		}
		if !strings.HasPrefix(out, "sequence 3.") || !strings.Contains(out, "\n+ ") && !strings.Contains(out, "\n- ") {
			t.Errorf("%s: not a tree:\n%.400s", filepath.Base(f), out)
		}
	}
	_, out, _ := runCLI("ts", "show", mdtTemplate)
	for _, want := range []string{"+ Initialization  <Group>", "<BDD_Gather>", "[disabled]", "if "} {
		if !strings.Contains(out, want) {
			t.Errorf("tree lacks %q:\n%.1500s", want, out)
		}
	}
}

func TestTSValidateFmtRefs(t *testing.T) {
	code, out, _ := runCLI("ts", "validate", plainHubFile, objectXML)
	if code != 0 || strings.Count(out, ": ok") != 2 {
		t.Errorf("validate of valid files: %d\n%s", code, out)
	}
	// a file with a real problem: exit 1, the step and property named
	bad := filepath.Join(t.TempDir(), "bad.xml")
	src, _ := os.ReadFile(plainHubFile)
	os.WriteFile(bad, []byte(strings.Replace(string(src), `name="Output Gather Results"`, `name=""`, 1)), 0o600)
	code, out, _ = runCLI("ts", "validate", bad)
	if code != 1 || !strings.Contains(out, `Steps[0].Steps[4] "": Name: is 0 characters long`) {
		t.Errorf("validate of a bad file: exit %d\n%s", code, out)
	}
	// not well-formed XML (a comment ending in "--->"): refused, as every XML parser does
	malformed := filepath.Join(t.TempDir(), "malformed.xml")
	os.WriteFile(malformed, []byte(`<sequence version="3.10"><!-- note ---></sequence>`), 0o600)
	code, out, errOut := runCLI("ts", "validate", malformed)
	if code != 1 || !strings.Contains(out+errOut, `"--" inside a comment`) {
		t.Errorf("validate of malformed XML: exit %d\n%s%s", code, out, errOut)
	}
	// an MDT template leaves values for the editor to fill: warnings, exit 0
	template := filepath.Join("..", "..", "testdata", "ts-corpus", "keithga__DeployShared__Source_MDT.8443_Templates_StateRestore.xml")
	code, out, _ = runCLI("ts", "validate", template)
	if code != 0 || !strings.Contains(out, `: warning: Steps[0].Steps[3] "Apply Network Settings": NetworkJoinType: is required (Not_Null)`) ||
		!strings.Contains(out, ": ok, with 4 warning(s)") {
		t.Errorf("validate of a template: exit %d\n%s", code, out)
	}
	code, _, errOut = runCLI("ts", "validate", filepath.Join(t.TempDir(), "missing.xml"))
	if code != 1 || !strings.Contains(errOut, "have problems") {
		t.Errorf("missing file: %d %s", code, errOut)
	}

	code, out, _ = runCLI("ts", "fmt", objectXML)
	if code != 0 || !strings.HasPrefix(out, `<sequence version="3.10">`) || strings.Contains(out, "INSTANCE") {
		t.Errorf("fmt of an object.xml: %d %.200s", code, out)
	}
	code, out, _ = runCLI("ts", "fmt", "--indent", plainHubFile)
	if code != 0 || !strings.Contains(out, "\n  <group") {
		t.Errorf("fmt --indent: %d %.300s", code, out)
	}

	code, out, _ = runCLI("ts", "refs", objectXML)
	if code != 0 || !strings.Contains(out, "package  MEM00003") || !strings.Contains(out, "MEM00004") {
		t.Errorf("refs: %d\n%s", code, out)
	}
	notXML := filepath.Join(t.TempDir(), "x.xml")
	os.WriteFile(notXML, []byte("<html><body/></html>"), 0o600)
	code, _, errOut = runCLI("ts", "show", notXML)
	if code != 1 || !strings.Contains(errOut, "not a task sequence") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("show of a non-sequence: %d %q", code, errOut)
	}
	if code, _, _ := runCLI("ts", "frob"); code != 2 {
		t.Errorf("unknown ts command: exit %d", code)
	}
}

// TestTSRefsPrintsWhatConfigMgrExported: for every object.xml of the corpus,
// the rows of `tsprov ts refs` are exactly the References ConfigMgr
// exported in the same file (order aside), with no exception.
func TestTSRefsPrintsWhatConfigMgrExported(t *testing.T) {
	var files []string
	for _, dir := range []string{"../../testdata/ts-corpus", "../../../shared/testdata/ts-corpus"} {
		m, _ := filepath.Glob(filepath.Join(dir, "*_object.xml"))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no object.xml in the corpus")
	}
	c, err := tsCodec("")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		_, doc, err := readTS(c, f)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, r := range doc.PackageReferences {
			kind := "package"
			if r.Type == 1 {
				kind = "application"
			}
			want = append(want, kind+" "+r.Package+" "+r.Program)
		}
		code, out, errOut := runCLI("ts", "refs", f)
		if code != 0 {
			t.Fatalf("%s: ts refs: %d %s", f, code, errOut)
		}
		got := []string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			got = append(got, strings.Join(strings.Fields(line), " "))
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\nts refs  %q\nexported %q", filepath.Base(f), got, want)
		}
	}
}
