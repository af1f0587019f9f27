package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/golden"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/internal/taskseq/taskseqtest"
)

const corpus = "../../testdata/ts-corpus/"

// fixture is a task sequence from the corpus as a policy input, with the
// secret values its steps hold.
type fixture struct {
	ts      TaskSequence
	secrets []string
}

// loadTS reads a corpus file (edit, if not nil, changes its XML first) as
// the task sequence package id; setSecrets gives every secret property of
// every step a distinct value, so that a test can look for it.
func loadTS(t testing.TB, c *taskseq.Codec, file, id string, edit func(string) string, setSecrets bool) fixture {
	t.Helper()
	data, err := os.ReadFile(corpus + file)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		data = []byte(edit(string(data)))
	}
	ts, _, err := c.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	n := 0
	taskseq.Walk(ts, func(step *cim.Instance, _ []int) bool {
		for _, p := range step.Class.Properties {
			if !p.IsSecret() || p.Type.Array {
				continue
			}
			if v, ok := step.Get(p.Name); ok && v != nil {
				if setSecrets {
					n++
					s := fmt.Sprintf("S3cr&t<%s>#%d", p.Name, n)
					step.Set(p.Name, s)
					secrets = append(secrets, s)
				} else if s, _ := v.(string); s != "" {
					secrets = append(secrets, s)
				}
			}
		}
		return true
	})
	seq, err := c.Marshal(ts, taskseq.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var refs []Reference
	for _, r := range taskseq.References(ts) {
		if r.Type == 0 {
			refs = append(refs, Reference{PackageID: r.Package, Program: r.Program})
		}
	}
	return fixture{
		ts: TaskSequence{
			Package: Package{PackageID: id, Name: strings.TrimSuffix(file, ".xml"), Manufacturer: "Contoso", Language: "English",
				Version: "1.0", Description: "from " + file, SourceVersion: 3, Duration: 720},
			Type: 2, BootImageID: "PS100001", Sequence: string(seq), References: refs,
		},
		secrets: secrets,
	}
}

// packagesFor makes a package for every id (a referenced package of the
// corpus: its name, a size, a hash, one program).
func packagesFor(ids ...string) []Package {
	var out []Package
	for i, id := range ids {
		out = append(out, Package{
			PackageID: id, Name: "Package " + id, Manufacturer: "Contoso", Language: "", Version: fmt.Sprint(i + 1),
			SourceVersion: uint32(i + 1), PackageSize: uint32(1024 * (i + 1)), HasSource: true,
			SourceHash: fmt.Sprintf("%064X", sha256.Sum256([]byte(id))), Duration: 120,
			Programs: []Program{{Name: "Install", CommandLine: "setup.exe /q", Duration: 60}},
		})
	}
	return out
}

func deployment() Deployment {
	return Deployment{
		AdvertisementID: "PS120003", SourceSite: "PS1", Comment: "Windows 11 build",
		AdvertFlags: advShowProgress | advImmediate, RemoteClientFlags: rcfOnDemandLocal | rcfRerunIfFailed,
		PresentTime: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), PresentTimeIsGMT: true,
		MandatoryCountdown: 15,
	}
}

// subTS is a Run Task Sequence step running package id, as ConfigMgr
// writes it (ts-xml-format.md §5).
func subTS(id string) string {
	return `<subtasksequence type="SMS_TaskSequence_SubTasksequence" name="Run ` + id + `" description=""><action>SubTasksequence.exe</action>` +
		`<defaultVarList><variable name="OSDSubTasksequencePackageID" property="TsPackageID">` + id + `</variable>` +
		`<variable name="TsName" property="TsName">Child</variable></defaultVarList></subtasksequence>`
}

type policyCase struct {
	name    string
	in      Input
	secrets []string
	refs    []string // every package a policy must exist for
}

