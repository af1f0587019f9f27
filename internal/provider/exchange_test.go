package provider_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/cmexport"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/postgres"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/schema"
)

func create(t *testing.T, p *provider.Provider, class string, props map[string]any) string {
	t.Helper()
	c, err := p.Class(class)
	if err != nil {
		t.Fatal(err)
	}
	in := cim.NewInstance(c)
	for k, v := range props {
		in.Set(k, v)
	}
	obj, err := p.Create(authtest.Context(), in)
	if err != nil {
		t.Fatalf("create %s: %v", class, err)
	}
	return obj.Instance.String("PackageID")
}

// setSequence stores sequence XML (with ids put in) in a new package.
func setSequence(t *testing.T, p *provider.Provider, name, boot, xml string) string {
	t.Helper()
	ts := parseSeq(t, xml)
	c, _ := p.Class("SMS_TaskSequencePackage")
	pkg := cim.NewInstance(c)
	pkg.Set("Name", name)
	if boot != "" {
		pkg.Set("BootImageID", boot)
	}
	res, err := p.Invoke(authtest.Context(), c.Name, "", "SetSequence", map[string]any{"TaskSequencePackage": pkg, "TaskSequence": ts})
	if err != nil {
		t.Fatalf("SetSequence %s: %v", name, err)
	}
	path, _ := res.Out["SavedTaskSequencePackagePath"].(string)
	return strings.TrimSuffix(strings.TrimPrefix(path, `SMS_TaskSequencePackage.PackageID="`), `"`)
}

const childXML = `<sequence version="3.10"><step type="SMS_TaskSequence_RunCommandLineAction" name="Drivers"><action>smsswd.exe /run:TOOLS drivers.cmd</action><defaultVarList><variable name="CommandLine" property="CommandLine">drivers.cmd</variable><variable name="PackageID" property="PackageID">TOOLS</variable></defaultVarList></step></sequence>`

const mainXML = `<sequence version="3.10">` +
	`<step type="SMS_TaskSequence_InstallSoftwareAction" name="Install tools"><action>smsswd.exe /pkg:TOOLS /install</action><defaultVarList><variable name="PackageID" property="PackageID">TOOLS</variable><variable name="_SMSSWDProgramName" property="ProgramName">Install</variable></defaultVarList></step>` +
	`<step type="SMS_TaskSequence_RunCommandLineAction" name="As a service account"><action>cmd.exe</action><defaultVarList><variable name="CommandLine" property="CommandLine">cmd.exe</variable><variable name="_SMSTSRunCommandLineAsUser" property="RunAsUser">true</variable><variable name="SMSTSRunCommandLineUserName" property="UserName">CONTOSO\svc</variable><variable name="SMSTSRunCommandLineUserPassword" property="UserPassword">PASSWORD</variable></defaultVarList></step>` +
	`<subtasksequence type="SMS_TaskSequence_SubTasksequence" name="Child"><action>SubTasksequence.exe</action><defaultVarList><variable name="OSDSubTasksequencePackageID" property="TsPackageID">CHILD</variable></defaultVarList></subtasksequence>` +
	`</sequence>`

type labSite struct {
	p                        *provider.Provider
	st                       store.Store
	tools, boot, child, main string
}

func newLab(t *testing.T, site string) labSite {
	st := openStore(t)
	p := siteServer(t, st, site, "")
	l := labSite{p: p, st: st}
	l.tools = create(t, p, "SMS_Package", map[string]any{"Name": "Tools", "Version": "3"})
	create(t, p, "SMS_Program", map[string]any{"PackageID": l.tools, "ProgramName": "Install", "CommandLine": "setup.exe /q"})
	l.boot = create(t, p, "SMS_BootImagePackage", map[string]any{"Name": "WinPE x64", "Version": "10"})
	l.child = setSequence(t, p, "Child", "", strings.ReplaceAll(childXML, "TOOLS", l.tools))
	x := strings.NewReplacer("TOOLS", l.tools, "CHILD", l.child, "PASSWORD", "Secret-1").Replace(mainXML)
	l.main = setSequence(t, p, "Deploy", l.boot, x)
	return l
}

func zipOf(t *testing.T, a *cmexport.Archive) *cmexport.Archive {
	t.Helper()
	var buf bytes.Buffer
	if err := cmexport.Write(&buf, a, time.Now()); err != nil {
		t.Fatal(err)
	}
	return readExport(t, buf.Bytes())
}

