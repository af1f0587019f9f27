package taskseq

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/golden"
)

func TestExpandCommandLine(t *testing.T) {
	args := map[int]string{1: "PS100004", 2: "cmd /c echo 100%", 6: "0", 7: "1", 9: "OSDisk", 10: "False", 12: "twelve"}
	arg := func(n int) (string, bool) { s, ok := args[n]; return s, ok && s != "" }
	for _, tc := range []struct{ tmpl, want string }{
		{"osdcapturesystemimage.exe", "osdcapturesystemimage.exe"},
		{"OsdDownloadContent.exe ", "OsdDownloadContent.exe "},                                                // trailing space kept
		{"smsswd.exe /run:%1 %2", "smsswd.exe /run:PS100004 cmd /c echo 100%"},                                // %n; a % in a value stays
		{"smsswd.exe /run:%3 %2", "smsswd.exe /run: cmd /c echo 100%"},                                        // no value: nothing
		{"osdjoin.exe /type:%%OSDJoinType%%", "osdjoin.exe /type:%OSDJoinType%"},                              // %%VAR%% is %VAR%
		{"OSDApplyOS.exe<?1: /image:%1,%%OSDImageIndex%%>", "OSDApplyOS.exe /image:PS100004,%OSDImageIndex%"}, // optional part, written
		{"OSDApplyOS.exe<?3: /install:%3>", "OSDApplyOS.exe"},                                                 // optional part, no value
		{"x<?6: /target:%6,%7><?8: /target:%8>", "x /target:0,1"},                                             // two arguments in one part
		{"x<?9: /target:%%%9%%>", "x /target:%OSDisk%"},                                                       // %%%9%%: the argument between percents
		{"x<?10: /runfromnet:%10>", "x /runfromnet:False"},                                                    // two-digit argument
		{"x %12%1", "x twelvePS100004"},                                                                       // digits are read greedily
		{`x <?2:"/a:%2">/b`, `x "/a:cmd /c echo 100%"/b`},                                                     // no space after the colon
		{"x 50% <? y <?z: w> %", "x 50% <? y <?z: w> %"},                                                      // not the grammar: as written
		{"x <?1: unterminated", "x <?1: unterminated"},
	} {
		if got := expandCommandLine(tc.tmpl, arg); got != tc.want {
			t.Errorf("expand(%q) = %q, want %q", tc.tmpl, got, tc.want)
		}
	}
}

// Why a step's <action> in the corpus is not what its class's template
// derives from the step's own properties. Of the files ConfigMgr wrote
// (every object.xml, every Community Hub sequence) only one step differs,
// for an older release; docs/task-sequences.md ("What tsprov writes")
// explains each reason.
const (
	// MDT Deployment Workbench (Lite Touch) Run Command Line: the command
	// stands alone in <action>, with no CommandLine variable and without
	// smsswd.exe.
	reasonWorkbenchCommand = "workbench-command"
	// MDT Deployment Workbench step of a built-in type run by an MDT script
	// (cscript.exe "%SCRIPTROOT%\ZTI….wsf") instead of the product's tool,
	// or an MDT step (BDD_Gather, BDD_Validate) in Lite Touch's form where
	// its class has ConfigMgr's.
	reasonWorkbenchScript = "workbench-script"
	// Written by a ConfigMgr release before an argument existed, or for
	// one (MDT's ConfigMgr templates): the file lacks switches that later
	// releases write (laterSwitches).
	reasonOlderRelease = "older-release"
	// The <action> disagrees with the step's own variables: the fixed text
	// of an MDT template (Restart Computer's smsboot.exe /target:WinPE with
	// an empty Target), or a template edited by hand.
	reasonStale = "stale"
)

// laterSwitches are the command line switches of today's templates that
// the MDT ConfigMgr templates (MDT 2013, 8443) and a Community Hub export
// predate.
var laterSwitches = regexp.MustCompile(` /(hiddenflag|runfromnet|crypt|ignoretpm):[^ ]*| /shutdown:%OSDShutdownPreparedOs%`)

// explainAction says why the file's action differs from the derived one.
func explainAction(r *residue, file, derived string) string {
	switch {
	case r.ActionBound != "":
		return reasonWorkbenchCommand
	case runsMDTScript(file):
		return reasonWorkbenchScript
	case laterSwitches.ReplaceAllString(derived, "") == file:
		return reasonOlderRelease
	}
	return reasonStale
}

const explainedGolden = "testdata/cmdline-explained.txt"

