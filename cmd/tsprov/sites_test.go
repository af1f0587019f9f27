package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// Two servers of different sites on one PostgreSQL: a central
// administration site and a primary below it. Each allocates its own
// PackageIDs, only the source site changes a package (409 naming the
// owner), SetSourceSite hands a package over and Unlock takes it back.
func TestTwoSitesOnOneDatabase(t *testing.T) {
	url := pgtest.URL(t, t.Name())
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	t.Setenv(secrets.EnvKey, hex.EncodeToString(key))
	cas := startServerProcess(t, t.TempDir(), "--database", url, "--rate-limit", "-1", "--site-code", "CAS")
	ps2 := startServerProcess(t, t.TempDir(), "--database", url, "--rate-limit", "-1", "--site-code", "PS2", "--parent-site", "CAS")

	must := func(a answer, err error, status int, what string) answer {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if a.status != status {
			t.Fatalf("%s: status %d, want %d: %v", what, a.status, status, a.body)
		}
		return a
	}
	a, err := call(t, "GET", ps2.url+"/AdminService/wmi/SMS_Site", nil, "")
	must(a, err, http.StatusOK, "list SMS_Site")
	got := map[string]string{}
	for _, v := range a.body["value"].([]any) {
		s := v.(map[string]any)
		got[s["SiteCode"].(string)] = s["ReportingSiteCode"].(string)
	}
	if len(got) != 2 || got["CAS"] != "" || got["PS2"] != "CAS" {
		t.Fatalf("SMS_Site: %v, want CAS at the top and PS2 below it", got)
	}

	created := map[string]string{}
	for _, s := range []*serverProcess{cas, ps2} {
		a, err := call(t, "POST", s.url+pkgPath, map[string]any{"Name": "made here"}, "")
		a = must(a, err, http.StatusCreated, "create")
		id := a.body["PackageID"].(string)
		created[a.body["SourceSite"].(string)] = id
	}
	if !strings.HasPrefix(created["CAS"], "CAS") || !strings.HasPrefix(created["PS2"], "PS2") {
		t.Fatalf("each site allocates its own PackageIDs and is their source site: %v", created)
	}
	casPkg := pkgPath + "('" + created["CAS"] + "')"

	a, err = call(t, "PATCH", ps2.url+casPkg, map[string]any{"Name": "changed at PS2"}, "")
	a = must(a, err, http.StatusConflict, "PATCH at the site that does not own the package")
	if msg := errorMessage(a); !strings.Contains(msg, "belongs to site CAS") {
		t.Fatalf("the refusal does not name the owner: %q", msg)
	}
	a, err = call(t, "POST", ps2.url+casPkg+"/AdminService.SetSourceSite", map[string]any{"SourceSite": "PS2"}, "")
	must(a, err, http.StatusConflict, "SetSourceSite at a site that does not own the package")

	a, err = call(t, "POST", cas.url+casPkg+"/AdminService.SetSourceSite", map[string]any{"SourceSite": "PS2"}, "")
	must(a, err, http.StatusOK, "SetSourceSite(PS2) at CAS")
	a, err = call(t, "PATCH", ps2.url+casPkg, map[string]any{"Name": "changed at PS2"}, "")
	must(a, err, http.StatusOK, "PATCH at the new source site")
	a, err = call(t, "PATCH", cas.url+casPkg, map[string]any{"Name": "changed at CAS"}, "")
	must(a, err, http.StatusConflict, "PATCH at the former source site")

	a, err = call(t, "POST", cas.url+casPkg+"/AdminService.Unlock", map[string]any{}, "")
	must(a, err, http.StatusOK, "Unlock at CAS")
	a, err = call(t, "PATCH", cas.url+casPkg, map[string]any{"Name": "changed at CAS"}, "")
	a = must(a, err, http.StatusOK, "PATCH at CAS after Unlock")
	if a.body["SourceSite"] != "CAS" {
		t.Fatalf("SourceSite after Unlock at CAS: %v", a.body["SourceSite"])
	}
}

// errorMessage is the message of an OData error body.
func errorMessage(a answer) string {
	e, _ := a.body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}
