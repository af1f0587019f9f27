package adminservice_test

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/policy"
)

const (
	serverCorpusFile = "../../testdata/ts-corpus/keithga__DeployShared__Source_MDT.8443_SCCM_SCCM_Server.xml"
	domainPassword   = "Dom@in-Join-S3cret"
	capturePassword  = "C@pture-S3cret-42"
)

// policyFixture stores the corpus's MDT server task sequence with its six
// references pointing at packages of this site, a boot image, and its two
// passwords set to values a test can look for.
func policyFixture(t *testing.T) (s *testServer, ts, boot string, refs []string) {
	s = newTestServer(t, 0)
	xmlText := readCorpus(t, serverCorpusFile)
	for _, old := range []string{"CEN00005", "BDD00006", "CEN0000C", "CEN00003", "CEN00012", "CEN00018", "CEN00006"} {
		id := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Package " + old, "PkgSourcePath": t.TempDir()}).body["PackageID"].(string)
		xmlText = strings.ReplaceAll(xmlText, old, id)
		if old != "CEN00006" { // in a disabled step only
			refs = append(refs, id)
		}
	}
	xmlText = strings.Replace(xmlText, `property="DomainPassword">password<`, `property="DomainPassword">`+domainPassword+`<`, 1)
	xmlText = strings.Replace(xmlText, `property="CapturePassword">password<`, `property="CapturePassword">`+capturePassword+`<`, 1)
	boot = s.must(201, "POST", "/AdminService/wmi/SMS_BootImagePackage", map[string]any{"Name": "Boot image (x64)", "PkgSourcePath": t.TempDir()}).body["PackageID"].(string)
	ts = s.setSequence(pkgBody(map[string]any{"Name": "Server build", "BootImageID": boot, "Description": "MDT server"}), s.importSequence(xmlText))
	return s, ts, boot, refs
}

func policyCall(method string, args map[string]any) map[string]any {
	base := map[string]any{"AdvertisementID": "PS1F0001", "AdvertisementName": "Media", "AdvertisementComment": "for media", "AdvertisementFlags": 0x00800000}
	for k, v := range args {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	return base
}

func stringsOf(t *testing.T, v any) []string {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("not an array: %v", v)
	}
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.(string)
	}
	return out
}

var secretValue = regexp.MustCompile(`<property name="([A-Za-z_]+)" type="8" secret="1"><value><!\[CDATA\[([0-9A-F]+)\]\]></value>`)