func policyCases(t *testing.T) []policyCase {
	c := taskseqtest.Codec(t)
	capture := loadTS(t, c, "microsoft__configmgr-hub__objects_TaskSequence_Windows10---Build-and-Capture.xml", "PS100009", nil, false)
	server := loadTS(t, c, "keithga__DeployShared__Source_MDT.8443_SCCM_SCCM_Server.xml", "PS10000A", nil, true)
	parent := loadTS(t, c, "microsoft__configmgr-hub__objects_TaskSequence_Windows10---Build-and-Capture.xml", "PS10000B",
		func(s string) string {
			i := strings.LastIndex(s, "</group>")
			return s[:i] + subTS("PS10000C") + s[i:]
		}, false)
	child := loadTS(t, c, "gwblok__garytown__hardware_HP_HPIA-RefFileTS_HPIA_Task_Sequence__SMS_TaskSequencePackage_MEM00169_object.xml", "PS10000C", nil, false)
	parent.ts.CustomProgressMessage = "Installing <Windows> ]]> & drivers"
	child.ts.BootImageID = ""
	child.ts.Type = 1

	return []policyCase{
		{
			name: "references",
			in: Input{Deployment: deployment(), TaskSequence: capture.ts,
				Packages: packagesFor("SCB00021", "SCB00026", "SCB00003", "PS100001")},
			refs: []string{"SCB00021", "SCB00026", "SCB00003", "PS100001"},
		},
		{
			name: "secrets",
			in: Input{Deployment: deployment(), TaskSequence: server.ts,
				Packages: packagesFor("CEN00005", "BDD00006", "CEN0000C", "CEN00003", "CEN00012", "CEN00018", "PS100001")},
			secrets: server.secrets,
			refs:    []string{"CEN00005", "BDD00006", "CEN0000C", "CEN00003", "CEN00012", "CEN00018", "PS100001"},
		},
		{
			name: "child",
			in: Input{Deployment: deployment(), TaskSequence: parent.ts, Children: []TaskSequence{child.ts},
				Packages: packagesFor("SCB00021", "SCB00026", "SCB00003", "PS100001", "MEM000FB", "MEM00141", "MEM0016A")},
			refs: []string{"SCB00021", "SCB00026", "SCB00003", "PS100001", "MEM000FB", "MEM00141", "MEM0016A", "PS10000C"},
		},
	}
}

// TestPolicyGolden: the policy sets of corpus task sequences match their
// golden files (secret values summarised by length and hash, checked
// whole by the tests below).
func TestPolicyGolden(t *testing.T) {
	for _, tc := range policyCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Build(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got := render(set)
			want := golden.Want(t, filepath.Join("testdata", tc.name+".golden"), got)
			if !bytes.Equal(got, want) {
				t.Errorf("policies differ from testdata/%s.golden (rerun with -update to accept):\n%s", tc.name, firstDiff(got, want))
			}
		})
	}
}

var secretValue = regexp.MustCompile(`(secret="1"><value><!\[CDATA\[)([0-9A-F]+)(\]\]>)`)

func render(set Set) []byte {
	var b bytes.Buffer
	for i, d := range set {
		body := secretValue.ReplaceAllStringFunc(d.Body, func(m string) string {
			p := secretValue.FindStringSubmatch(m)
			return fmt.Sprintf("%s<%d hex digits, sha256 %x>%s", p[1], len(p[2]), sha256.Sum256([]byte(p[2])), p[3])
		})
		fmt.Fprintf(&b, "===== PolicyXmls[%d] (%d UTF-16 bytes)\n%s===== PolicyAssignmentXmls[%d]\n%s", i, UTF16Bytes(d.Body), body, i, d.Assignment)
	}
	return b.Bytes()
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n got: %.300s\nwant: %.300s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(al), len(bl))
}

// parsed is what a test reads back from a policy body.
type parsed struct {
	PolicyID, PolicyVersion, PolicySource string
	Class                                 string
	Props                                 map[string][]string
	Secret                                map[string]bool
}

