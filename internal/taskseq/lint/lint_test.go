package lint

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tsprov/tsprov/internal/golden"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/internal/taskseq/taskseqtest"
)

const corpus = taskseqtest.Corpus

// lintFile reads a task sequence file and lints it as the CLI does.
func lintFile(t testing.TB, c *taskseq.Codec, path string, pkgs Packages, cfg *Config) *Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ts, doc, err := c.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	xml, err := c.Marshal(ts, taskseq.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Sequence: ts, Source: data, SequenceXML: xml, BootImageID: doc.PackageProperties["BootImageID"]}
	if pkgs != nil {
		in.Packages = pkgs
	}
	res, err := Run(in, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// sitePackages are the facts a server would pass for every-rule.xml.
var sitePackages = PackageTable{
	"PS100001": {Exists: true, Content: ContentOnDP},
	"PS100002": {Exists: false},
	"PS100003": {Exists: false},
	"PS100004": {Exists: true, Content: ContentNone},
}

var lintCases = []struct {
	name string
	file string
	pkgs Packages
}{
	{"every-rule", "testdata/cases/every-rule.xml", sitePackages},
	{"every-rule-offline", "testdata/cases/every-rule.xml", nil},
	{"mdt-sccm-client", corpus + "keithga__DeployShared__Source_MDT.8443_SCCM_SCCM_Client.xml", nil},
	{"mdt-capture-only", corpus + "keithga__DeployShared__Source_MDT.8443_Templates_CaptureOnly.xml", nil},
	{"mdt-client-8456", corpus + "keithga__DeployShared__Source_MDT.8456_Templates_Client.xml", nil},
	{"psd-rnd", corpus + "FriendsOfMDT__PSD__Templates_PSDRnD.xml", nil},
	{"osdcloud", corpus + "gwblok__garytown__OSD_CloudOSD_OSDCloudTaskSequence__SMS_TaskSequencePackage_MEM000F8_object.xml", nil},
	{"model-support", corpus + "gwblok__garytown__OSD_ModelSupportTS-CM2103__SMS_TaskSequencePackage_PS2009DD_object.xml", nil},
	{"hpia", corpus + "gwblok__garytown__hardware_HP_HPIA-RefFileTS_HPIA_Task_Sequence__SMS_TaskSequencePackage_MEM00169_object.xml", nil},
	{"ipu-citrix", corpus + "microsoft__configmgr-hub__objects_TaskSequence_IPU---Citrix-VDA-and-Windows-10.xml", nil},
	{"upgrade-compat", corpus + "microsoft__configmgr-hub-firstparty__objects_TaskSequence_How-to-use-Windows-10-Upgrade-Compatibility-checks.xml", nil},
	{"build-and-capture", corpus + "microsoft__configmgr-hub__objects_TaskSequence_Windows10---Build-and-Capture.xml", nil},
	{"splash-screen", corpus + "microsoft__configmgr-hub__objects_TaskSequence_Module---Splash-Screen.xml", nil},
}

// TestLintGolden lints corpus files and the every-rule case and compares
// the text report with testdata/golden/<name>.txt (go test -update
// rewrites them).
func TestLintGolden(t *testing.T) {
	c := taskseqtest.Codec(t)
	for _, tc := range lintCases {
		t.Run(tc.name, func(t *testing.T) {
			res := lintFile(t, c, tc.file, tc.pkgs, nil)
			var b bytes.Buffer
			if err := WriteText(&b, []Report{{Artifact: filepath.Base(tc.file), Result: res}}); err != nil {
				t.Fatal(err)
			}
			want := golden.Want(t, filepath.Join("testdata", "golden", tc.name+".txt"), b.Bytes())
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("report differs from the golden file (go test -update to accept):\n%s", b.String())
			}
		})
	}
}

// TestEveryRuleHits: each rule finds something in the cases above, the
// size cases and the corpus.
func TestEveryRuleHits(t *testing.T) {
	c := taskseqtest.Codec(t)
	hit := map[string]bool{}
	for _, tc := range lintCases {
		for _, f := range lintFile(t, c, tc.file, tc.pkgs, nil).Findings {
			hit[f.Rule] = true
		}
	}
	for _, f := range sizeFindings(t, c) {
		hit[f.Rule] = true
	}
	for _, r := range Rules() {
		if !hit[r.ID] {
			t.Errorf("rule %s found nothing", r.ID)
		}
	}
}