// TestGetTsPolicies: the policies of a stored task sequence, through
// the real server: the task sequence's first, one per reference and the
// boot image, aligned assignments, the passwords never in clear and back
// from TS_Sequence with the §2.4 recipe, the same bytes on every call.
func TestGetTsPolicies(t *testing.T) {
	s, ts, boot, refs := policyFixture(t)
	for _, method := range []string{"GetTsPolicies", "GetTsPoliciesSaMedia"} {
		r := s.must(200, "POST", tsMethods+method, policyCall(method, map[string]any{"PackageID": ts}))
		if fmt.Sprint(r.body["ReturnValue"]) != "0" {
			t.Fatalf("%s: ReturnValue %v", method, r.body["ReturnValue"])
		}
		for _, secret := range []string{domainPassword, capturePassword} {
			if strings.Contains(string(r.raw), secret) {
				t.Errorf("%s: the answer holds the password %q in clear", method, secret)
			}
		}
		bodies, assignments := stringsOf(t, r.body["PolicyXmls"]), stringsOf(t, r.body["PolicyAssignmentXmls"])
		if len(bodies) != len(refs)+2 || len(assignments) != len(bodies) {
			t.Fatalf("%s: %d policies, %d assignments; want %d (the task sequence, %d references, the boot image)", method, len(bodies), len(assignments), len(refs)+2, len(refs))
		}
		if !strings.Contains(bodies[0], `PolicyID="PS1F0001-`+ts+`-6F6BCC28"`) || !strings.Contains(bodies[0], `<instance class="CCM_TaskSequence">`) {
			t.Errorf("%s: PolicyXmls[0] is not the task sequence's policy:\n%.600s", method, bodies[0])
		}
		all := strings.Join(bodies, "")
		for _, id := range append(refs, boot) {
			if !strings.Contains(all, `PolicyID="PS1F0001-`+id+`-6F6BCC28"`) {
				t.Errorf("%s: no policy for %s", method, id)
			}
		}
		// a package's policy carries the hash of its current content
		contents := s.must(200, "GET", "/AdminService/wmi/SMS_Content?$filter="+url.QueryEscape("ContentUniqueID eq '"+refs[0]+".1'"), nil).body["value"].([]any)
		if len(contents) != 1 {
			t.Fatalf("content of %s: %d rows", refs[0], len(contents))
		}
		hash := contents[0].(map[string]any)["ContentHash"].(string)
		if len(hash) != 64 {
			t.Fatalf("content hash %q", hash)
		}
		for _, b := range bodies {
			if strings.Contains(b, `PolicyID="PS1F0001-`+refs[0]+`-`) && !strings.Contains(b, `<property name="PKG_SourceHash" type="8"><value><![CDATA[`+hash+`]]>`) {
				t.Errorf("%s: the policy of %s lacks its content hash %s", method, refs[0], hash)
			}
		}
		for i, a := range assignments {
			var doc struct {
				Policy struct {
					ID string `xml:"PolicyID,attr"`
				} `xml:"Policy"`
			}
			if err := xml.Unmarshal([]byte(a), &doc); err != nil || !strings.Contains(bodies[i], `PolicyID="`+doc.Policy.ID+`"`) {
				t.Errorf("%s: assignment %d (%s) does not name policy %d: %v", method, i, doc.Policy.ID, i, err)
			}
		}
		m := secretValue.FindAllStringSubmatch(bodies[0], -1)
		if len(m) != 1 || m[0][1] != "TS_Sequence" {
			t.Fatalf("%s: secret values %v, want TS_Sequence alone", method, m)
		}
		plain, err := policy.Deobfuscate(m[0][2])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(plain, "<sequence") || !strings.Contains(plain, domainPassword) || !strings.Contains(plain, capturePassword) {
			t.Errorf("%s: TS_Sequence decodes to %.200q…, want the sequence with its passwords", method, plain)
		}
		again := s.must(200, "POST", tsMethods+method, policyCall(method, map[string]any{"PackageID": ts}))
		if string(again.raw) != string(r.raw) {
			t.Errorf("%s: a second call answers other bytes", method)
		}
	}

	// a task sequence in memory, with a boot image
	seq := s.getSequence(ts)
	r := s.must(200, "POST", tsMethods+"GetTsPolicies", policyCall("GetTsPolicies", map[string]any{"TaskSequence": seq, "BootImageID": boot}))
	bodies := stringsOf(t, r.body["PolicyXmls"])
	if len(bodies) != len(refs)+2 || !strings.Contains(bodies[0], `<property name="TS_BootImageID" type="8"><value><![CDATA[`+boot+`]]>`) ||
		!strings.Contains(bodies[0], `-PS100000-6F6BCC28"`) {
		t.Errorf("in memory: %d policies\n%.800s", len(bodies), bodies[0])
	}
}