// parseBody reads a policy body with a real XML parser: it must be
// well-formed, one instance.
func parseBody(t *testing.T, body string) parsed {
	t.Helper()
	var doc struct {
		XMLName       xml.Name `xml:"Policy"`
		PolicyType    string   `xml:"PolicyType,attr"`
		SchemaVersion string   `xml:"SchemaVersion,attr"`
		PolicyID      string   `xml:"PolicyID,attr"`
		PolicyVersion string   `xml:"PolicyVersion,attr"`
		PolicySource  string   `xml:"PolicySource,attr"`
		Rules         []struct {
			ID      string `xml:"PolicyRuleID,attr"`
			Actions []struct {
				Type      string `xml:"PolicyActionType,attr"`
				Instances []struct {
					Class string `xml:"class,attr"`
					Props []struct {
						Name   string   `xml:"name,attr"`
						Type   string   `xml:"type,attr"`
						Secret string   `xml:"secret,attr"`
						Values []string `xml:"value"`
					} `xml:"property"`
				} `xml:"instance"`
			} `xml:"PolicyAction"`
		} `xml:"PolicyRule"`
	}
	wellFormed(t, body)
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("policy body does not parse: %v", err)
	}
	if doc.PolicyType != "Machine" || doc.SchemaVersion != "1.00" || len(doc.Rules) != 1 || len(doc.Rules[0].Actions) != 1 ||
		doc.Rules[0].Actions[0].Type != "WMI-XML" || len(doc.Rules[0].Actions[0].Instances) != 1 {
		t.Fatalf("policy body has not the shape of policies.md §2.1:\n%.2000s", body)
	}
	if !guid.MatchString(doc.Rules[0].ID) {
		t.Errorf("PolicyRuleID %q is not a {guid}", doc.Rules[0].ID)
	}
	inst := doc.Rules[0].Actions[0].Instances[0]
	p := parsed{PolicyID: doc.PolicyID, PolicyVersion: doc.PolicyVersion, PolicySource: doc.PolicySource, Class: inst.Class,
		Props: map[string][]string{}, Secret: map[string]bool{}}
	for _, pr := range inst.Props {
		if _, dup := p.Props[pr.Name]; dup {
			t.Errorf("property %s twice", pr.Name)
		}
		p.Props[pr.Name] = pr.Values
		p.Secret[pr.Name] = pr.Secret == "1"
	}
	return p
}

var guid = regexp.MustCompile(`^\{[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\}$`)

// wellFormed reads a document to its end with the standard parser.
func wellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%.500s", err, s)
		}
	}
}

func one(t *testing.T, p parsed, name string) string {
	t.Helper()
	v, ok := p.Props[name]
	if !ok || len(v) != 1 {
		t.Fatalf("%s: property %s: %q, want one value", p.PolicyID, name, v)
	}
	return v[0]
}

