package provider_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/cmexport"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/schema"
)

func readExport(t *testing.T, data []byte) *cmexport.Archive {
	t.Helper()
	a, err := cmexport.Read(bytes.NewReader(data), int64(len(data)), cmexport.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func realExports(t *testing.T) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob("../../testdata/export-zips/*.zip")
	if len(files) != 6 {
		t.Fatalf("want 6 real exports, found %d", len(files))
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = data
	}
	return out
}

func exportZip(t *testing.T, p *provider.Provider, opts provider.ExportOptions, ids ...string) []byte {
	t.Helper()
	a, err := p.Export(authtest.Context(), ids, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cmexport.Write(&buf, a, time.Now()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writableSame compares what an import keeps of an object: every schema
// property a client may write (read-only ones are the exporting site's
// facts: ids, dates, versions, references), the task sequence's steps
// compared as the codec reads them, with source ids mapped to target ids.
func writableSame(t *testing.T, what string, reg *cim.Registry, codec *taskseq.Codec, a, b *cmexport.Instance) {
	t.Helper()
	ia, _, err := cmexport.ToCIM(reg, a)
	if err != nil {
		t.Fatal(err)
	}
	ib, _, err := cmexport.ToCIM(reg, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ia.Class.Properties {
		if p.IsReadOnly() || p.IsKey() || p.Name == "TaskSequenceFlags" { // DANGLING_REF: this site's fact
			continue
		}
		if !cim.Equal(ia.Values[p.Name], ib.Values[p.Name]) {
			t.Errorf("%s: %s was %s, is %s", what, p.Name, cim.FormatScalar(ia.Values[p.Name]), cim.FormatScalar(ib.Values[p.Name]))
		}
	}
	sa, sb := ia.String("Sequence"), ib.String("Sequence")
	ta, _, err := codec.Parse([]byte(sa))
	if err != nil {
		t.Fatal(err)
	}
	tb, _, err := codec.Parse([]byte(sb))
	if err != nil {
		t.Fatal(err)
	}
	xa, _ := codec.Marshal(ta, taskseq.WriteOptions{})
	xb, _ := codec.Marshal(tb, taskseq.WriteOptions{})
	if !bytes.Equal(xa, xb) {
		t.Errorf("%s: the sequence changed", what)
	}
	ra, rb := refSet(ia), refSet(ib)
	if strings.Join(ra, " ") != strings.Join(rb, " ") {
		t.Errorf("%s: references were %v, are %v", what, ra, rb)
	}
}

func refSet(in *cim.Instance) []string {
	var out []string
	list, _ := in.Values["References"].([]any)
	for _, v := range list {
		r := v.(*cim.Instance)
		out = append(out, strings.ToUpper(r.String("Package"))+"/"+r.String("Program"))
	}
	sort.Strings(out)
	return out
}

// Every real export imports; exported again, it holds the same object
// with the same writable properties, the same steps and the references
// ConfigMgr exported (which this site does not have: they dangle, and
// the import says so).
func TestRealExportsImportAndExportAgain(t *testing.T) {
	reg, _ := schema.Registry()
	codec, err := taskseq.NewCodec(reg)
	if err != nil {
		t.Fatal(err)
	}
	p := siteServer(t, openStore(t), "LAB", "")
	for name, data := range realExports(t) {
		t.Run(name, func(t *testing.T) {
			src := readExport(t, data)
			res, err := p.Import(authtest.Context(), src, provider.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Objects) != 1 || res.Objects[0].Outcome != "created" || !strings.HasPrefix(res.Objects[0].TargetID, "LAB") {
				t.Fatalf("objects: %+v", res.Objects)
			}
			id := res.Objects[0].TargetID
			out := readExport(t, exportZip(t, p, provider.ExportOptions{WithDependence: true}, id))
			if len(out.Problems) > 0 || len(out.Objects) != 1 {
				t.Fatalf("re-export: %d objects, problems %v", len(out.Objects), out.Problems)
			}
			writableSame(t, name, reg, codec, src.Objects[0].XML, out.Objects[0].XML)
			refs := refSet(mustCIM(t, reg, src.Objects[0].XML))
			missing := map[string]bool{}
			for _, e := range res.Plan {
				if e.Rule == provider.RuleMissing && e.TargetID == provider.TargetWouldDangle {
					missing[strings.ToUpper(e.SourceID)] = true
				}
			}
			for _, r := range refs {
				if id, _, _ := strings.Cut(r, "/"); !missing[id] {
					t.Errorf("reference %s is not planned as missing: %+v", id, res.Plan)
				}
			}
			obj, err := p.Get(authtest.Context(), "SMS_TaskSequencePackage", id)
			if err != nil {
				t.Fatal(err)
			}
			if flags := obj.Instance.Int("TaskSequenceFlags"); (flags&1 == 1) != (len(refs) > 0) {
				t.Errorf("DANGLING_REF %v with %d references none of which exist here", flags&1 == 1, len(refs))
			}
			// export → import → export: the export of this site imports on
			// another, whose export is the same zip, ConfigMgr's references
			// (dangling on both sites) included
			prd := siteServer(t, openStore(t), "PRD", "")
			res2, err := prd.Import(authtest.Context(), out, provider.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]string{}
			for _, o := range res2.Objects {
				ids[o.SourceID] = o.TargetID
			}
			sameExport(t, out, readExport(t, exportZip(t, prd, provider.ExportOptions{WithDependence: true}, ids[id])), ids)
			// the same zip again: the default links the task sequence it made
			again, err := p.Import(authtest.Context(), src, provider.ImportOptions{})
			if err != nil || again.Objects[0].Outcome != "linked" || again.Objects[0].TargetID != id {
				t.Fatalf("second import: %+v %v", again, err)
			}
		})
	}
}

func mustCIM(t *testing.T, reg *cim.Registry, x *cmexport.Instance) *cim.Instance {
	t.Helper()
	in, _, err := cmexport.ToCIM(reg, x)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// A zip with a broken object writes nothing unless the import is
// partial; then the broken object is reported and the rest imports.
func TestImportIsAllOrNothingUnlessPartial(t *testing.T) {
	p := siteServer(t, openStore(t), "LAB", "")
	data := realExports(t)["gwblok__garytown__hardware_HP_HPIA-RefFileTS_HPIA_Task_Sequence.zip"]
	broken := readExport(t, data)
	bad := breakProperty(broken.Objects[0], "Duration", "forty")
	bad.PackageID = "MEM99999"
	broken.Objects = append(broken.Objects, bad)
	_, err := p.Import(authtest.Context(), broken, provider.ImportOptions{})
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "Duration") || !strings.Contains(err.Error(), "MEM99999") {
		t.Fatalf("err = %v, want Invalid naming the object and property", err)
	}
	if n := countPackages(t, p); n != 0 {
		t.Fatalf("a refused import left %d packages", n)
	}
	res, err := p.Import(authtest.Context(), broken, provider.ImportOptions{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects[0].Outcome != "created" || res.Objects[1].Outcome != "failed" || countPackages(t, p) != 1 {
		t.Fatalf("partial: %+v", res.Objects)
	}
}

func countPackages(t *testing.T, p *provider.Provider) int {
	t.Helper()
	res, err := p.List(authtest.Context(), "SMS_TaskSequencePackage", provider.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Objects)
}

// breakProperty returns a copy of o whose property name holds a value its
// type cannot take.
func breakProperty(o *cmexport.Object, name, value string) *cmexport.Object {
	bad := *o
	x := *o.XML
	x.Properties = append([]*cmexport.Property(nil), x.Properties...)
	for i, pr := range x.Properties {
		if pr.Name == name {
			c := *pr
			c.Value, c.Null = value, false
			x.Properties[i] = &c
		}
	}
	bad.XML = &x
	return &bad
}

// A partial import whose package cannot be imported leaves out the task
// sequences that need it; with IgnoreDependencyFailure (or
// OverwriteIgnoreDependencyFailure) for task sequences they are imported,
// the reference to the missing package dangling. AppendDriverCategories
// links what exists, as NotSet.
func TestImportDependencyFailures(t *testing.T) {
	lab := newLab(t, "LAB")
	a, err := lab.p.Export(authtest.Context(), []string{lab.main}, provider.ExportOptions{WithDependence: true})
	if err != nil {
		t.Fatal(err)
	}
	zipped := zipOf(t, a)
	for i, o := range zipped.Objects {
		if o.PackageID == lab.tools && o.Class == "SMS_Package" {
			zipped.Objects[i] = breakProperty(o, "PkgFlags", "forty")
		}
	}
	outcomes := func(res *provider.ImportResult) map[string]string {
		out := map[string]string{}
		for _, o := range res.Objects {
			if o.ProgramName == "" {
				out[o.SourceID] = o.Outcome
			}
		}
		return out
	}

	prd := siteServer(t, openStore(t), "PRD", "")
	res, err := prd.Import(authtest.Context(), zipped, provider.ImportOptions{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(res)
	if got[lab.tools] != "failed" || got[lab.child] != "failed" || got[lab.main] != "failed" || got[lab.boot] != "created" {
		t.Fatalf("outcomes without IgnoreDependencyFailure: %v", got)
	}
	if n := countPackages(t, prd); n != 0 {
		t.Fatalf("%d task sequences imported whose package failed", n)
	}
	needs := false
	for _, p := range res.Problems {
		needs = needs || strings.Contains(p.Message, "IgnoreDependencyFailure imports it anyway")
	}
	if !needs {
		t.Errorf("no problem says why the sequences were left out: %v", res.Problems)
	}

	for _, action := range []provider.ImportAction{provider.IgnoreDependencyFailure, provider.OverwriteIgnoreDependencyFailure} {
		t.Run(string(action), func(t *testing.T) {
			prd := siteServer(t, openStore(t), "PRD", "")
			res, err := prd.Import(authtest.Context(), zipped, provider.ImportOptions{Partial: true, Actions: map[string]provider.ImportAction{"SMS_TaskSequencePackage": action}})
			if err != nil {
				t.Fatal(err)
			}
			got := outcomes(res)
			if got[lab.tools] != "failed" || got[lab.child] != "created" || got[lab.main] != "created" {
				t.Fatalf("outcomes: %v", got)
			}
			obj, err := prd.Get(authtest.Context(), "SMS_TaskSequencePackage", outcomeOf(res, lab.main).TargetID)
			if err != nil {
				t.Fatal(err)
			}
			if obj.Instance.Int("TaskSequenceFlags")&1 != 1 || !slices.Contains(refSet(obj.Instance), strings.ToUpper(lab.tools)+"/Install") {
				t.Errorf("flags %d, references %v: want DANGLING_REF and the lab's %s kept", obj.Instance.Int("TaskSequenceFlags"), refSet(obj.Instance), lab.tools)
			}
		})
	}

	// AppendDriverCategories on a site that has the objects: linked
	whole := zipOf(t, a)
	prd = siteServer(t, openStore(t), "PRD", "")
	if _, err := prd.Import(authtest.Context(), whole, provider.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err = prd.Import(authtest.Context(), whole, provider.ImportOptions{Actions: map[string]provider.ImportAction{"": provider.AppendDriverCategories}})
	if err != nil {
		t.Fatal(err)
	}
	for id, outcome := range outcomes(res) {
		if outcome != "linked" {
			t.Errorf("AppendDriverCategories: %s %s, want linked", id, outcome)
		}
	}
}
