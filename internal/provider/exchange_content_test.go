package provider_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/content"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

// contentSite is a site whose provider has a content library.
func contentSite(t *testing.T, site string) *provider.Provider {
	t.Helper()
	return contentSiteOn(t, openStore(t), site)
}

// contentSiteOn is contentSite on the store st.
func contentSiteOn(t *testing.T, st store.Store, site string) *provider.Provider {
	t.Helper()
	reg, _ := schema.Registry()
	lib, err := content.Open(filepath.Join(t.TempDir(), "content"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := provider.New(provider.Config{Registry: reg, Store: st, SiteCode: site, ServerName: "SRV-" + site, Content: lib,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RegisterSite(authtest.Context()); err != nil {
		t.Fatal(err)
	}
	if err := p.Seed(authtest.Context()); err != nil {
		t.Fatal(err)
	}
	return p
}

// sourceTree writes a package source folder.
func sourceTree(t *testing.T, dir string) string {
	t.Helper()
	for name, data := range map[string]string{"setup.exe": "MZ tools 3.0", "config/settings.ini": "[tools]\nquiet=1\n"} {
		f := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// With content, an export lists each package's current content (its
// content hash, the folder beside the zip) and ties the package to it;
// an import given the folder makes it the package's source and publishes
// the same content; a site that has the content under another name links
// it by content hash.
func TestContentTravelsWithTheExport(t *testing.T) {
	lab := contentSite(t, "LAB")
	tools := create(t, lab, "SMS_Package", map[string]any{"Name": "Tools: x64", "Version": "3", "PkgSourcePath": sourceTree(t, t.TempDir())})
	main := setSequence(t, lab, "Deploy", "", strings.ReplaceAll(childXML, "TOOLS", tools))
	labContent, err := lab.CurrentContent(authtest.Context(), tools)
	if err != nil {
		t.Fatal(err)
	}
	a, err := lab.Export(authtest.Context(), []string{main}, provider.ExportOptions{WithDependence: true, WithContent: true})
	if err != nil {
		t.Fatal(err)
	}
	zipped := zipOf(t, a)
	if len(zipped.Contents) != 1 || zipped.Contents[0].Hash != labContent.Hash || zipped.Contents[0].RelativePath != "Tools_ x64" || find(zipped, tools).ContentID != zipped.Contents[0].UniqueID {
		t.Fatalf("contents %+v, package content id %q", zipped.Contents, find(zipped, tools).ContentID)
	}
	// what a client does: the content's files beside the zip
	files := t.TempDir()
	sourceTree(t, filepath.Join(files, "Tools_ x64"))

	prd := contentSite(t, "PRD")
	res, err := prd.Import(authtest.Context(), zipped, provider.ImportOptions{ContentPath: files})
	if err != nil {
		t.Fatal(err)
	}
	id := outcomeOf(res, tools).TargetID
	got, err := prd.CurrentContent(authtest.Context(), id)
	if err != nil || got.Hash != labContent.Hash {
		t.Fatalf("imported content %+v (%v), want hash %s", got, err, labContent.Hash)
	}
	obj, _ := prd.Get(authtest.Context(), "SMS_Package", id)
	if src := obj.Instance.String("PkgSourcePath"); src != filepath.Join(files, "Tools_ x64") {
		t.Fatalf("PkgSourcePath %q", src)
	}

	// the same content under another name and version: linked by hash
	other := contentSite(t, "OTH")
	same := create(t, other, "SMS_Package", map[string]any{"Name": "Contoso tools", "Version": "3.0.1", "PkgSourcePath": sourceTree(t, t.TempDir())})
	res, err = other.Import(authtest.Context(), zipped, provider.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o := outcomeOf(res, tools); o.Outcome != "linked" || o.TargetID != same {
		t.Fatalf("package: %+v, want linked to %s", o, same)
	}
	var rule string
	for _, e := range res.Plan {
		if e.SourceID == tools {
			rule = e.Rule
		}
	}
	if rule != provider.RuleExistingHash {
		t.Fatalf("rule %q, want %q", rule, provider.RuleExistingHash)
	}

	// a content folder that is not there: refused, nothing written
	empty := contentSite(t, "EMP")
	_, err = empty.Import(authtest.Context(), zipped, provider.ImportOptions{ContentPath: t.TempDir()})
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "Tools_ x64") || countPackages(t, empty) != 0 {
		t.Fatalf("missing content folder: %v", err)
	}
}
