package policy

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/golden"
)

func TestClientConfig(t *testing.T) {
	s := ClientSettings{Site: "PS1", Version: 3, SoftwareDistributionEnabled: true, DefaultMaxDuration: 720,
		ContentLocationTimeoutInterval: 28800, BrandingTitle: "Contoso <IT>",
		NetworkAccessUsername: `CONTOSO\svc-naa`, NetworkAccessPassword: "Passw0rd]]>&<"}
	set, err := ClientConfig(s)
	if err != nil {
		t.Fatal(err)
	}
	got := render(set)
	if want := golden.Want(t, filepath.Join("testdata", "clientconfig.golden"), got); !bytes.Equal(got, want) {
		t.Errorf("client config policies differ from the golden file:\n%s", firstDiff(got, want))
	}
	classes := []string{"CCM_SoftwareDistributionClientConfig", "CCM_ClientAgentConfig", "CCM_NetworkAccessAccount"}
	if len(set) != 3 {
		t.Fatalf("%d policies", len(set))
	}
	for i, d := range set {
		p := parseBody(t, d.Body)
		if p.Class != classes[i] || p.PolicyVersion != "3.00" || !guid.MatchString(p.PolicyID) || one(t, p, "SiteSettingsKey") != "1" {
			t.Errorf("[%d] %s %s %s", i, p.Class, p.PolicyVersion, p.PolicyID)
		}
		checkAssignmentOf(t, d)
		for _, plain := range []string{s.NetworkAccessPassword, "svc-naa", "Passw0rd"} {
			if strings.Contains(d.Body+d.Assignment, plain) {
				t.Errorf("[%d] %q in clear", i, plain)
			}
		}
		for name, secret := range p.Secret {
			if !secret {
				continue
			}
			v, err := Deobfuscate(p.Props[name][0])
			want := map[string]string{"NetworkAccessUsername": s.NetworkAccessUsername, "NetworkAccessPassword": s.NetworkAccessPassword}[name]
			if err != nil || v != want || want == "" {
				t.Errorf("%s decodes to %q, %v; want %q", name, v, err, want)
			}
		}
	}
	naa := parseBody(t, set[2].Body)
	if !naa.Secret["NetworkAccessUsername"] || !naa.Secret["NetworkAccessPassword"] {
		t.Error("the account's values are not secret")
	}
	if !strings.Contains(set[2].Assignment, `PolicyCategory="NAAConfig" PolicyFlags="30"`) {
		t.Errorf("NAA assignment:\n%s", set[2].Assignment)
	}
	// no account, no NAAConfig policy; another version, other bytes
	s.NetworkAccessUsername, s.NetworkAccessPassword = "", ""
	set2, _ := ClientConfig(s)
	if len(set2) != 2 || set2[0].PolicyID != set[0].PolicyID {
		t.Errorf("without an account: %d policies", len(set2))
	}
	s.Version = 4
	set3, _ := ClientConfig(s)
	if set3[0].Body == set2[0].Body || !strings.Contains(set3[0].Assignment, ".sms_pol?"+set3[0].PolicyID+".4_00") {
		t.Error("the version is not in the documents")
	}
	if _, err := ClientConfig(ClientSettings{Site: "P-1"}); err == nil {
		t.Error("a bad site passed")
	}
}

// checkAssignmentOf checks an assignment names its policy and version.
func checkAssignmentOf(t *testing.T, d Document) {
	t.Helper()
	wellFormed(t, d.Assignment)
	if !strings.Contains(d.Assignment, `<Policy PolicyID="`+d.PolicyID+`" PolicyVersion="`+versionText(d.Version)+`" PolicyCategory="`+d.Category+`"`) ||
		!strings.Contains(d.Assignment, "SHA256:"+BodyHash(d.Body)) {
		t.Errorf("assignment of %s:\n%s", d.PolicyID, d.Assignment)
	}
}