// TestPolicyMethodArguments: every argument rule of the pages broken one
// at a time answers a non-zero ReturnValue whose details name the
// argument; nothing is written.
func TestPolicyMethodArguments(t *testing.T) {
	s, ts, boot, _ := policyFixture(t)
	coll := s.must(201, "POST", collectionPath, map[string]any{"Name": "Lab"}).body["CollectionID"].(string)
	other := s.must(201, "POST", "/AdminService/wmi/SMS_Package", map[string]any{"Name": "Other"}).body["PackageID"].(string)
	s.must(201, "POST", "/AdminService/wmi/SMS_Program", map[string]any{"PackageID": other, "ProgramName": "Run"})
	taken := s.must(201, "POST", advertPath, map[string]any{"AdvertisementName": "Other", "CollectionID": coll, "PackageID": other, "ProgramName": "Run"}).body["AdvertisementID"].(string)
	seq := s.getSequence(ts)
	cases := []struct {
		name   string
		args   map[string]any
		status int
		arg    string
	}{
		{"both PackageID and TaskSequence", map[string]any{"PackageID": ts, "TaskSequence": seq}, 400, "TaskSequence"},
		{"neither PackageID nor TaskSequence", map[string]any{}, 400, "PackageID"},
		{"TaskSequence without BootImageID", map[string]any{"TaskSequence": seq}, 400, "BootImageID"},
		{"PackageID with BootImageID", map[string]any{"PackageID": ts, "BootImageID": boot}, 400, "BootImageID"},
		{"BootImageID not a boot image", map[string]any{"TaskSequence": seq, "BootImageID": ts}, 400, "BootImageID"},
		{"BootImageID of no package", map[string]any{"TaskSequence": seq, "BootImageID": "PS1FFFFF"}, 400, "BootImageID"},
		{"no AdvertisementID", map[string]any{"PackageID": ts, "AdvertisementID": nil}, 400, "AdvertisementID"},
		{"AdvertisementID with a dash", map[string]any{"PackageID": ts, "AdvertisementID": "PS1-0001"}, 400, "AdvertisementID"},
		{"AdvertisementID of another deployment", map[string]any{"PackageID": ts, "AdvertisementID": taken}, 409, "AdvertisementID"},
		{"unknown PackageID", map[string]any{"PackageID": "PS1FFFFF"}, 404, "PackageID"},
		{"PackageID of a package that is no task sequence", map[string]any{"PackageID": other}, 404, "PackageID"},
		{"unknown SourceSite", map[string]any{"PackageID": ts, "SourceSite": "XYZ"}, 400, "SourceSite"},
		{"AdvertisementFlags with an undefined bit", map[string]any{"PackageID": ts, "AdvertisementFlags": 1}, 400, "AdvertisementFlags"},
		{"AdvertisementName too long", map[string]any{"PackageID": ts, "AdvertisementName": strings.Repeat("n", 257)}, 400, "AdvertisementName"},
		{"AdvertisementComment too long", map[string]any{"PackageID": ts, "AdvertisementComment": strings.Repeat("c", 513)}, 400, "AdvertisementComment"},
		{"AdvertisementComment with a control character", map[string]any{"PackageID": ts, "AdvertisementComment": "a\u0001b"}, 400, "AdvertisementComment"},
	}
	// values of the wrong type are refused while the body is decoded,
	// before the method runs, as for every method: a 400 whose target and
	// details name the argument
	decoding := []struct {
		name string
		args map[string]any
		arg  string
	}{
		{"TaskSequence of another class", map[string]any{"TaskSequence": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_Group", "Name": "g"}, "BootImageID": boot}, "TaskSequence"},
		{"AdvertisementFlags not a number", map[string]any{"PackageID": ts, "AdvertisementFlags": "many"}, "AdvertisementFlags"},
		{"AdvertisementFlags negative", map[string]any{"PackageID": ts, "AdvertisementFlags": -1}, "AdvertisementFlags"},
		{"PackageID not a string", map[string]any{"PackageID": 12}, "PackageID"},
	}
	before := s.must(200, "GET", "/tsprov/v1/events", nil).raw
	for _, method := range []string{"GetTsPolicies", "GetTsPoliciesSaMedia"} {
		for _, c := range decoding {
			r := s.do("POST", tsMethods+method, policyCall(method, c.args))
			details, _ := r.body["error"].(map[string]any)["details"].([]any)
			if r.status != 400 || !strings.Contains(string(r.raw), `"target":"`+c.arg+`"`) || len(details) != 1 {
				t.Errorf("%s, %s: %d %s; want 400 naming %s", method, c.name, r.status, r.raw, c.arg)
			}
		}
		for _, c := range cases {
			r := s.do("POST", tsMethods+method, policyCall(method, c.args))
			if r.status != c.status {
				t.Errorf("%s, %s: status %d, want %d\n%s", method, c.name, r.status, c.status, r.raw)
				continue
			}
			inner, _ := r.body["error"].(map[string]any)["innererror"].(map[string]any)
			statuses, _ := inner["SMS_ExtendedStatus"].([]any)
			if inner == nil || fmt.Sprint(inner["ReturnValue"]) == "0" || len(statuses) != 1 ||
				statuses[0].(map[string]any)["ParameterInfo"] != c.arg {
				t.Errorf("%s, %s: want a non-zero ReturnValue naming %s:\n%s", method, c.name, c.arg, r.raw)
			}
		}
	}
	if after := s.must(200, "GET", "/tsprov/v1/events", nil).raw; string(after) != string(before) {
		t.Error("a refused call changed something")
	}
}

// TestGetClientConfigPolicies: the site's client settings edited over
// REST become the policies; the network access account appears only once
// configured, its password sealed in the store, empty when read back,
// obfuscated in the policy, and each change bumps the version.
func TestGetClientConfigPolicies(t *testing.T) {
	s := newTestServer(t, 0)
	call := func() ([]string, string) {
		r := s.must(200, "POST", tsMethods+"GetClientConfigPolicies", map[string]any{})
		return stringsOf(t, r.body["PolicyXmls"]), string(r.raw)
	}
	bodies, _ := call()
	if len(bodies) != 2 || !strings.Contains(bodies[0], `class="CCM_SoftwareDistributionClientConfig"`) || strings.Contains(strings.Join(bodies, ""), "CCM_NetworkAccessAccount") {
		t.Fatalf("defaults: %d policies\n%s", len(bodies), strings.Join(bodies, "\n"))
	}
	const user, password = `CONTOSO\svc-naa`, "N@a-Passw0rd-Only-Here"
	s.must(201, "POST", "/AdminService/wmi/TSP_ClientSettings", map[string]any{"SiteCode": "PS1", "BrandingTitle": "Contoso IT",
		"NetworkAccessUsername": user, "NetworkAccessPassword": password})
	got := s.must(200, "GET", "/AdminService/wmi/TSP_ClientSettings('PS1')", nil).body["value"].([]any)[0].(map[string]any)
	if got["NetworkAccessPassword"] != "" || got["NetworkAccessUsername"] != user {
		t.Errorf("read back: %v", got)
	}
	bodies, raw := call()
	if len(bodies) != 3 || strings.Contains(raw, password) || strings.Contains(raw, "svc-naa") || !strings.Contains(raw, "Contoso IT") {
		t.Fatalf("with an account: %d policies, password or user in clear: %v\n%s", len(bodies), strings.Contains(raw, password), raw)
	}
	naa := bodies[2]
	if !strings.Contains(naa, `class="CCM_NetworkAccessAccount"`) || !strings.Contains(naa, `PolicyVersion="1.00"`) {
		t.Fatalf("third policy:\n%s", naa)
	}
	decoded := map[string]string{}
	for _, m := range secretValue.FindAllStringSubmatch(naa, -1) {
		v, err := policy.Deobfuscate(m[2])
		if err != nil {
			t.Fatal(err)
		}
		decoded[m[1]] = v
	}
	if decoded["NetworkAccessUsername"] != user || decoded["NetworkAccessPassword"] != password {
		t.Errorf("decoded %v", decoded)
	}
	// sealed at rest: no file of the store holds the password
	files, _ := filepath.Glob(s.db + "*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), password) {
			t.Errorf("%s holds the password in clear", f)
		}
	}
	// a change with the password read back empty keeps it, and bumps the version
	s.must(200, "PATCH", "/AdminService/wmi/TSP_ClientSettings('PS1')", map[string]any{"BrandingTitle": "Contoso", "NetworkAccessPassword": ""})
	bodies, _ = call()
	if len(bodies) != 3 || !strings.Contains(bodies[2], `PolicyVersion="2.00"`) {
		t.Fatalf("after a change: %d policies\n%s", len(bodies), bodies[len(bodies)-1])
	}
	for _, m := range secretValue.FindAllStringSubmatch(bodies[2], -1) {
		if v, _ := policy.Deobfuscate(m[2]); m[1] == "NetworkAccessPassword" && v != password {
			t.Errorf("password after a change: %q", v)
		}
	}
	// bad input
	for _, b := range []struct {
		body   map[string]any
		target string
	}{
		{map[string]any{"SiteCode": "XYZ"}, "SiteCode"},
		{map[string]any{"SiteCode": "PS2", "NetworkAccessUsername": "u"}, "SiteCode"},
	} {
		r := s.do("POST", "/AdminService/wmi/TSP_ClientSettings", b.body)
		if r.status != 400 || !strings.Contains(string(r.raw), `"target":"`+b.target+`"`) {
			t.Errorf("%v: %d %s", b.body, r.status, r.raw)
		}
	}
	// removing the account removes its policy
	s.must(200, "PATCH", "/AdminService/wmi/TSP_ClientSettings('PS1')", map[string]any{"NetworkAccessUsername": ""})
	if bodies, _ := call(); len(bodies) != 2 {
		t.Errorf("without an account: %d policies", len(bodies))
	}
}

// TestGetTsPoliciesOfADeployment: an AdvertisementID that names a stored
// deployment of the package gives the policies that deployment's times,
// flags, countdown and comment (the call's flags and comment, when given,
// win).
func TestGetTsPoliciesOfADeployment(t *testing.T) {
	s, ts, _, _ := policyFixture(t)
	coll := s.must(201, "POST", collectionPath, map[string]any{"Name": "Servers"}).body["CollectionID"].(string)
	ad := s.must(201, "POST", advertPath, map[string]any{
		"@tsprov.force":     true, // its packages are on no distribution point
		"AdvertisementName": "Server build", "CollectionID": coll, "PackageID": ts, "ProgramName": "*",
		"AdvertFlags": 0x00100020, "RemoteClientFlags": 0x10 | 0x1000, "MandatoryCountdown": 30, "Comment": "from the deployment",
		"PresentTime": "20270102030405.000000+000", "PresentTimeEnabled": true, "PresentTimeIsGMT": true,
		"ExpirationTime": "20270202030405.000000+000", "ExpirationTimeEnabled": true,
	}).body["AdvertisementID"].(string)
	r := s.must(200, "POST", tsMethods+"GetTsPolicies", policyCall("GetTsPolicies", map[string]any{"PackageID": ts, "AdvertisementID": ad, "AdvertisementFlags": nil, "AdvertisementComment": nil}))
	body := stringsOf(t, r.body["PolicyXmls"])[0]
	for _, want := range []string{
		`<property name="ADV_ActiveTime" type="101"><value><![CDATA[20270102030405.000000+000]]>`,
		`<property name="ADV_ActiveTimeIsGMT" type="11"><value><![CDATA[true]]>`,
		`<property name="ADV_ExpirationTime" type="101"><value><![CDATA[20270202030405.000000+000]]>`,
		`<property name="ADV_MandatoryAssignments" type="11"><value><![CDATA[true]]>`,
		`<property name="ADV_RCF_InstallFromLocalDPOptions" type="8"><value><![CDATA[DownloadAllContentLocallyBeforeStarting]]>`,
		`<property name="ADV_RepeatRunBehavior" type="8"><value><![CDATA[RerunNever]]>`,
		`<property name="PRG_Comment" type="8"><value><![CDATA[from the deployment]]>`,
		`<property name="TS_MandatoryCountdown" type="19"><value><![CDATA[30]]>`,
		`<OverrideServiceWindows>TRUE</OverrideServiceWindows>`,
		`PolicyID="` + ad + `-` + ts + `-6F6BCC28"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the policy lacks %s", want)
		}
	}
	// the call's comment and flags win
	r = s.must(200, "POST", tsMethods+"GetTsPolicies", policyCall("GetTsPolicies", map[string]any{"PackageID": ts, "AdvertisementID": ad, "AdvertisementFlags": 0, "AdvertisementComment": "from the call"}))
	body = stringsOf(t, r.body["PolicyXmls"])[0]
	if !strings.Contains(body, `<![CDATA[from the call]]>`) || !strings.Contains(body, `<OverrideServiceWindows>FALSE</OverrideServiceWindows>`) {
		t.Errorf("the call's values do not win:\n%.3000s", body)
	}
}

// TestGetTsPoliciesOverTheBudget: a task sequence in memory whose policy
// would be over 32 MB (UTF-16) is refused naming TaskSequence, with the
// size and the limit.
func TestGetTsPoliciesOverTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 33 MB policy")
	}
	s, _, boot, _ := policyFixture(t)
	// command lines of 30,000 characters (the class allows 32,000), enough
	// of them for 4.2 M characters of sequence: 33.6 MB of policy
	var steps []any
	for i := 0; i*30_000 < policy.MaxPolicyBytes/policy.SequenceUnitBytes; i++ {
		steps = append(steps, map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_RunCommandLineAction",
			"Name": fmt.Sprintf("Script %d", i), "CommandLine": "cmd /c " + strings.Repeat("x", 30_000)})
	}
	huge := map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence", "Steps": steps}
	r := s.do("POST", tsMethods+"GetTsPolicies", policyCall("GetTsPolicies", map[string]any{"TaskSequence": huge, "BootImageID": boot}))
	inner, _ := r.body["error"].(map[string]any)["innererror"].(map[string]any)
	statuses, _ := inner["SMS_ExtendedStatus"].([]any)
	msg := fmt.Sprint(r.body["error"].(map[string]any)["message"])
	if r.status != 413 || len(statuses) != 1 || statuses[0].(map[string]any)["ParameterInfo"] != "TaskSequence" ||
		!strings.Contains(msg, fmt.Sprint(policy.MaxPolicyBytes)) || !regexp.MustCompile(`is \d{8} bytes`).MatchString(msg) {
		t.Fatalf("over the budget: %d %.600s", r.status, r.raw)
	}
}
