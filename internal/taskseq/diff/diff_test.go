package diff

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/golden"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/internal/taskseq/taskseqtest"
	"github.com/tsprov/tsprov/schema"
)

const corpus = taskseqtest.Corpus

// base is an MDT-built ConfigMgr client task sequence: 121 steps in nested
// groups, a globalVarList, package references.
const base = corpus + "keithga__DeployShared__Source_MDT.8443_SCCM_SCCM_Client.xml"

// edit changes the text of a task sequence file.
type edit func(t *testing.T, s string) string

// replace replaces old, which must occur exactly n times (n 0: once).
func replace(old, new string) edit {
	return func(t *testing.T, s string) string {
		if c := strings.Count(s, old); c != 1 {
			t.Fatalf("%q occurs %d times, want once", old, c)
		}
		return strings.Replace(s, old, new, 1)
	}
}

// element returns the start and end of the <step> or <group> line that
// contains marker, through its closing tag and line break.
func element(t *testing.T, s, marker string) (int, int) {
	t.Helper()
	i := strings.Index(s, marker)
	if i < 0 || strings.Count(s, marker) != 1 {
		t.Fatalf("%q is not in the file once", marker)
	}
	start := strings.LastIndex(s[:i], "\n") + 1
	tag := strings.TrimSpace(s[start:])
	name := "step"
	if strings.HasPrefix(tag, "<group") {
		name = "group"
	}
	depth, j := 0, start
	for {
		o := strings.Index(s[j:], "<"+name+" ")
		c := strings.Index(s[j:], "</"+name+">")
		if c < 0 {
			t.Fatalf("no end for %q", marker)
		}
		if o >= 0 && o < c {
			depth++
			j += o + 1
			continue
		}
		depth--
		j += c + len("</"+name+">")
		if depth == 0 {
			break
		}
	}
	if k := strings.Index(s[j:], "\n"); k >= 0 {
		j += k + 1
	}
	return start, j
}

// remove removes the element whose line holds marker.
func remove(marker string) edit {
	return func(t *testing.T, s string) string {
		i, j := element(t, s, marker)
		return s[:i] + s[j:]
	}
}

// move moves the element whose line holds marker to before the line that
// holds dest, its text changed by the replacements in rename (old, new, …).
func move(marker, dest string, rename ...string) edit {
	return func(t *testing.T, s string) string {
		i, j := element(t, s, marker)
		block := s[i:j]
		for k := 0; k+1 < len(rename); k += 2 {
			block = strings.Replace(block, rename[k], rename[k+1], 1)
		}
		s = s[:i] + s[j:]
		d := strings.Index(s, dest)
		if d < 0 {
			t.Fatalf("%q not found", dest)
		}
		d = strings.LastIndex(s[:d], "\n") + 1
		return s[:d] + block + s[d:]
	}
}

// copyTo inserts a copy of the element whose line holds marker before the
// line that holds dest, changed by the replacements in rename.
func copyTo(marker, dest string, rename ...string) edit {
	return func(t *testing.T, s string) string {
		i, j := element(t, s, marker)
		block := s[i:j]
		for k := 0; k+1 < len(rename); k += 2 {
			block = strings.Replace(block, rename[k], rename[k+1], 1)
		}
		d := strings.Index(s, dest)
		d = strings.LastIndex(s[:d], "\n") + 1
		return s[:d] + block + s[d:]
	}
}

// wrap puts the elements from the line holding first through the element
// holding last into a new group.
func wrap(first, last, group string) edit {
	return func(t *testing.T, s string) string {
		i, _ := element(t, s, first)
		_, j := element(t, s, last)
		return s[:i] + `<group name="` + group + `" description="">` + "\n" + s[i:j] + "</group>\n" + s[j:]
	}
}

const (
	tattoo   = `name="Tattoo" description=""`
	backup   = `name="Backup" description=""`
	prereqs  = `name="Check Pre-reqs" description=""`
	optIn    = `name="Opt In to CEIP and WER" description="" disable="true"`
	status2  = `name="Set Status 2" description=""`
	status3  = `name="Set Status 3" description=""`
	setupWin = `name="Setup Windows and ConfigMgr" description=""`
	apps     = `<group name="Install Applications" description="">`
	restore  = `name="Restore Groups" description=""`
)