// bigSequence builds a sequence of at least n bytes from copies of a
// corpus file's top-level steps.
func bigSequence(t testing.TB, n int) []byte {
	t.Helper()
	data, err := os.ReadFile(corpus + "microsoft__configmgr-hub__objects_TaskSequence_Windows10---Build-and-Capture.xml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	start := strings.Index(s, "<group")
	end := strings.LastIndex(s, "</sequence>")
	body := s[start:end]
	var b strings.Builder
	b.WriteString(s[:start])
	for b.Len() < n {
		b.WriteString(body)
	}
	b.WriteString("</sequence>")
	return []byte(b.String())
}

// sizeFindings lints a sequence over 2 MB as stored, and one of more
// than 4 million characters, whose policy (8 bytes a character) the
// client could not take: a file the site would refuse anyway, linted
// before import.
func sizeFindings(t testing.TB, c *taskseq.Codec) []Finding {
	sizeOnce.Do(func() { sizeCached = measureSizes(t, c) })
	return sizeCached
}

// sizeCached holds sizeFindings' answer: parsing 9 MB once is enough.
var (
	sizeOnce   sync.Once
	sizeCached []Finding
)

func measureSizes(t testing.TB, c *taskseq.Codec) []Finding {
	only := &Config{Rules: map[string]Severity{}}
	for _, r := range Rules() {
		if r.ID != "sequence-too-large" && r.ID != "policy-too-large" {
			only.Rules[r.ID] = Off
		}
	}
	var out []Finding
	for _, size := range []int{3 << 20, 6 << 20} {
		ts, _, err := c.Parse(bigSequence(t, size))
		if err != nil {
			t.Fatal(err)
		}
		xml, err := c.Marshal(ts, taskseq.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(Input{Sequence: ts, SequenceXML: xml}, only)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Findings...)
	}
	return out
}

func TestSizeRules(t *testing.T) {
	c := taskseqtest.Codec(t)
	got := map[string]int{}
	for _, f := range sizeFindings(t, c) {
		got[f.Rule]++
	}
	if got["sequence-too-large"] != 2 || got["policy-too-large"] != 1 {
		t.Errorf("size findings = %v; want sequence-too-large twice and policy-too-large once", got)
	}
	// at the limit, nothing; without the XML, the rules say so
	ts := taskseqtest.ParseFile(t, c, "testdata/cases/every-rule.xml")
	res, err := Run(Input{Sequence: ts, SequenceXML: make([]byte, taskseq.MaxSequenceBytes)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.Rule == "sequence-too-large" || f.Rule == "policy-too-large" {
			t.Errorf("a sequence of exactly 2 MB: %v", f)
		}
	}
	res, err = Run(Input{Sequence: ts}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Unknown, "size") {
		t.Errorf("without the XML, Unknown = %v; want size in it", res.Unknown)
	}
}

// TestPackageFacts: without facts the reference rules say nothing and
// the result says why; with them, each reference is judged.
func TestPackageFacts(t *testing.T) {
	c := taskseqtest.Codec(t)
	offline := lintFile(t, c, "testdata/cases/every-rule.xml", nil, nil)
	if strings.Join(offline.Unknown, ",") != "packages" {
		t.Errorf("offline Unknown = %v; want [packages]", offline.Unknown)
	}
	for _, f := range offline.Findings {
		if f.Rule == "missing-package" || f.Rule == "package-without-content" {
			t.Errorf("offline: %v", f)
		}
	}
	type key struct{ rule, msg string }
	online := lintFile(t, c, "testdata/cases/every-rule.xml", sitePackages, nil)
	got := map[key]bool{}
	for _, f := range online.Findings {
		got[key{f.Rule, f.Message}] = true
	}
	for _, want := range []key{
		{"missing-package", "package PS100002 does not exist"},
		{"package-without-content", "package PS100004 has its content on no distribution point"},
		{"reference-only-disabled", "package PS100003 is named only by disabled steps, and it no longer exists"},
	} {
		if !got[want] {
			t.Errorf("missing finding %v; got %v", want, online.Findings)
		}
	}
	if got[key{"missing-package", "package PS100001 does not exist"}] {
		t.Error("PS100001 exists but was reported missing")
	}
	// a table that knows some packages and not their content
	partial := lintFile(t, c, "testdata/cases/every-rule.xml", PackageTable{"PS100004": {Exists: true}}, nil)
	if strings.Join(partial.Unknown, ",") != "content" {
		t.Errorf("partial Unknown = %v; want [content]", partial.Unknown)
	}
}

func TestConfig(t *testing.T) {
	c := taskseqtest.Codec(t)
	cfg, err := ParseConfig([]byte(`{"rules": {"disabled-step": "off", "Duplicate-Step-Name": "error"}, "knownVariables": ["ComputerPrefix"]}`))
	if err != nil {
		t.Fatal(err)
	}
	res := lintFile(t, c, "testdata/cases/every-rule.xml", nil, cfg)
	for _, f := range res.Findings {
		switch {
		case f.Rule == "disabled-step":
			t.Errorf("disabled-step is off: %v", f)
		case f.Rule == "duplicate-step-name" && f.Severity != Error:
			t.Errorf("duplicate-step-name should be an error: %v", f)
		case f.Rule == "variable-read-before-set" && strings.Contains(f.Message, "ComputerPrefix"):
			t.Errorf("ComputerPrefix is a known variable: %v", f)
		}
	}
	for _, bad := range []string{
		`{"rules": {"no-such-rule": "off"}}`,
		`{"rules": {"disabled-step": "loud"}}`,
		`{"rule": {}}`,
		`not json`,
	} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%s) accepted it", bad)
		}
	}
}

// TestJSONOutput: the JSON report carries every finding with its rule,
// severity name and hint.
func TestJSONOutput(t *testing.T) {
	c := taskseqtest.Codec(t)
	res := lintFile(t, c, "testdata/cases/every-rule.xml", sitePackages, nil)
	var b bytes.Buffer
	if err := WriteJSON(&b, []Report{{Artifact: "every-rule.xml", Result: res}}); err != nil {
		t.Fatal(err)
	}
	want := golden.Want(t, "testdata/golden/every-rule.json", b.Bytes())
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("JSON differs from the golden file:\n%s", b.String())
	}
	var back struct {
		Reports []Report `json:"reports"`
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Reports) != 1 || len(back.Reports[0].Result.Findings) != len(res.Findings) {
		t.Fatalf("JSON round trip lost findings")
	}
	for i, f := range back.Reports[0].Result.Findings {
		if f != res.Findings[i] {
			t.Errorf("finding %d: %+v after JSON; want %+v", i, f, res.Findings[i])
		}
	}
}