// TestPolicySet: ids, versions, order, keys, references, assignments.
func TestPolicySet(t *testing.T) {
	for _, tc := range policyCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Build(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Bodies()) != len(set.Assignments()) || len(set) == 0 {
				t.Fatalf("%d bodies, %d assignments", len(set.Bodies()), len(set.Assignments()))
			}
			advert := tc.in.Deployment.AdvertisementID
			covered := map[string]bool{}
			for i, d := range set {
				p := parseBody(t, d.Body)
				wantClass := classSoftwareDist
				if d.Category == CategoryTaskSequence {
					wantClass = classTaskSequence
				}
				if p.Class != wantClass || d.Class != wantClass {
					t.Errorf("[%d] class %s, want %s", i, p.Class, wantClass)
				}
				pkg, prg := one(t, p, "PKG_PackageID"), one(t, p, "PRG_ProgramID")
				wantID := advert + "-" + pkg + "-" + ProgramHash(prg)
				if p.PolicyID != wantID || d.PolicyID != wantID || p.PolicyVersion != "1.00" || p.PolicySource != "SMS:PS1" {
					t.Errorf("[%d] PolicyID %s version %s source %s, want %s 1.00 SMS:PS1", i, p.PolicyID, p.PolicyVersion, p.PolicySource, wantID)
				}
				if one(t, p, "ADV_AdvertisementID") != advert {
					t.Errorf("[%d] ADV_AdvertisementID %s", i, one(t, p, "ADV_AdvertisementID"))
				}
				if wantClass == classTaskSequence && (prg != "*" || !strings.HasSuffix(wantID, "-6F6BCC28")) {
					t.Errorf("[%d] task sequence policy %s has program %q", i, wantID, prg)
				}
				if i == 0 && (pkg != tc.in.TaskSequence.PackageID || wantClass != classTaskSequence) {
					t.Errorf("PolicyXmls[0] is %s of %s, want the task sequence's policy", wantClass, pkg)
				}
				covered[pkg] = true
				checkAssignment(t, d)
				var req struct {
					XMLName  xml.Name `xml:"SWDReserved"`
					Message  string   `xml:"TSCustomProgressMessage"`
					Schedule string   `xml:"ScheduledMessageID"`
				}
				if err := xml.Unmarshal([]byte(one(t, p, "PRG_Requirements")), &req); err != nil {
					t.Fatalf("[%d] PRG_Requirements: %v", i, err)
				}
				wantMsg := ""
				if i == 0 {
					wantMsg = tc.in.TaskSequence.CustomProgressMessage
				}
				if req.Schedule != wantID || (wantClass == classTaskSequence && pkg == tc.in.TaskSequence.PackageID && req.Message != wantMsg) {
					t.Errorf("[%d] SWDReserved names %q with message %q, want %q %q", i, req.Schedule, req.Message, wantID, wantMsg)
				}
			}
			for _, id := range tc.refs {
				if !covered[id] {
					t.Errorf("no policy for referenced package %s", id)
				}
			}
			// TS_References names every package the sequence refers to.
			root := parseBody(t, set[0].Body)
			got := strings.Join(root.Props["TS_References"], ",")
			var want []string
			for _, r := range tc.in.TaskSequence.References {
				want = append(want, r.PackageID)
			}
			if got != strings.Join(want, ",") || len(want) == 0 {
				t.Errorf("TS_References %q, want %q", got, want)
			}
			if one(t, root, "TS_BootImageID") != "PS100001" {
				t.Errorf("TS_BootImageID %q", one(t, root, "TS_BootImageID"))
			}
		})
	}
}

func checkAssignment(t *testing.T, d Document) {
	t.Helper()
	var a struct {
		XMLName xml.Name `xml:"PolicyAssignment"`
		ID      string   `xml:"PolicyAssignmentID,attr"`
		Policy  []struct {
			ID       string `xml:"PolicyID,attr"`
			Version  string `xml:"PolicyVersion,attr"`
			Category string `xml:"PolicyCategory,attr"`
			Flags    string `xml:"PolicyFlags,attr"`
			Location struct {
				Hash string `xml:"PolicyHash,attr"`
				URL  string `xml:",chardata"`
			} `xml:"PolicyLocation"`
		} `xml:"Policy"`
	}
	wellFormed(t, d.Assignment)
	if err := xml.Unmarshal([]byte(d.Assignment), &a); err != nil {
		t.Fatal(err)
	}
	if !guid.MatchString(a.ID) || len(a.Policy) != 1 {
		t.Fatalf("assignment %s: id %q, %d policies", d.PolicyID, a.ID, len(a.Policy))
	}
	p := a.Policy[0]
	wantFlags := "1"
	if d.Category == CategoryTaskSequence {
		wantFlags = "23"
	}
	if p.ID != d.PolicyID || p.Version != "1.00" || p.Category != d.Category || p.Flags != wantFlags {
		t.Errorf("assignment names %s %s %s flags %s; want %s 1.00 %s flags %s", p.ID, p.Version, p.Category, p.Flags, d.PolicyID, d.Category, wantFlags)
	}
	if want := "http://<mp>/SMS_MP/.sms_pol?" + d.PolicyID + ".1_00"; p.Location.URL != want {
		t.Errorf("PolicyLocation %q, want %q", p.Location.URL, want)
	}
	if p.Location.Hash != "SHA256:"+BodyHash(d.Body) {
		t.Errorf("PolicyHash %s is not the body's", p.Location.Hash)
	}
}