var cases = []struct {
	name  string
	edits []edit
}{
	{"identical", nil},
	{"reformatted", []edit{
		// attribute order, white space, the <action> line, variable order
		replace(`<step type="SMS_TaskSequence_RunCommandLineAction" name="Tattoo" description="" runIn="WinPEandFullOS" successCodeList="0 3010">`,
			`<step   successCodeList='0 3010' runIn="WinPEandFullOS"
			  description=""  name="Tattoo" type="SMS_TaskSequence_RunCommandLineAction" >`),
		replace(`<action>smsswd.exe /run: cscript.exe "%deployroot%\scripts\ztitatoo.wsf"</action>`, `<action>cscript.exe "%deployroot%\scripts\ztitatoo.wsf"</action>`),
		replace("\n        <group name=\"PostInstall\" description=\"\">", "\n<group description=\"\" name=\"PostInstall\">"),
		replace(`<variable name="OSDStateSMPRetryCount" property="SMPRetryCount">3</variable>
        <variable name="OSDStateSMPRetryTime" property="SMPRetryTime">10</variable>`, `<variable property="SMPRetryCount" name="OSDStateSMPRetryCount">3</variable><variable name="OSDStateSMPRetryTime" property="SMPRetryTime">10</variable>`),
	}},
	{"added-removed", []edit{
		remove(backup),
		copyTo(tattoo, optIn, `name="Tattoo"`, `name="Tattoo Again"`, `ztitatoo.wsf"</variable>`, `ztitatoo.wsf" /again</variable>`),
		remove(apps),
	}},
	{"moved", []edit{
		move(prereqs, status2),
		move(setupWin, status3),
	}},
	{"renamed", []edit{
		replace(tattoo, `name="Tattoo Registry" description=""`),
		replace(`<group name="Validation" description="">`, `<group name="Validate Machine" description="">`),
		move(`name="Copy Logs" description="" runIn="WinPEandFullOS" successCodeList="0 3010">
            <action>smsswd.exe /run: cscript "%deployroot%\scripts\zticopylogs.wsf"</action>`, setupWin, `name="Copy Logs"`, `name="Copy Final Logs"`),
	}},
	{"enabled-disabled", []edit{
		replace(optIn, `name="Opt In to CEIP and WER" description=""`),
		replace(tattoo, `name="Tattoo" description="" disable="true"`),
	}},
	{"properties", []edit{
		replace(`<variable name="CommandLine" property="CommandLine" hidden="true">cscript.exe "%deployroot%\scripts\ztitatoo.wsf"</variable>`,
			`<variable name="CommandLine" property="CommandLine" hidden="true">cscript.exe "%deployroot%\scripts\ztitatoo.wsf" /debug:true</variable>`),
		replace(backup, `name="Backup" description="" continueOnError="true"`),
		replace(`name="Check Pre-reqs" description="" runIn="WinPEandFullOS" successCodeList="0 3010"`, `name="Check Pre-reqs" description="" runIn="WinPEandFullOS" successCodeList="0 3010 1641" retryCount="2"`),
		replace(`<group name="PostInstall" description="">`, `<group name="PostInstall" description="After the image is applied">`),
	}},
	{"conditions", []edit{
		replace(`<variable name="Operator">notEquals</variable>
                <variable name="Value">YES</variable>
                <variable name="Variable">DOCAPTURE</variable>`, `<variable name="Operator">equals</variable>
                <variable name="Value">NO</variable>
                <variable name="Variable">DOCAPTURE</variable>`),
		replace(`name="Tattoo" description="" runIn="WinPEandFullOS" successCodeList="0 3010">`, `name="Tattoo" description="" runIn="WinPEandFullOS" successCodeList="0 3010">
            <condition><expression type="SMS_TaskSequence_VariableConditionExpression"><variable name="Operator">exists</variable><variable name="Variable">TattooMe</variable></expression></condition>`),
	}},
	{"variables", []edit{
		replace(`<variable name="OSDStateSMPRetryCount" property="SMPRetryCount">3</variable>`, `<variable name="OSDStateSMPRetryCount" property="SMPRetryCount">5</variable>`),
		replace(`<variable name="OSDAdapterCount" property="NumAdapters">0</variable>`, `<variable name="OSDTimeZone" property="TimeZone">085</variable>`),
	}},
	{"references", []edit{
		replace(`<action>OSDApplyOS.exe /image:CAS0001A,%OSDImageIndex% "/config:CAS00009,%OSDConfigFileName%" /target:%OSDisk%</action>`, `<action>OSDApplyOS.exe /image:CAS0002B,%OSDImageIndex% "/config:CAS00009,%OSDConfigFileName%" /target:%OSDisk%</action>`),
		replace(`<variable name="ImagePackageID" property="ImagePackageID" hidden="true">CAS0001A</variable>`, `<variable name="ImagePackageID" property="ImagePackageID" hidden="true">CAS0002B</variable>`),
	}},
	{"wrapped", []edit{
		wrap(status3, setupWin, "Finish Setup"),
	}},
}