func rawSequence(t *testing.T, st store.Store, id string) string {
	t.Helper()
	reg, _ := schema.Registry()
	c, _ := reg.Class("SMS_TaskSequencePackage")
	var seq string
	err := st.Read(context.Background(), func(tx store.ReadTx) error {
		rec, err := tx.Get(context.Background(), c, id, true)
		if err == nil {
			seq = rec.Instance.String("Sequence")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// An export with its dependencies (package, the program a step names,
// boot image, child task sequence) lists them before the sequences that
// use them, strips the password, and imports whole on an empty site: new
// ids there, every reference moved to them, nothing dangling, and a
// password set in the zip sealed as SetSequence seals it.
func TestExportWithDependenceImportsOnAnotherSite(t *testing.T) {
	lab := newLab(t, "LAB")
	a, err := lab.p.Export(authtest.Context(), []string{lab.main}, provider.ExportOptions{WithDependence: true})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, o := range a.Objects {
		order = append(order, o.Class)
	}
	if got := strings.Join(order, " "); got != "SMS_Package SMS_Program SMS_TaskSequencePackage SMS_BootImagePackage SMS_TaskSequencePackage" {
		t.Fatalf("objects: %s", got)
	}
	zipped := zipOf(t, a)
	if len(zipped.Problems) > 0 || len(zipped.Objects) != 5 {
		t.Fatalf("read back: %d objects, %v", len(zipped.Objects), zipped.Problems)
	}
	last := find(zipped, lab.main)
	if seq, _ := last.XML.StringValue("Sequence"); strings.Contains(seq, "Secret-1") || strings.Contains(seq, secrets.Prefix) {
		t.Fatalf("the export carries the password: %s", seq)
	}
	if len(last.References) != 3 || last.References[0].ReferenceName != "Tools" || last.References[0].ReferenceProgramName != "Install" {
		t.Fatalf("references info: %+v", last.References)
	}

	st := openStore(t)
	prd := siteServer(t, st, "PRD", "")
	create(t, prd, "SMS_Package", map[string]any{"Name": "unrelated"})
	res, err := prd.Import(authtest.Context(), zipped, provider.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, o := range res.Objects {
		if o.Outcome != "created" || !strings.HasPrefix(o.TargetID, "PRD") {
			t.Fatalf("object %+v", o)
		}
		ids[o.SourceID] = o.TargetID
	}
	obj, err := prd.Get(authtest.Context(), "SMS_TaskSequencePackage", ids[lab.main])
	if err != nil {
		t.Fatal(err)
	}
	if obj.Instance.Int("TaskSequenceFlags") != 0 || obj.Instance.String("BootImageID") != ids[lab.boot] {
		t.Fatalf("flags %d, boot image %s", obj.Instance.Int("TaskSequenceFlags"), obj.Instance.String("BootImageID"))
	}
	got := refSet(obj.Instance)
	want := []string{ids[lab.tools] + "/Install", ids[lab.child] + "/*", ids[lab.boot] + "/*"}
	if strings.Join(got, " ") != strings.Join(slices.Sorted(slices.Values(want)), " ") {
		t.Fatalf("references %v, want %v", got, want)
	}
	child, _ := prd.Get(authtest.Context(), "SMS_TaskSequencePackage", ids[lab.child])
	if refs := refSet(child.Instance); len(refs) != 1 || refs[0] != ids[lab.tools]+"/*" {
		t.Fatalf("child references %v", refs)
	}
	if _, err := prd.Get(authtest.Context(), "SMS_Program", ids[lab.tools]+";Install"); err != nil {
		t.Fatalf("the program did not come along: %v", err)
	}

	// a zip whose sequence holds a password in clear: sealed when stored
	clear := zipOf(t, a)
	for _, pr := range find(clear, lab.main).XML.Properties {
		if pr.Name == "Sequence" {
			pr.Value = strings.Replace(pr.Value, `property="UserPassword"></variable>`, `property="UserPassword">Clear-2</variable>`, 1)
			if !strings.Contains(pr.Value, "Clear-2") {
				t.Fatal("no empty password to fill")
			}
		}
	}
	res, err = prd.Import(authtest.Context(), clear, provider.ImportOptions{Actions: map[string]provider.ImportAction{"": provider.DirectImport}})
	if err != nil {
		t.Fatal(err)
	}
	raw := rawSequence(t, st, outcomeOf(res, lab.main).TargetID)
	if strings.Contains(raw, "Clear-2") || !strings.Contains(raw, secrets.Prefix) {
		t.Fatalf("the imported password is not sealed: %s", raw)
	}
}

func find(a *cmexport.Archive, id string) *cmexport.Object {
	for _, o := range a.Objects {
		if o.PackageID == id && o.ProgramName == "" {
			return o
		}
	}
	return nil
}

func outcomeOf(res *provider.ImportResult, id string) provider.ImportedObject {
	for _, o := range res.Objects {
		if o.SourceID == id && o.ProgramName == "" {
			return o
		}
	}
	return provider.ImportedObject{}
}

// The ImportActionType values on a site that has the objects already.
func TestImportActions(t *testing.T) {
	lab := newLab(t, "LAB")
	a, err := lab.p.Export(authtest.Context(), []string{lab.main}, provider.ExportOptions{WithDependence: true})
	if err != nil {
		t.Fatal(err)
	}
	zipped := zipOf(t, a)
	prd := siteServer(t, openStore(t), "PRD", "")
	first, err := prd.Import(authtest.Context(), zipped, provider.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// outcomes in the zip's order: package, child sequence, boot image,
	// main sequence, then the program (only in _rels/.rels)
	outcome := func(res *provider.ImportResult) string {
		var out []string
		for _, o := range res.Objects {
			out = append(out, o.Outcome)
		}
		return strings.Join(out, " ")
	}
	cases := []struct {
		action  provider.ImportAction
		outcome string
		tsAdded int
		same    bool // the main sequence's target id is that of the first import
	}{
		{provider.NotSet, "linked linked linked linked overwritten", 0, true},
		{provider.Skip, "linked linked linked linked overwritten", 0, true},
		{provider.Overwrite, "overwritten overwritten overwritten overwritten overwritten", 0, true},
		// a renamed package is a new package: its program is created under it
		{provider.Rename, "renamed renamed renamed renamed created", 2, false},
		{provider.DirectImport, "created created created created created", 2, false},
	}
	for _, c := range cases {
		t.Run(string(c.action), func(t *testing.T) {
			n := countPackages(t, prd)
			res, err := prd.Import(authtest.Context(), zipped, provider.ImportOptions{Actions: map[string]provider.ImportAction{"": c.action, "SMS_Program": provider.Overwrite}})
			if err != nil {
				t.Fatal(err)
			}
			if got := outcome(res); got != c.outcome {
				t.Fatalf("outcomes %q, want %q", got, c.outcome)
			}
			if added := countPackages(t, prd) - n; added != c.tsAdded {
				t.Fatalf("%d task sequences added, want %d", added, c.tsAdded)
			}
			got, was := outcomeOf(res, lab.main).TargetID, outcomeOf(first, lab.main).TargetID
			if (got == was) != c.same {
				t.Fatalf("target %s, first import's %s", got, was)
			}
			if c.action == provider.Rename {
				obj, _ := prd.Get(authtest.Context(), "SMS_TaskSequencePackage", got)
				if obj.Instance.String("Name") != "Deploy (2)" {
					t.Fatalf("renamed to %q", obj.Instance.String("Name"))
				}
			}
		})
	}
	n := countPackages(t, prd)
	_, err = prd.Import(authtest.Context(), zipped, provider.ImportOptions{Actions: map[string]provider.ImportAction{"SMS_TaskSequencePackage": provider.ImportFail}})
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "ImportFail") || countPackages(t, prd) != n {
		t.Fatalf("ImportFail: %v", err)
	}
}

// siteFacts are the values that say where and when an object lives: the
// target site assigns them (docs/export-import.md, "One transaction").
var siteFacts = map[string]bool{
	"PackageID": true, "SourceSite": true, "SourceDate": true, "LastRefreshTime": true,
	"SedoObjectVersion": true, "SourceVersion": true,
}

// targets are the stores an import lands in: SQLite, and PostgreSQL when
// TSPROV_TEST_POSTGRES is set.
func targets(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"sqlite": openStore,
		"postgres": func(t *testing.T) store.Store {
			url := pgtest.URL(t, t.Name())
			reg, _ := schema.Registry()
			st, err := postgres.Open(context.Background(), url, reg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

// Export → import → export gives an equivalent zip: the same objects in
// the same order, and every part compared as XML equal once the source
// ids are read as the target's and the site facts are set aside.
func TestExportImportExportIsEquivalent(t *testing.T) {
	lab := newLab(t, "LAB")
	first, err := lab.p.Export(authtest.Context(), []string{lab.main}, provider.ExportOptions{WithDependence: true, Comment: "promote"})
	if err != nil {
		t.Fatal(err)
	}
	z1 := zipOf(t, first)
	for name, open := range targets(t) {
		t.Run(name, func(t *testing.T) {
			prd := siteServer(t, open(t), "PRD", "")
			res, err := prd.Import(authtest.Context(), z1, provider.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]string{}
			for _, o := range res.Objects {
				ids[o.SourceID] = o.TargetID
			}
			second, err := prd.Export(authtest.Context(), []string{ids[lab.main]}, provider.ExportOptions{WithDependence: true, Comment: "promote"})
			if err != nil {
				t.Fatal(err)
			}
			sameExport(t, z1, zipOf(t, second), ids)
		})
	}
}

// sameExport checks that z2, the export of what an import of z1 made,
// holds z1's objects in z1's order, each property equal as XML once the
// ids of z1's objects are read as ids maps them to the target's (an id
// the map lacks, such as a reference the import left dangling, stays),
// the site facts aside; the steps are compared as the object model holds
// them, and the references info entry by entry.
func sameExport(t *testing.T, z1, z2 *cmexport.Archive, ids map[string]string) {
	t.Helper()
	if len(z1.Objects) != len(z2.Objects) || z2.Description != z1.Description {
		t.Fatalf("%d objects, then %d; comment %q, then %q", len(z1.Objects), len(z2.Objects), z1.Description, z2.Description)
	}
	target := func(id string) string {
		if to, ok := ids[id]; ok {
			return to
		}
		return id
	}
	var pairs []string
	for from, to := range ids {
		pairs = append(pairs, from, to)
	}
	toTarget := strings.NewReplacer(pairs...)
	for i, a := range z1.Objects {
		b := z2.Objects[i]
		if a.Class != b.Class || target(a.PackageID) != b.PackageID || a.ProgramName != b.ProgramName {
			t.Fatalf("object %d: %s then %s", i, a.Ref(), b.Ref())
		}
		pa, pb := propertyTexts(a.XML), propertyTexts(b.XML)
		for name, va := range pa {
			if siteFacts[name] || strings.HasPrefix(name, "__") {
				continue
			}
			if name == "Sequence" {
				// the steps compared as the object model holds them: an
				// action's command line is written again when its
				// package changes (/pkg:<new id> and the full form)
				sa, _ := a.XML.StringValue("Sequence")
				sb, _ := b.XML.StringValue("Sequence")
				if ta, tb := parseSeq(t, toTarget.Replace(sa)), parseSeq(t, sb); !cim.Equal(ta, tb) {
					t.Errorf("%s: the steps differ:\n%s\n%s", a.Ref(), toTarget.Replace(sa), sb)
				}
				continue
			}
			if va, vb := toTarget.Replace(va), pb[name]; va != vb {
				i := 0
				for i < len(va) && i < len(vb) && va[i] == vb[i] {
					i++
				}
				t.Errorf("%s.%s differs at %d: %q then %q", a.Ref(), name, i, va[max(0, i-100):min(len(va), i+100)], vb[max(0, i-100):min(len(vb), i+100)])
			}
		}
		if len(pa) != len(pb) {
			t.Errorf("%s: %d properties, then %d", a.Ref(), len(pa), len(pb))
		}
		if len(a.References) != len(b.References) {
			t.Errorf("%s: %d references info entries, then %d", a.Ref(), len(a.References), len(b.References))
			continue
		}
		for j := range a.References {
			ra, rb := a.References[j], b.References[j]
			ra.PackageID, ra.ReferencePackageID = target(ra.PackageID), target(ra.ReferencePackageID)
			if ra != rb {
				t.Errorf("%s references info %d: %+v then %+v", a.Ref(), j, ra, rb)
			}
		}
	}
}

func parseSeq(t *testing.T, xml string) *cim.Instance {
	t.Helper()
	reg, _ := schema.Registry()
	codec, _ := taskseq.NewCodec(reg)
	ts, _, err := codec.Parse([]byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// propertyTexts renders each property of a CIM-XML instance as text:
// NULL, or its value(s), embedded objects included.
func propertyTexts(x *cmexport.Instance) map[string]string {
	out := map[string]string{}
	for _, p := range x.Properties {
		out[p.Name] = string(cmexport.EncodeInstance(&cmexport.Instance{ClassName: "P", Properties: []*cmexport.Property{p}}))
	}
	return out
}

// TestImportPlanRules: each rule of the plan of references, as the plan
// names it, with the target it picks.
func TestImportPlanRules(t *testing.T) {
	lab := newLab(t, "LAB")
	export := func(deps bool) *cmexport.Archive {
		a, err := lab.p.Export(authtest.Context(), []string{lab.main}, provider.ExportOptions{WithDependence: deps})
		if err != nil {
			t.Fatal(err)
		}
		return zipOf(t, a)
	}
	alone, full := export(false), export(true)
	type want struct{ rule, target string }
	check := func(what string, res *provider.ImportResult, wants map[string]want) {
		t.Helper()
		got := map[string]want{}
		for _, e := range res.Plan {
			got[e.SourceID] = want{e.Rule, e.TargetID}
		}
		for id, w := range wants {
			if got[id] != w {
				t.Errorf("%s: %s planned as %+v, want %+v", what, id, got[id], w)
			}
		}
	}

	// another site: the same name, type and version; a map file; nothing
	prd := siteServer(t, openStore(t), "PRD", "")
	tools := create(t, prd, "SMS_Package", map[string]any{"Name": "Tools", "Version": "3"})
	boot := create(t, prd, "SMS_BootImagePackage", map[string]any{"Name": "Another WinPE", "Version": "11"})
	res, err := prd.Import(authtest.Context(), alone, provider.ImportOptions{DryRun: true, Map: map[string]string{lab.boot: boot}})
	if err != nil {
		t.Fatal(err)
	}
	check("another site", res, map[string]want{
		lab.tools: {provider.RuleReferencesInfo, tools},
		lab.boot:  {provider.RuleMapFile, boot},
		lab.child: {provider.RuleMissing, provider.TargetWouldDangle},
	})

	// the objects of the zip: imported, then linked to what the first
	// import made (same name and version, other ids)
	oth := siteServer(t, openStore(t), "OTH", "")
	first, err := oth.Import(authtest.Context(), full, provider.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check("first import", first, map[string]want{
		lab.tools: {provider.RuleImported, outcomeOf(first, lab.tools).TargetID},
		lab.child: {provider.RuleImported, outcomeOf(first, lab.child).TargetID},
	})
	again, err := oth.Import(authtest.Context(), full, provider.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check("second import", again, map[string]want{
		lab.tools: {provider.RuleExistingName, outcomeOf(first, lab.tools).TargetID},
		lab.boot:  {provider.RuleExistingName, outcomeOf(first, lab.boot).TargetID},
	})

	// back into the site it came from: the same objects, by id and name;
	// a package whose version changed since is still the same id
	back, err := lab.p.Import(authtest.Context(), full, provider.ImportOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	check("back home", back, map[string]want{
		lab.tools: {provider.RuleExistingSameID, lab.tools},
		lab.child: {provider.RuleExistingSameID, lab.child},
	})
	c, _ := lab.p.Class("SMS_Package")
	in := cim.NewInstance(c)
	in.Set("Version", "4")
	if _, err := lab.p.Update(authtest.Context(), c.Name, lab.tools, in, provider.Merge, ""); err != nil {
		t.Fatal(err)
	}
	res, err = lab.p.Import(authtest.Context(), alone, provider.ImportOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	check("back home, version changed", res, map[string]want{
		lab.tools: {provider.RuleSameID, lab.tools},
	})

	// the exporting site's USMT package becomes this site's
	usmt := create(t, lab.p, "SMS_Package", map[string]any{"Name": "User State Migration Tool for Windows", "Version": "10.0", "DefaultImageFlags": int64(2)})
	capture := setSequence(t, lab.p, "Capture", "", strings.ReplaceAll(childXML, "TOOLS", usmt))
	a, err := lab.p.Export(authtest.Context(), []string{capture}, provider.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prdUSMT := create(t, prd, "SMS_Package", map[string]any{"Name": "USMT", "Version": "10.1", "DefaultImageFlags": int64(2)})
	res, err = prd.Import(authtest.Context(), zipOf(t, a), provider.ImportOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	check("USMT", res, map[string]want{usmt: {provider.RuleUSMT, prdUSMT}})
}
