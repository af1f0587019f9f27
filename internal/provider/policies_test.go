package provider_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
)

// TestPoliciesOnEveryStore: on SQLite and on PostgreSQL, the same site
// built the same way deploys its task sequence (ids from the site's
// counters, a collection that must exist, content on no DP refused
// naming it unless forced) and answers byte-identical policies, with the
// sequence's password never in clear; a package with a deployment cannot
// be deleted.
func TestPoliciesOnEveryStore(t *testing.T) {
	answers := map[string]string{}
	for name, open := range targets(t) {
		t.Run(name, func(t *testing.T) {
			p := contentSiteOn(t, open(t), "PS1")
			tools := create(t, p, "SMS_Package", map[string]any{"Name": "Tools", "Version": "3", "PkgSourcePath": sourceTree(t, t.TempDir())})
			create(t, p, "SMS_Program", map[string]any{"PackageID": tools, "ProgramName": "Install", "CommandLine": "setup.exe /q"})
			boot := create(t, p, "SMS_BootImagePackage", map[string]any{"Name": "WinPE x64", "Version": "10"})
			child := setSequence(t, p, "Child", "", strings.ReplaceAll(childXML, "TOOLS", tools))
			main := setSequence(t, p, "Deploy", boot, strings.NewReplacer("TOOLS", tools, "CHILD", child, "PASSWORD", "Only-In-The-Sequence-7").Replace(mainXML))

			coll, _ := p.Class("SMS_Collection")
			c := cim.NewInstance(coll)
			c.Set("Name", "Desktops")
			co, err := p.Create(authtest.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			ads, _ := p.Class("SMS_Advertisement")
			deploy := func(collection string, force bool) (*provider.Object, error) {
				ad := cim.NewInstance(ads)
				for k, v := range map[string]any{"AdvertisementName": "Deploy", "CollectionID": collection, "PackageID": main, "ProgramName": "*"} {
					ad.Set(k, v)
				}
				if force {
					ad.Annotations = map[string]any{"@tsprov.force": json.RawMessage("true")}
				}
				return p.Create(authtest.Context(), ad)
			}
			if _, err := deploy("PS1FFFFF", true); errs.KindOf(err) != errs.Invalid || errs.TargetOf(err) != "CollectionID" {
				t.Fatalf("a missing collection: %v", err)
			}
			if _, err := deploy(co.Instance.Key(), false); errs.KindOf(err) != errs.Conflict || !strings.Contains(err.Error(), tools) {
				t.Fatalf("content on no DP: %v, want a conflict naming %s", err, tools)
			}
			ad, err := deploy(co.Instance.Key(), true)
			if err != nil {
				t.Fatal(err)
			}
			advert := ad.Instance.String("AdvertisementID")
			if !strings.HasPrefix(advert, "PS1") || len(advert) != 8 {
				t.Fatalf("AdvertisementID %q", advert)
			}

			call := func() string {
				res, err := p.Invoke(authtest.Context(), "SMS_TaskSequencePackage", "", "GetTsPolicies", map[string]any{"AdvertisementID": advert, "PackageID": main})
				if err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(res.Out)
				return string(b)
			}
			got := call()
			if call() != got {
				t.Error("two calls answer other bytes")
			}
			if strings.Contains(got, "Only-In-The-Sequence-7") {
				t.Error("the password is in clear in the policies")
			}
			for _, id := range []string{main, tools, boot, child} {
				if !strings.Contains(got, advert+"-"+id+"-") {
					t.Errorf("no policy for %s", id)
				}
			}
			answers[name] = got

			if err := p.Delete(authtest.Context(), "SMS_TaskSequencePackage", main, ""); errs.KindOf(err) != errs.Conflict || !strings.Contains(err.Error(), advert) {
				t.Errorf("deleting a deployed task sequence: %v", err)
			}
		})
	}
	if len(answers) == 2 && answers["sqlite"] != answers["postgres"] {
		t.Error("SQLite and PostgreSQL answer different policies for the same site")
	}
}