// TestNoSecretInClear: no document holds a secret value of the sequence,
// as written or XML-escaped, and TS_Sequence itself (whose plain text
// holds them) is only ever secret.
func TestNoSecretInClear(t *testing.T) {
	checked := 0
	for _, tc := range policyCases(t) {
		set, err := Build(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range set {
			for _, doc := range []string{d.Body, d.Assignment} {
				for _, s := range tc.secrets {
					checked++
					for _, form := range []string{s, html.EscapeString(s), strings.ReplaceAll(html.EscapeString(s), "&#39;", "&apos;")} {
						if strings.Contains(doc, form) {
							t.Errorf("%s: %s: secret %q in clear", tc.name, d.PolicyID, s)
						}
					}
				}
			}
			p := parseBody(t, d.Body)
			if v, ok := p.Props["TS_Sequence"]; ok && (!p.Secret["TS_Sequence"] || strings.Contains(v[0], "<")) {
				t.Errorf("%s: %s: TS_Sequence is not obfuscated", tc.name, d.PolicyID)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no secret to look for: the secrets case lost its secrets")
	}
}

// TestSecretsRoundTrip decodes every secret="1" value with the recipe of
// policies.md §2.4: TS_Sequence gives back the sequence, secrets and all.
func TestSecretsRoundTrip(t *testing.T) {
	decoded := 0
	for _, tc := range policyCases(t) {
		set, err := Build(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		seqs := map[string]string{tc.in.TaskSequence.PackageID: tc.in.TaskSequence.Sequence}
		for _, c := range tc.in.Children {
			seqs[c.PackageID] = c.Sequence
		}
		for _, d := range set {
			p := parseBody(t, d.Body)
			for name, secret := range p.Secret {
				if !secret {
					continue
				}
				plain, err := Deobfuscate(p.Props[name][0])
				if err != nil {
					t.Fatalf("%s %s: %v", d.PolicyID, name, err)
				}
				if name != "TS_Sequence" || plain != seqs[d.PackageID] {
					t.Errorf("%s %s decodes to %.200q, want the sequence of %s", d.PolicyID, name, plain, d.PackageID)
				}
				for _, s := range tc.secrets {
					if !strings.Contains(plain, html.EscapeString(s)) {
						t.Errorf("decoded sequence lacks secret %q", s)
					}
				}
				decoded++
			}
		}
	}
	if decoded < 4 {
		t.Errorf("decoded %d secret values, want one per task sequence policy (4)", decoded)
	}
}

// TestDeterministic: the same inputs give the same documents, byte for
// byte; a different advertisement gives different ids and keys.
func TestDeterministic(t *testing.T) {
	for _, tc := range policyCases(t) {
		a, err := Build(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Build(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(render(a), render(b)) || strings.Join(a.Bodies(), "") != strings.Join(b.Bodies(), "") {
			t.Errorf("%s: two builds differ", tc.name)
		}
		other := tc.in
		other.Deployment.AdvertisementID = "PS120004"
		c, err := Build(other)
		if err != nil {
			t.Fatal(err)
		}
		if c[0].Body == a[0].Body || c[0].Assignment == a[0].Assignment {
			t.Errorf("%s: another advertisement gives the same policy", tc.name)
		}
	}
}

// TestBuildRefuses: each bad input is refused naming what is wrong.
func TestBuildRefuses(t *testing.T) {
	base := policyCases(t)[0].in
	cases := []struct {
		name   string
		edit   func(*Input)
		kind   errs.Kind
		target string
	}{
		{"no advertisement", func(in *Input) { in.Deployment.AdvertisementID = "" }, errs.Invalid, "AdvertisementID"},
		{"advertisement with a dash", func(in *Input) { in.Deployment.AdvertisementID = "PS1-0003" }, errs.Invalid, "AdvertisementID"},
		{"site of four", func(in *Input) { in.Deployment.SourceSite = "PS12" }, errs.Invalid, "SourceSite"},
		{"no site", func(in *Input) { in.Deployment.SourceSite = "" }, errs.Invalid, "SourceSite"},
		{"control character in comment", func(in *Input) { in.Deployment.Comment = "a\x01b" }, errs.Invalid, "AdvertisementComment"},
		{"missing package", func(in *Input) { in.Packages = in.Packages[1:] }, errs.NotFound, "References"},
		{"missing boot image", func(in *Input) { in.Packages = in.Packages[:3] }, errs.NotFound, "BootImageID"},
		{"over the limit", func(in *Input) { in.Limit = 64 << 10 }, errs.TooLarge, "PackageID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base
			in.Packages = append([]Package(nil), base.Packages...)
			c.edit(&in)
			_, err := Build(in)
			if errs.KindOf(err) != c.kind || errs.TargetOf(err) != c.target {
				t.Fatalf("err = %v (kind %v, target %q), want kind %v naming %s", err, errs.KindOf(err), errs.TargetOf(err), c.kind, c.target)
			}
		})
	}
}

// TestBudget: a task sequence policy over 32 MB is refused with its size
// and the limit; a child has a budget of its own, so a parent and a child
// each under it pass together.
func TestBudget(t *testing.T) {
	big := func(id string, units int) TaskSequence {
		return TaskSequence{Package: Package{PackageID: id, Name: id}, Type: 1,
			Sequence: `<sequence version="3.10"><step name="x" type="SMS_TaskSequence_RunCommandLineAction"><action>` +
				strings.Repeat("a", units) + `</action></step></sequence>`}
	}
	// Each sequence character costs 8 policy bytes: UTF-16 text, hex, UTF-16 policy.
	over := big("PS100010", MaxPolicyBytes/8+1)
	_, err := Build(Input{Deployment: deployment(), TaskSequence: over})
	if errs.KindOf(err) != errs.TooLarge || !strings.Contains(err.Error(), fmt.Sprint(MaxPolicyBytes)) || !strings.Contains(err.Error(), "PS100010") {
		t.Fatalf("err = %v, want TooLarge naming PS100010 and the limit", err)
	}
	parent := big("PS100011", MaxPolicyBytes/8-20000)
	parent.References = []Reference{{PackageID: "PS100012"}}
	child := big("PS100012", MaxPolicyBytes/8-20000)
	set, err := Build(Input{Deployment: deployment(), TaskSequence: parent, Children: []TaskSequence{child}})
	if err != nil {
		t.Fatalf("parent and child each under the budget: %v", err)
	}
	var total int64
	for _, d := range set {
		total += UTF16Bytes(d.Body)
	}
	if len(set) != 2 || total <= MaxPolicyBytes {
		t.Fatalf("%d policies of %d bytes in all, want 2 above %d together", len(set), total, MaxPolicyBytes)
	}
	// a small parent whose child is over the budget: the child is named
	small := big("PS100013", 1000)
	small.References = []Reference{{PackageID: "PS100014"}}
	_, err = Build(Input{Deployment: deployment(), TaskSequence: small, Children: []TaskSequence{big("PS100014", MaxPolicyBytes/8+1)}})
	if errs.KindOf(err) != errs.TooLarge || !strings.Contains(err.Error(), "task sequence PS100014 is ") || !strings.Contains(err.Error(), fmt.Sprint(MaxPolicyBytes)) {
		t.Fatalf("child over the budget: err = %v, want TooLarge naming PS100014, its size and the limit", err)
	}
	// the size the refusal gives is, within the deployment's few hundred
	// bytes, the one Size computes offline (ts policy-size)
	n, err := Size(over)
	if err != nil || n <= MaxPolicyBytes {
		t.Fatalf("Size of the sequence over the budget: %d, %v", n, err)
	}
	_, err = Build(Input{Deployment: deployment(), TaskSequence: over})
	var got int64
	if m := regexp.MustCompile(` is (\d+) bytes`).FindStringSubmatch(err.Error()); m != nil {
		fmt.Sscan(m[1], &got)
	}
	if got < n-500 || got > n+500 {
		t.Errorf("refusal %q gives the size %d; Size says %d", err, got, n)
	}
}
