package provider_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

// openStore opens a new SQLite store in a test folder.
func openStore(t *testing.T) store.Store {
	t.Helper()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tsprov.db"), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// siteServer is the provider of one site on st, registered and seeded.
func siteServer(t *testing.T, st store.Store, site, parent string) *provider.Provider {
	t.Helper()
	reg, _ := schema.Registry()
	p, err := provider.New(provider.Config{Registry: reg, Store: st, SiteCode: site, ParentSite: parent, ServerName: "SRV-" + site,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RegisterSite(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

func newPackage(t *testing.T, p *provider.Provider, name string) *cim.Instance {
	t.Helper()
	c, err := p.Class("SMS_TaskSequencePackage")
	if err != nil {
		t.Fatal(err)
	}
	in := cim.NewInstance(c)
	in.Set("Name", name)
	obj, err := p.Create(authtest.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return obj.Instance
}

func rename(p *provider.Provider, id, name string) error {
	c, _ := p.Class("SMS_TaskSequencePackage")
	in := cim.NewInstance(c)
	in.Set("Name", name)
	_, err := p.Update(authtest.Context(), c.Name, id, in, provider.Merge, "")
	return err
}

func sourceSite(t *testing.T, p *provider.Provider, id string) string {
	t.Helper()
	obj, err := p.Get(authtest.Context(), "SMS_TaskSequencePackage", id)
	if err != nil {
		t.Fatal(err)
	}
	return obj.Instance.String("SourceSite")
}

// Two sites on one store form a hierarchy, and SMS_Site shows it.
func TestSitesFormAHierarchy(t *testing.T) {
	st := openStore(t)
	cas := siteServer(t, st, "CAS", "")
	siteServer(t, st, "ps2", "cas")
	res, err := cas.List(authtest.Context(), "SMS_Site", provider.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range res.Objects {
		got[o.Instance.String("SiteCode")] = o.Instance.String("ReportingSiteCode") + "/" + cim.FormatScalar(o.Instance.Values["Type"])
	}
	want := map[string]string{"CAS": "/4", "PS2": "CAS/2"}
	if len(got) != len(want) || got["CAS"] != want["CAS"] || got["PS2"] != want["PS2"] {
		t.Fatalf("sites = %v, want %v", got, want)
	}
	reg, _ := schema.Registry()
	orphan, err := provider.New(provider.Config{Registry: reg, Store: st, SiteCode: "PS3", ParentSite: "XYZ"})
	if err != nil {
		t.Fatal(err)
	}
	if err := orphan.RegisterSite(context.Background()); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "XYZ") {
		t.Fatalf("a parent site never registered: %v, want Invalid naming XYZ", err)
	}
}

// Only the source site changes a package; SetSourceSite hands it over,
// Unlock takes it, and both are audited.
func TestOnlyTheSourceSiteChangesAPackage(t *testing.T) {
	st := openStore(t)
	cas := siteServer(t, st, "CAS", "")
	ps2 := siteServer(t, st, "PS2", "CAS")
	pkg := newPackage(t, cas, "Windows 11")
	id := pkg.String("PackageID")
	if !strings.HasPrefix(id, "CAS") || pkg.String("SourceSite") != "CAS" {
		t.Fatalf("created at CAS: PackageID %s, SourceSite %s", id, pkg.String("SourceSite"))
	}
	if err := rename(cas, id, "at CAS"); err != nil {
		t.Fatalf("the source site changes its package: %v", err)
	}
	refused := func(what string, err error) {
		t.Helper()
		if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "belongs to site CAS") {
			t.Fatalf("%s at a site that does not own the package: %v, want Conflict naming CAS", what, err)
		}
	}
	refused("update", rename(ps2, id, "at PS2"))
	refused("delete", ps2.Delete(authtest.Context(), "SMS_TaskSequencePackage", id, ""))
	_, err := ps2.Invoke(authtest.Context(), "SMS_TaskSequencePackage", id, "SetSourceSite", map[string]any{"SourceSite": "PS2"})
	refused("SetSourceSite", err)

	_, err = cas.Invoke(authtest.Context(), "SMS_TaskSequencePackage", id, "SetSourceSite", map[string]any{"SourceSite": "XYZ"})
	if !errs.Is(err, errs.Invalid) || errs.TargetOf(err) != "SourceSite" {
		t.Fatalf("SetSourceSite to a site never registered: %v, want Invalid on SourceSite", err)
	}
	if got := sourceSite(t, cas, id); got != "CAS" {
		t.Fatalf("after refused calls SourceSite = %s", got)
	}

	res, err := cas.Invoke(authtest.Context(), "SMS_TaskSequencePackage", id, "SetSourceSite", map[string]any{"SourceSite": "ps2"})
	if err != nil || res.ReturnValue != int64(0) {
		t.Fatalf("SetSourceSite(PS2) at CAS: %v, %v", res, err)
	}
	if got := sourceSite(t, cas, id); got != "PS2" {
		t.Fatalf("SourceSite = %s after SetSourceSite(PS2)", got)
	}
	if err := rename(ps2, id, "at PS2"); err != nil {
		t.Fatalf("the new source site changes the package: %v", err)
	}
	refused = func(what string, err error) {
		t.Helper()
		if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "belongs to site PS2") {
			t.Fatalf("%s at the former source site: %v, want Conflict naming PS2", what, err)
		}
	}
	refused("update", rename(cas, id, "at CAS again"))

	if _, err := cas.Invoke(authtest.Context(), "SMS_TaskSequencePackage", id, "Unlock", nil); err != nil {
		t.Fatalf("Unlock at CAS: %v", err)
	}
	if got := sourceSite(t, cas, id); got != "CAS" {
		t.Fatalf("SourceSite = %s after Unlock at CAS", got)
	}
	if err := rename(cas, id, "at CAS again"); err != nil {
		t.Fatalf("after Unlock: %v", err)
	}

	audit, err := cas.ListAudit(authtest.Context(), provider.ListOptions{OrderBy: []store.Order{{Property: "Time"}, {Property: "AuditID"}}})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, o := range audit.Objects {
		if m := o.Instance.String("Method"); m == "SetSourceSite" || m == "Unlock" {
			if o.Instance.String("ObjectKey") != id {
				t.Fatalf("audit of %s names %s", m, o.Instance.String("ObjectKey"))
			}
			seen = append(seen, m+" "+o.Instance.String("Detail"))
		}
	}
	want := []string{"SetSourceSite SourceSite CAS -> PS2", "Unlock SourceSite PS2 -> CAS"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Fatalf("audit trail %q, want %q (the refused SetSourceSite calls change nothing)", seen, want)
	}
}