// TestCorpusCommandLines: for every step of the corpus whose class is
// known, expanding the class's CommandLine template from the step's own
// properties gives the <action> the file holds, except exactly the steps
// listed, with their reason, in testdata/cmdline-explained.txt (the test
// fails when one of them starts to match and when a new one appears;
// -update rewrites the list).
func TestCorpusCommandLines(t *testing.T) {
	c := testCodec(t)
	var explained []string
	matched := map[string]int{}
	for _, f := range corpusFiles(t) {
		name := filepath.Base(f)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ts, _, err := c.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// version 3.10 is what ConfigMgr writes (ts-xml-format.md §3);
		// MDT's files are 3.00
		configMgrWrote := ts.String("SchemaVersion") == "3.10"
		Walk(ts, func(step *cim.Instance, path []int) bool {
			r, err := getResidue(step)
			if err != nil {
				t.Fatal(err)
			}
			if r.Action == nil || step.Class.IsA(classGenericAction) || step.Class.IsA(classGroup) {
				return true
			}
			derived, ok := deriveCommandLine(step)
			if !ok {
				t.Errorf("%s %s: class %s has no CommandLine template", name, stepLabel(step, path), step.Class.Name)
				return true
			}
			if derived == *r.Action {
				matched[step.Class.Name]++
				return true
			}
			reason := explainAction(r, *r.Action, derived)
			if configMgrWrote && reason != reasonOlderRelease {
				t.Errorf("%s %s: ConfigMgr wrote an <action> that the template does not give:\n file    %q\n derived %q",
					name, stepLabel(step, path), *r.Action, derived)
				return true
			}
			explained = append(explained, fmt.Sprintf("%s\t%s\t%s", name, stepLabel(step, path), reason))
			return true
		})
	}
	if len(matched) < 20 {
		t.Errorf("derived command lines matched for only %d classes: %v", len(matched), matched)
	}
	got := strings.Join(explained, "\n") + "\n"
	want := golden.Want(t, explainedGolden, []byte(got))
	if got != string(want) {
		t.Errorf("the steps whose <action> the template does not give differ from %s:\n%s\n(if intended: go test ./internal/taskseq -run CorpusCommandLines -update)",
			explainedGolden, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines only one side has.
func lineDiff(want, got string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			m[l]++
		}
		return m
	}
	w, g := count(want), count(got)
	var out []string
	for l, n := range w {
		if g[l] < n {
			out = append(out, "- "+l+" (now derived, or gone)")
		}
	}
	for l, n := range g {
		if w[l] < n {
			out = append(out, "+ "+l+" (a new difference)")
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "(same lines, another order)"
	}
	return strings.Join(out, "\n")
}

// corpusStep parses a file of the project's corpus and returns it with the
// first step of the given name.
func corpusStep(t *testing.T, c *Codec, file, name string) (*cim.Instance, *cim.Instance) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDirs[0], file))
	if err != nil {
		t.Fatal(err)
	}
	ts, _, err := c.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return ts, findStep(t, ts, name)
}

func findStep(t *testing.T, ts *cim.Instance, name string) *cim.Instance {
	t.Helper()
	var found *cim.Instance
	Walk(ts, func(step *cim.Instance, _ []int) bool {
		if found == nil && step.String("Name") == name {
			found = step
		}
		return found == nil
	})
	if found == nil {
		t.Fatalf("no step %q", name)
	}
	return found
}

// writtenAction is the <action> the codec writes for a step.
func writtenAction(t *testing.T, c *Codec, step *cim.Instance) string {
	t.Helper()
	el, err := (&writer{c: c}).step(step, "step")
	if err != nil {
		t.Fatal(err)
	}
	a := el.Child("action")
	if a == nil {
		t.Fatalf("no <action> written for %s", step.Class.Name)
	}
	return a.Text()
}