// TestCorpusChanges diffs the corpus file against copies changed by each
// case's edits, text and JSON against golden files.
func TestCorpusChanges(t *testing.T) {
	c := taskseqtest.Codec(t)
	orig, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	from := taskseqtest.Parse(t, c, orig)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := string(orig)
			for _, e := range tc.edits {
				s = e(t, s)
			}
			to := taskseqtest.Parse(t, c, []byte(s))
			res := Compare(Input{Sequence: from, Label: "a/SCCM_Client.xml"}, Input{Sequence: to, Label: "b/SCCM_Client.xml"})
			var txt bytes.Buffer
			if err := res.WriteText(&txt, false); err != nil {
				t.Fatal(err)
			}
			js, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			js = append(js, '\n')
			for _, g := range []struct {
				ext string
				got []byte
			}{{".txt", txt.Bytes()}, {".json", js}} {
				want := golden.Want(t, filepath.Join("testdata", tc.name+g.ext), g.got)
				if !bytes.Equal(g.got, want) {
					t.Errorf("%s differs from testdata/%s%s:\n%s", tc.name, tc.name, g.ext, g.got)
				}
			}
			if (len(tc.edits) == 0 || tc.name == "reformatted") != res.Same() {
				t.Errorf("Same() = %v", res.Same())
			}
		})
	}
}

// TestEveryKind checks that the golden cases together show every kind of
// change.
func TestEveryKind(t *testing.T) {
	seen := map[Kind]bool{}
	names := []string{"package-property"}
	for _, tc := range cases {
		names = append(names, tc.name)
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var res Result
		if err := json.Unmarshal(data, &res); err != nil {
			t.Fatal(err)
		}
		for _, ch := range res.Changes {
			seen[ch.Kind] = true
		}
	}
	for _, k := range Kinds {
		if !seen[k] {
			t.Errorf("no case shows a %s change", k)
		}
	}
}