// viaJSON sends a sequence through its JSON form (annotations included),
// as a client that reads and writes it back does.
func viaJSON(t *testing.T, c *Codec, ts *cim.Instance) *cim.Instance {
	t.Helper()
	back, err := c.Registry().DecodeObject(ts.Class, []byte(jsonOf(t, ts)), "")
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestActionFollowsArguments: a step read from a file keeps its <action>
// while its arguments are unchanged (also after a JSON trip), and gets the
// command line its template derives as soon as one changes; an MDT
// Workbench command line stays the bare command.
func TestActionFollowsArguments(t *testing.T) {
	c := testCodec(t)
	for _, tc := range []struct {
		file, step  string
		change      func(*cim.Instance)
		read, after string
	}{
		{ // the file's action is the derived one
			file: "microsoft__configmgr-hub__objects_TaskSequence_Module---Splash-Screen.xml", step: "Deployment Screen",
			change: func(s *cim.Instance) { s.Set("CommandLine", `cmd.exe /c echo "done"`) },
			read:   `smsswd.exe /run:PS20003E ServiceUI.exe -process:TSProgressUI.exe %SYSTEMROOT%\System32\WindowsPowerShell\v1.0\powershell.exe -NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File Show-OSUpgradeBackground-Variable.ps1`,
			after:  `smsswd.exe /run:PS20003E cmd.exe /c echo "done"`,
		},
		{ // a package taken away: /run: stays, empty
			file: "microsoft__configmgr-hub__objects_TaskSequence_Module---Splash-Screen.xml", step: "Deployment Screen",
			change: func(s *cim.Instance) { s.Values["PackageID"] = nil },
			read:   `smsswd.exe /run:PS20003E ServiceUI.exe -process:TSProgressUI.exe %SYSTEMROOT%\System32\WindowsPowerShell\v1.0\powershell.exe -NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File Show-OSUpgradeBackground-Variable.ps1`,
			after:  `smsswd.exe /run: ServiceUI.exe -process:TSProgressUI.exe %SYSTEMROOT%\System32\WindowsPowerShell\v1.0\powershell.exe -NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File Show-OSUpgradeBackground-Variable.ps1`,
		},
		{ // a stale action (the template edited by hand) stays until an argument changes
			file: "keithga__DeployShared__Source_MDT.8443_SCCM_SCCM_Custom.xml", step: "Install Application",
			change: func(s *cim.Instance) { s.Set("ContinueOnInstallError", false) },
			read:   `smsappinstall.exe /app: /basevar:APPLICATIONS /continueOnError:True`,
			after:  `smsappinstall.exe /app: /basevar:COALESCEDAPPS /continueOnError:False`,
		},
		{ // an older release's action: a changed argument gives today's line
			file: "keithga__DeployShared__Source_MDT.8443_SCCM_SCCM_Client.xml", step: "Apply Operating System Image",
			change: func(s *cim.Instance) { s.Set("ImageIndex", int64(2)) }, // not an argument: the line stands
			read:   `OSDApplyOS.exe /image:CAS0001A,%OSDImageIndex% "/config:CAS00009,%OSDConfigFileName%" /target:%OSDisk%`,
			after:  `OSDApplyOS.exe /image:CAS0001A,%OSDImageIndex% "/config:CAS00009,%OSDConfigFileName%" /target:%OSDisk%`,
		},
		{
			file: "keithga__DeployShared__Source_MDT.8443_SCCM_SCCM_Client.xml", step: "Apply Operating System Image",
			change: func(s *cim.Instance) { s.Set("ImagePackageID", "CAS0002B") },
			read:   `OSDApplyOS.exe /image:CAS0001A,%OSDImageIndex% "/config:CAS00009,%OSDConfigFileName%" /target:%OSDisk%`,
			after:  `OSDApplyOS.exe /image:CAS0002B,%OSDImageIndex% "/config:CAS00009,%OSDConfigFileName%" /target:%OSDisk% /runfromnet:False`,
		},
		{ // MDT Workbench: a step run by an MDT script keeps it, changed or not
			file: "FriendsOfMDT__PSD__Templates_PSDClient.xml", step: "Set DriverPath",
			change: func(s *cim.Instance) { s.Set("VariableValue", `Windows 12\%ModelAlias%`) },
			read:   `cscript.exe "%SCRIPTROOT%\ZTISetVariable.wsf"`,
			after:  `cscript.exe "%SCRIPTROOT%\ZTISetVariable.wsf"`,
		},
		{ // MDT Workbench: the command alone, changed or not
			file: "FriendsOfMDT__PSD__Templates_PSDClient.xml", step: "Configure",
			change: func(s *cim.Instance) { s.Set("CommandLine", `powershell.exe -file %SCRIPTROOT%\Other.ps1`) },
			read:   `powershell.exe -file %SCRIPTROOT%\PSDConfigure.ps1`,
			after:  `powershell.exe -file %SCRIPTROOT%\Other.ps1`,
		},
	} {
		t.Run(tc.step, func(t *testing.T) {
			ts, step := corpusStep(t, c, tc.file, tc.step)
			if got := writtenAction(t, c, step); got != tc.read {
				t.Errorf("unchanged: %q, want the file's %q", got, tc.read)
			}
			back := viaJSON(t, c, ts)
			backStep := findStep(t, back, tc.step)
			if got := writtenAction(t, c, backStep); got != tc.read {
				t.Errorf("unchanged after JSON: %q, want the file's %q", got, tc.read)
			}
			tc.change(step)
			tc.change(backStep)
			if got := writtenAction(t, c, step); got != tc.after {
				t.Errorf("changed: %q, want %q", got, tc.after)
			}
			if got := writtenAction(t, c, backStep); got != tc.after {
				t.Errorf("changed after JSON: %q, want %q", got, tc.after)
			}
		})
	}
}

// builtLikeCorpus are steps built only through JSON, each with the values
// of a step of the corpus that ConfigMgr wrote; MDT's Gather step
// (keithga…MDT.8443_SCCM_SCCM_Client.xml, "Gather") joins the table once
// its class is in the schema.
var builtLikeCorpus = []struct {
	file, step string
	json       string
}{
	{
		file: "microsoft__configmgr-hub__objects_TaskSequence_Module---Splash-Screen.xml", step: "Deployment Screen",
		json: `{"@odata.type": "#AdminService.SMS_TaskSequence_RunCommandLineAction", "Name": "Deployment Screen",
			"PackageID": "PS20003E",
			"CommandLine": "ServiceUI.exe -process:TSProgressUI.exe %SYSTEMROOT%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File Show-OSUpgradeBackground-Variable.ps1"}`,
	},
	{
		file: "microsoft__configmgr-hub__objects_TaskSequence_Windows10---Build-and-Capture.xml", step: "Apply Operating System",
		json: `{"@odata.type": "#AdminService.SMS_TaskSequence_ApplyOperatingSystemAction", "Name": "Apply Operating System",
			"InstallPackageID": "SCB00026", "InstallEditionIndex": 1, "ConfigFilePackage": "SCB00021", "ConfigFileName": "unattend.xml"}`,
	},
}

// TestJSONBuiltSequenceMatchesCorpus: a sequence built only through JSON
// (no annotation) is written with the <action> lines the corpus shows for
// the same steps, and with their references.
func TestJSONBuiltSequenceMatchesCorpus(t *testing.T) {
	c := testCodec(t)
	var steps []string
	for _, b := range builtLikeCorpus {
		steps = append(steps, b.json)
	}
	ts, err := c.Registry().DecodeObject(c.class(classSequence), []byte(`{"Steps": [`+strings.Join(steps, ",")+`]}`), "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Marshal(ts, WriteOptions{References: References(ts)})
	if err != nil {
		t.Fatal(err)
	}
	written, err := c.Decode(reparseBytes(t, out))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := getResidue(written)
	var gotRefs []string
	for _, ref := range r.References {
		p, _ := pairValue(ref, "package")
		gotRefs = append(gotRefs, p)
	}
	var wantRefs []string
	for i, b := range builtLikeCorpus {
		corpusTS, corpusStep := corpusStep(t, c, b.file, b.step)
		builtStep := written.Values["Steps"].([]any)[i].(*cim.Instance)
		cr, _ := getResidue(corpusStep)
		wr, _ := getResidue(builtStep)
		if cr.Action == nil || wr.Action == nil || *wr.Action != *cr.Action {
			t.Errorf("%s: <action> %v, want the corpus's %q", b.step, deref(wr.Action), deref(cr.Action))
		}
		// the packages the corpus step names, in the file's referenceList order
		named := map[string]bool{}
		for _, ref := range appendStepReferences(nil, corpusStep) {
			named[ref.Package] = true
		}
		fr, _ := getResidue(corpusTS)
		for _, ref := range fr.References {
			if p, _ := pairValue(ref, "package"); named[p] {
				wantRefs = append(wantRefs, p)
			}
		}
	}
	if strings.Join(gotRefs, ",") != strings.Join(wantRefs, ",") || len(wantRefs) != 3 {
		t.Errorf("referenceList %v, want %v as the corpus lists them", gotRefs, wantRefs)
	}
}

func reparseBytes(t *testing.T, b []byte) *Element {
	t.Helper()
	root, err := parseTree(b, DefaultLimits)
	if err != nil {
		t.Fatalf("written XML does not parse: %v", err)
	}
	return root
}

func deref(s *string) string {
	if s == nil {
		return "(none)"
	}
	return *s
}