// TestCorpusRoundTrip: every corpus file equals itself, and equals what
// tsprov writes back from it (the codec may rewrite attributes and the
// <action> line, never what the steps mean).
func TestCorpusRoundTrip(t *testing.T) {
	c := taskseqtest.Codec(t)
	files, _ := filepath.Glob(corpus + "*.xml")
	if len(files) == 0 {
		t.Skip("no corpus")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		a := taskseqtest.Parse(t, c, data)
		out, err := c.Marshal(a, taskseq.WriteOptions{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b := taskseqtest.Parse(t, c, out)
		for _, pair := range [][2]*cim.Instance{{a, a}, {a, b}} {
			if res := Compare(Input{Sequence: pair[0]}, Input{Sequence: pair[1]}); !res.Same() {
				t.Errorf("%s: %d changes, first %+v", filepath.Base(f), len(res.Changes), res.Changes[0])
			}
		}
	}
}

// TestColour: on a terminal the marks and values are coloured; elsewhere
// no escape is written.
func TestColour(t *testing.T) {
	c := taskseqtest.Codec(t)
	orig, _ := os.ReadFile(base)
	s := strings.Replace(string(orig), tattoo, `name="Tattoo" description="" disable="true"`, 1)
	res := Compare(Input{Sequence: taskseqtest.Parse(t, c, orig)}, Input{Sequence: taskseqtest.Parse(t, c, []byte(s))})
	var plain, coloured bytes.Buffer
	res.WriteText(&plain, false)
	res.WriteText(&coloured, true)
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("plain output has escapes: %q", plain.String())
	}
	if !strings.Contains(coloured.String(), red+"-"+reset+" disabled") {
		t.Errorf("coloured output lacks a red mark: %q", coloured.String())
	}
}

// TestSecretsNotShown: a changed secret is reported, its values never.
func TestSecretsNotShown(t *testing.T) {
	c := taskseqtest.Codec(t)
	step := func(password string) []byte {
		return []byte(`<sequence version="3.10"><step type="SMS_TaskSequence_ApplyNetworkSettingsAction" name="Join" description="" runIn="WinPE" successCodeList="0">` +
			`<defaultVarList><variable name="OSDJoinType" property="JoinType">0</variable><variable name="OSDJoinPassword" property="DomainPassword">` + password + `</variable></defaultVarList></step></sequence>`)
	}
	res := Compare(Input{Sequence: taskseqtest.Parse(t, c, step("Winter2026!"))}, Input{Sequence: taskseqtest.Parse(t, c, step("Summer2026!"))})
	var out bytes.Buffer
	res.WriteText(&out, false)
	js, _ := json.Marshal(res)
	if res.Summary[PropertyChanged] != 1 {
		t.Errorf("the password change is not reported:\n%s", out.String())
	}
	for _, s := range []string{out.String(), string(js)} {
		if strings.Contains(s, "Winter") || strings.Contains(s, "Summer") {
			t.Errorf("a secret value leaks: %s", s)
		}
	}
	if !strings.Contains(out.String(), `DomainPassword: (secret) → (secret)`) {
		t.Errorf("output: %s", out.String())
	}
}

// TestPackageProperties: the package properties a user writes are
// compared; those the provider derives are not.
func TestPackageProperties(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	cls, ok := reg.Class("SMS_TaskSequencePackage")
	if !ok {
		t.Fatal("no SMS_TaskSequencePackage")
	}
	pkg := func(name, desc, updated string) *cim.Instance {
		in := cim.NewInstance(cls)
		in.Set("PackageID", "PS100012")
		in.Set("Name", name)
		in.Set("Description", desc)
		in.Set("LastRefreshTime", updated)
		return in
	}
	c := taskseqtest.Codec(t)
	orig, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	ts := taskseqtest.Parse(t, c, orig)
	res := Compare(Input{Package: pkg("Win11", "old", "a"), Sequence: ts, Label: "PS100012@1"},
		Input{Package: pkg("Win11 24H2", "old", "b"), Sequence: ts, Label: "PS100012@2"})
	if len(res.Changes) != 1 || res.Changes[0].Kind != PackageChanged || res.Changes[0].Property != "Name" ||
		*res.Changes[0].Old != `"Win11"` || *res.Changes[0].New != `"Win11 24H2"` {
		t.Errorf("changes: %+v", res.Changes)
	}
	var txt bytes.Buffer
	if err := res.WriteText(&txt, false); err != nil {
		t.Fatal(err)
	}
	js, _ := json.MarshalIndent(res, "", "  ")
	js = append(js, '\n')
	for _, g := range []struct {
		ext string
		got []byte
	}{{".txt", txt.Bytes()}, {".json", js}} {
		if want := golden.Want(t, filepath.Join("testdata", "package-property"+g.ext), g.got); !bytes.Equal(g.got, want) {
			t.Errorf("package-property%s:\n%s", g.ext, g.got)
		}
	}
}
