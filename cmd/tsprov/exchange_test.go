package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cmexport"
	"github.com/tsprov/tsprov/internal/provider"
)

func realExportFiles(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("../../testdata/export-zips/*.zip")
	if len(files) != 6 {
		t.Fatalf("want the 6 real exports, found %d", len(files))
	}
	return files
}

// zipParts reads a zip's entries by name, in order.
func zipParts(t *testing.T, file string) ([]string, map[string][]byte) {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	parts := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		if f.Method != zip.Store {
			t.Errorf("%s: entry %s is not stored", filepath.Base(file), f.Name)
		}
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		names = append(names, f.Name)
		parts[f.Name] = data
	}
	return names, parts
}

// shape names a part without the ids and GUIDs that differ between
// exports: SMS_TaskSequencePackage/<ID>/object.xml, …/<GUID>.psmdcp.
var idInPart = regexp.MustCompile(`/[A-Z0-9]{3}[0-9A-F]{5}/|/[0-9a-f]{32}\.psmdcp$`)

func shape(name string) string { return idInPart.ReplaceAllString(name, "/<ID>/") }

// xmlShape is an XML document's element and attribute names, in order,
// with the attribute values kept where they are not ids or GUIDs.
func xmlShape(t *testing.T, data []byte) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	var out []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			s := se.Name.Local
			var attrs []string
			for _, a := range se.Attr {
				v := a.Value
				if a.Name.Local == "Id" || a.Name.Local == "Target" || a.Name.Local == "Path" || a.Name.Local == "Value" {
					v = "…"
				}
				attrs = append(attrs, a.Name.Local+"="+v)
			}
			sort.Strings(attrs)
			out = append(out, s+"["+strings.Join(attrs, " ")+"]")
		}
	}
}

// Every real export imports through the command line into a server, and
// the zip tsprov exports of it has the console's structure, part by part:
// the same part names in the same order, stored entries, the same
// [Content_Types].xml byte for byte, BOMs where the console writes them,
// the same relationships (types, target mode, one per object plus the
// core properties), the same manifest and core properties elements, and
// an object.xml with the same layout whose properties are those of the
// console's, less the ones the schema does not have.
func TestExportHasTheConsolesStructure(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir(), "--rate-limit", "-1", "--site-code", "LAB")
	server := "--server=" + srv.url
	dir := t.TempDir()
	for _, file := range realExportFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			code, out, errOut := runCLI("import", server, file, "--output", "json")
			if code != 0 {
				t.Fatalf("import: %d %s", code, errOut)
			}
			var res provider.ImportResult
			if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Objects) != 1 || res.Objects[0].Outcome != "created" {
				t.Fatalf("import answered %s (%v)", out, err)
			}
			id := res.Objects[0].TargetID
			zipFile := filepath.Join(dir, id+".zip")
			if code, _, errOut := runCLI("export", server, id, "-o", zipFile); code != 0 {
				t.Fatalf("export: %d %s", code, errOut)
			}
			wantNames, want := zipParts(t, file)
			gotNames, got := zipParts(t, zipFile)
			var ws, gs []string
			for _, n := range wantNames {
				ws = append(ws, shape(n))
			}
			for _, n := range gotNames {
				gs = append(gs, shape(n))
			}
			if strings.Join(ws, "\n") != strings.Join(gs, "\n") {
				t.Fatalf("parts differ:\nconsole %v\ntsprov  %v", ws, gs)
			}
			for i, wn := range wantNames {
				w, g := want[wn], got[gotNames[i]]
				if bytes.HasPrefix(w, []byte("\ufeff")) != bytes.HasPrefix(g, []byte("\ufeff")) {
					t.Errorf("%s: BOM %v, the console's %v", gs[i], bytes.HasPrefix(g, []byte("\ufeff")), bytes.HasPrefix(w, []byte("\ufeff")))
				}
				switch {
				case wn == cmexport.ContentTypesPart:
					if !bytes.Equal(w, g) {
						t.Errorf("[Content_Types].xml differs:\n%s\n%s", w, g)
					}
				case strings.HasSuffix(wn, "/object.xml"):
					checkObjectLayout(t, w, g)
				case strings.HasSuffix(wn, "ReferencesInfo.xml"), strings.HasSuffix(wn, "USERSTATE_MIGRATION_PACKAGE.xml"):
					// values are the site's; the shape of the first entry is compared
					if ws, gs := xmlShape(t, w), xmlShape(t, g); len(ws) > 0 && len(gs) > 0 && ws[0] != gs[0] {
						t.Errorf("%s: root %s, the console's %s", wn, gs[0], ws[0])
					}
				default:
					if ws, gs := xmlShape(t, w), xmlShape(t, g); strings.Join(ws, " ") != strings.Join(gs, " ") {
						t.Errorf("%s differs as XML:\nconsole %v\ntsprov  %v", shape(wn), ws, gs)
					}
				}
			}
		})
	}
}

var cdata = regexp.MustCompile(`(?s)<!\[CDATA\[.*?\]\]>`)

var propertyLine = regexp.MustCompile(`(?m)^  <PROPERTY(?:\.ARRAY|\.OBJECTARRAY)? NAME="([^"]+)"`)

// checkObjectLayout compares two object.xml parts by layout: no BOM and no
// declaration, CRLF, no final newline, and the same top-level properties
// in the same order, less the console's that the schema does not have.
func checkObjectLayout(t *testing.T, want, got []byte) {
	t.Helper()
	markup := cdata.ReplaceAll(got, nil) // values keep their own line ends
	if bytes.HasPrefix(got, []byte("<?xml")) || bytes.HasSuffix(got, []byte("\n")) || bytes.Count(markup, []byte("\n")) != bytes.Count(markup, []byte("\r\n")) {
		t.Errorf("object.xml layout: declaration %v, final newline %v, bare LF %v", bytes.HasPrefix(got, []byte("<?xml")), bytes.HasSuffix(got, []byte("\n")), bytes.Count(markup, []byte("\n")) != bytes.Count(markup, []byte("\r\n")))
	}
	names := func(b []byte) []string {
		var out []string
		for _, m := range propertyLine.FindAllSubmatch(b, -1) {
			out = append(out, string(m[1]))
		}
		return out
	}
	have := map[string]bool{}
	for _, n := range names(got) {
		have[n] = true
	}
	var wantNames []string
	for _, n := range names(want) {
		if have[n] {
			wantNames = append(wantNames, n)
		} else if !strings.HasPrefix(n, "Localized") {
			t.Errorf("object.xml: the console writes %s, tsprov does not", n)
		}
	}
	if g := names(got); strings.Join(g, " ") != strings.Join(wantNames, " ") {
		t.Errorf("object.xml properties:\nconsole %v\ntsprov  %v", wantNames, g)
	}
}

func createAt(t *testing.T, base, class string, props map[string]any) string {
	t.Helper()
	a, err := call(t, "POST", base+"/AdminService/wmi/"+class, props, "")
	if err != nil || a.status != http.StatusCreated {
		t.Fatalf("create %s %v: %d %v %v", class, props, a.status, a.body, err)
	}
	return a.body["PackageID"].(string)
}

func sequenceAt(t *testing.T, base, name, boot string, steps ...map[string]any) string {
	t.Helper()
	pkg := map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "Name": name}
	if boot != "" {
		pkg["BootImageID"] = boot
	}
	list := make([]any, len(steps))
	for i, s := range steps {
		list[i] = s
	}
	a, err := call(t, "POST", base+"/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
		"TaskSequencePackage": pkg,
		"TaskSequence":        map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence", "Steps": list},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	return savedID(t, a)
}

func runStep(name, pkg string) map[string]any {
	return map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_RunCommandLineAction", "Name": name, "CommandLine": "tool.exe", "PackageID": pkg}
}

func installStep(name, pkg, program string) map[string]any {
	return map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_InstallSoftwareAction", "Name": name, "PackageID": pkg, "ProgramName": program}
}

func childStep(name, ts string) map[string]any {
	return map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_SubTasksequence", "Name": name, "TsPackageID": ts}
}

func countAt(t *testing.T, base, class string) int {
	t.Helper()
	a, err := call(t, "GET", base+"/AdminService/wmi/"+class, nil, "")
	if err != nil || a.status != http.StatusOK {
		t.Fatalf("list %s: %v %v", class, a.body, err)
	}
	return len(a.body["value"].([]any))
}

// Promotion between two sites (two servers, two data folders, different
// site codes) whose packages have different ids for the same content:
// the dry run lists how each reference maps (and the same plan comes as
// JSON from REST), changes nothing; the import gives a task sequence
// whose every step, and its boot image, names the target's ids, with no
// dangling reference. A map file that names an unknown package is
// refused and writes nothing.
func TestPromotionBetweenTwoSites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two server processes")
	}
	lab := startServerProcess(t, t.TempDir(), "--rate-limit", "-1", "--site-code", "LAB")
	prd := startServerProcess(t, t.TempDir(), "--rate-limit", "-1", "--site-code", "PRD")

	// the lab's packages, and the same content at production under other ids
	build := func(base string, filler int) map[string]string {
		for i := 0; i < filler; i++ {
			createAt(t, base, "SMS_Package", map[string]any{"Name": "filler"})
		}
		ids := map[string]string{
			"tools": createAt(t, base, "SMS_Package", map[string]any{"Name": "Tools", "Version": "2.1", "Manufacturer": "Contoso"}),
			"boot":  createAt(t, base, "SMS_BootImagePackage", map[string]any{"Name": "WinPE x64", "Version": "10.0.26100"}),
			"os":    createAt(t, base, "SMS_OperatingSystemInstallPackage", map[string]any{"Name": "Windows 11 24H2", "Version": "24H2"}),
		}
		ids["child"] = sequenceAt(t, base, "Apply drivers", "", runStep("Drivers", ids["tools"]))
		return ids
	}
	src := build(lab.url, 0)
	dst := build(prd.url, 3)
	main := sequenceAt(t, lab.url, "Deploy Windows 11", src["boot"],
		installStep("Install tools", src["tools"], "Install"),
		runStep("Prepare", src["tools"]),
		map[string]any{"@odata.type": "#AdminService.SMS_TaskSequence_UpgradeOperatingSystemAction", "Name": "Upgrade", "InstallPackageID": src["os"], "Enabled": false},
		childStep("Drivers", src["child"]),
	)
	for k := range src {
		if src[k] == dst[k] {
			t.Fatalf("the two sites gave %s the same id %s", k, src[k])
		}
	}
	zipFile := filepath.Join(t.TempDir(), "promote.zip")
	if code, _, errOut := runCLI("export", "--server="+lab.url, main, "-o", zipFile, "--no-dependence", "--comment", "to production"); code != 0 {
		t.Fatalf("export: %d %s", code, errOut)
	}
	before := countAt(t, prd.url, "SMS_TaskSequencePackage")
	// packages without a source have no content to carry
	code, out, errOut := runCLI("export", "--server="+lab.url, main, "-o", filepath.Join(t.TempDir(), "c.zip"), "--with-content")
	if code != 0 || !strings.Contains(out, "no package of the export has content") {
		t.Fatalf("export --with-content: %d %s %s", code, out, errOut)
	}

	// dry run: the table maps every lab id to the production one
	code, out, errOut = runCLI("import", "--server="+prd.url, zipFile, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: %d %s", code, errOut)
	}
	for _, k := range []string{"tools", "boot", "os", "child"} {
		if !regexp.MustCompile(src[k] + `\s.*\s` + dst[k] + `\s+same name, type and version`).MatchString(out) {
			t.Errorf("the plan does not map %s %s to %s:\n%s", k, src[k], dst[k], out)
		}
	}
	if !strings.Contains(out, "dry run: nothing was changed") || countAt(t, prd.url, "SMS_TaskSequencePackage") != before {
		t.Fatalf("the dry run changed something:\n%s", out)
	}
	// the same plan as JSON from REST
	data, _ := os.ReadFile(zipFile)
	req, _ := http.NewRequest("POST", prd.url+"/tsprov/v1/import?dryRun=true", bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/zip")
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var plan provider.ImportResult
	err = json.NewDecoder(resp.Body).Decode(&plan)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !plan.DryRun {
		t.Fatalf("REST dry run: %d %v", resp.StatusCode, err)
	}
	mapped := map[string]string{}
	for _, e := range plan.Plan {
		mapped[e.SourceID] = e.TargetID
	}
	for _, k := range []string{"tools", "boot", "os", "child"} {
		if mapped[src[k]] != dst[k] {
			t.Errorf("REST plan maps %s to %q, want %s", src[k], mapped[src[k]], dst[k])
		}
	}

	// a map file naming a package production does not have: refused, nothing written
	mapFile := filepath.Join(t.TempDir(), "map.txt")
	_ = os.WriteFile(mapFile, []byte(src["tools"]+" PRD99999\n"), 0o600)
	code, _, errOut = runCLI("import", "--server="+prd.url, zipFile, "--map", mapFile)
	if code == 0 || !strings.Contains(errOut, "PRD99999") || countAt(t, prd.url, "SMS_TaskSequencePackage") != before {
		t.Fatalf("a map file with an unknown package: %d %s", code, errOut)
	}
	// a map file overrides the name rule
	other := createAt(t, prd.url, "SMS_Package", map[string]any{"Name": "Tools (patched)", "Version": "2.2"})
	_ = os.WriteFile(mapFile, []byte("# tools go to the patched build\n"+src["tools"]+" "+other+"\n"), 0o600)
	code, out, errOut = runCLI("import", "--server="+prd.url, zipFile, "--map", mapFile, "--output", "json")
	if code != 0 {
		t.Fatalf("import: %d %s", code, errOut)
	}
	newID := importedAs(t, out, main)
	a, err := call(t, "GET", prd.url+"/AdminService/wmi/SMS_TaskSequencePackage('"+newID+"')", nil, "")
	if err != nil || a.status != 200 {
		t.Fatalf("get %s: %v %v", newID, a.body, err)
	}
	ts := a.body["value"].([]any)[0].(map[string]any)
	if ts["TaskSequenceFlags"].(float64) != 0 || ts["BootImageID"] != dst["boot"] || ts["Description"] != nil && ts["Description"] != "" {
		t.Errorf("imported package: flags %v, boot image %v", ts["TaskSequenceFlags"], ts["BootImageID"])
	}
	want := map[string]bool{other + "/Install": true, other + "/*": true, dst["boot"] + "/*": true, dst["child"] + "/*": true}
	refs := ts["References"].([]any)
	for _, r := range refs {
		ref := r.(map[string]any)
		key := ref["Package"].(string) + "/" + ref["Program"].(string)
		if !want[key] {
			t.Errorf("reference %s is not a production id of the plan", key)
		}
		delete(want, key)
	}
	if len(want) > 0 {
		t.Errorf("references missing: %v (have %v)", want, refs)
	}
	seq := ts["Sequence"].(string)
	if strings.Contains(seq, "LAB") || !strings.Contains(seq, dst["os"]) || !strings.Contains(seq, dst["child"]) {
		t.Errorf("the sequence still names lab ids or lacks production ones:\n%s", seq)
	}
}

// importedAs reads the JSON of `tsprov import --output json` and returns
// the id the object sourceID of the zip has on the target site.
func importedAs(t *testing.T, out, sourceID string) string {
	t.Helper()
	var res provider.ImportResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		if o.SourceID == sourceID && o.ProgramName == "" {
			return o.TargetID
		}
	}
	t.Fatalf("the import did not bring %s: %s", sourceID, out)
	return ""
}

// rezip builds a zip of the parts of a real export after change edits
// them (names in order, contents by name).
func rezip(t *testing.T, change func(names []string, parts map[string][]byte) []string) []byte {
	t.Helper()
	names, parts := zipParts(t, realExportFiles(t)[5])
	names = change(names, parts)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(parts[n])
	}
	_ = zw.Close()
	return buf.Bytes()
}

func postZip(t *testing.T, base, query string, data []byte) answer {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/tsprov/v1/import"+query, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/zip")
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode}
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &a.body)
	return a
}

// importedClasses are the classes an import writes.
var importedClasses = []string{"SMS_TaskSequencePackage", "SMS_Package", "SMS_Program", "SMS_BootImagePackage", "SMS_OperatingSystemInstallPackage", "SMS_ImagePackage"}

// Bad input to POST /tsprov/v1/import: each is refused with the OData
// error envelope naming the part, and nothing is written.
func TestImportRefusesBadZips(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir(), "--rate-limit", "-1")
	const tsPart = "SMS_TaskSequencePackage/MEM00169/object.xml"
	declared := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.CreateRaw(&zip.FileHeader{Name: tsPart, Method: zip.Store, CompressedSize64: 4, UncompressedSize64: 40 << 20})
		_, _ = w.Write([]byte("abcd"))
		_ = zw.Close()
		return buf.Bytes()
	}()
	lying := func() []byte {
		var good bytes.Buffer
		zw := zip.NewWriter(&good)
		w, _ := zw.Create(tsPart)
		_, _ = w.Write(bytes.Repeat([]byte("A"), 1<<20))
		_ = zw.Close()
		zr, _ := zip.NewReader(bytes.NewReader(good.Bytes()), int64(good.Len()))
		raw, _ := zr.File[0].OpenRaw()
		data, _ := io.ReadAll(raw)
		var buf bytes.Buffer
		zw = zip.NewWriter(&buf)
		fh := zr.File[0].FileHeader
		fh.UncompressedSize64 = 100
		w, _ = zw.CreateRaw(&fh)
		_, _ = w.Write(data)
		_ = zw.Close()
		return buf.Bytes()
	}()
	cases := []struct {
		name   string
		query  string
		zip    []byte
		status int
		names  string
	}{
		{"not a zip", "", []byte("PK but not really a zip"), 400, "not a zip archive"},
		{"declared bomb", "", declared, 413, tsPart},
		{"inflates beyond its header", "", lying, 400, tsPart},
		{"dot-dot entry", "", rezip(t, func(n []string, p map[string][]byte) []string {
			p["SMS_TaskSequencePackage/../../../tmp/evil.xml"] = []byte("x")
			return append(n, "SMS_TaskSequencePackage/../../../tmp/evil.xml")
		}), 400, "../../../tmp/evil.xml"},
		{"absolute entry", "", rezip(t, func(n []string, p map[string][]byte) []string {
			p["/etc/evil.xml"] = []byte("x")
			return append(n, "/etc/evil.xml")
		}), 400, "/etc/evil.xml"},
		{"manifest names a missing part", "", rezip(t, func(n []string, p map[string][]byte) []string {
			var out []string
			for _, x := range n {
				if x != tsPart {
					out = append(out, x)
				}
			}
			return out
		}), 400, tsPart},
		{"object.xml not CIM-XML", "", rezip(t, func(n []string, p map[string][]byte) []string {
			p[tsPart] = []byte(`<sequence version="3.10"/>`)
			return n
		}), 400, tsPart},
		{"duplicate objects", "", rezip(t, func(n []string, p map[string][]byte) []string {
			p["SMS_TaskSequencePackage/COPY0001/object.xml"] = p[tsPart]
			return append(n, "SMS_TaskSequencePackage/COPY0001/object.xml")
		}), 400, "SMS_TaskSequencePackage/COPY0001/object.xml"},
		{"map names an unknown package", "?map=MEM000FB=PS1FFFFF", rezip(t, func(n []string, p map[string][]byte) []string { return n }), 400, "PS1FFFFF"},
		{"map names a package the zip does not use", "?map=XYZ00001=PS100001", rezip(t, func(n []string, p map[string][]byte) []string { return n }), 400, "XYZ00001"},
		{"unknown action", "?action=Merge", rezip(t, func(n []string, p map[string][]byte) []string { return n }), 400, "Merge"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := postZip(t, srv.url, c.query, c.zip)
			msg := errorMessage(a)
			if a.status != c.status || !strings.Contains(msg, c.names) {
				t.Fatalf("status %d, message %q; want %d naming %s", a.status, msg, c.status, c.names)
			}
			for _, class := range importedClasses {
				if n := countAt(t, srv.url, class); n != 0 {
					t.Fatalf("%d %s written", n, class)
				}
			}
		})
	}
	// the multipart form: a form field or a map part over its limit
	for _, c := range []struct {
		field, value, names string
	}{
		{"action", strings.Repeat("Overwrite", 500), "action"},
		{"map", strings.Repeat("MEM000FB PS100001\n", 60000), "map"},
	} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "export.zip")
		_, _ = fw.Write(rezip(t, func(n []string, _ map[string][]byte) []string { return n }))
		_ = mw.WriteField(c.field, c.value)
		_ = mw.Close()
		req, _ := http.NewRequest("POST", srv.url+"/tsprov/v1/import", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		a := answer{status: resp.StatusCode}
		_ = json.NewDecoder(resp.Body).Decode(&a.body)
		resp.Body.Close()
		if a.status != 413 || !strings.Contains(errorMessage(a), c.names) || countAt(t, srv.url, "SMS_TaskSequencePackage") != 0 {
			t.Errorf("a %s of %d bytes: %d %q, want 413 naming it, nothing written", c.field, len(c.value), a.status, errorMessage(a))
		}
	}
	// export: what it refuses
	for _, c := range []struct {
		body   map[string]any
		status int
		names  string
	}{
		{map[string]any{}, 400, "PackageIDs"},
		{map[string]any{"PackageIDs": []string{"PS1FFFFF"}}, 404, "PS1FFFFF"},
		{map[string]any{"PackageIDs": []string{"PS1FFFFF"}, "WithContent": true}, 404, "PS1FFFFF"},
		{map[string]any{"PackageIDs": "PS100001"}, 400, "PackageIDs"},
	} {
		a, err := call(t, "POST", srv.url+"/tsprov/v1/export", c.body, "")
		if err != nil || a.status != c.status || !strings.Contains(errorMessage(a), c.names) {
			t.Errorf("export %v: %d %q, want %d naming %s", c.body, a.status, errorMessage(a), c.status, c.names)
		}
	}
	// the command line: one line, non-zero, nothing written
	bad := filepath.Join(t.TempDir(), "bad.zip")
	_ = os.WriteFile(bad, []byte("not a zip"), 0o600)
	code, _, errOut := runCLI("import", "--server="+srv.url, bad)
	if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "not a zip") {
		t.Fatalf("tsprov import of a bad zip: %d %q", code, errOut)
	}
	// a partial import of a zip with a broken object imports the rest
	mixed := rezip(t, func(n []string, p map[string][]byte) []string {
		p["SMS_TaskSequencePackage/COPY0001/object.xml"] = []byte("<INSTANCE CLASSNAME=\"SMS_TaskSequencePackage\"><PROPERTY NAME=\"PackageID\" TYPE=\"string\"><VALUE>COPY0001</VALUE></PROPERTY><PROPERTY NAME=\"Duration\" TYPE=\"uint32\"><VALUE>soon</VALUE></PROPERTY></INSTANCE>")
		return append(n, "SMS_TaskSequencePackage/COPY0001/object.xml")
	})
	if a := postZip(t, srv.url, "", mixed); a.status != 400 || countAt(t, srv.url, "SMS_TaskSequencePackage") != 0 {
		t.Fatalf("all or nothing: %d %v", a.status, a.body)
	}
	a := postZip(t, srv.url, "?partial=true", mixed)
	if a.status != 200 || countAt(t, srv.url, "SMS_TaskSequencePackage") != 1 {
		t.Fatalf("partial: %d %v", a.status, a.body)
	}
}

// Content travels as the console carries it: `tsprov export
// --with-content` writes the packages' files into FILE_files/<folder>/
// beside the zip, and `tsprov import --content-path` on another site
// makes that folder the package's source and publishes the same content.
func TestContentExportAndImportThroughTheCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two server processes")
	}
	lab := startServerProcess(t, t.TempDir(), "--rate-limit", "-1", "--site-code", "LAB")
	prd := startServerProcess(t, t.TempDir(), "--rate-limit", "-1", "--site-code", "PRD")
	src := t.TempDir()
	files := map[string]string{"setup.exe": strings.Repeat("MZ tools ", 50000), "config/settings.ini": "[tools]\r\nquiet=1\r\n"}
	for name, data := range files {
		f := filepath.Join(src, filepath.FromSlash(name))
		_ = os.MkdirAll(filepath.Dir(f), 0o755)
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tools := createAt(t, lab.url, "SMS_Package", map[string]any{"Name": "Tools", "Version": "3", "PkgSourcePath": src})
	main := sequenceAt(t, lab.url, "Deploy", "", runStep("Prepare", tools))
	var labContent map[string]any
	if a, err := call(t, "GET", lab.url+"/tsprov/v1/content/packages/"+tools, nil, ""); err != nil || a.status != 200 {
		t.Fatalf("lab content: %v %v", a.body, err)
	} else {
		labContent = a.body
	}
	zipFile := filepath.Join(t.TempDir(), "deploy.zip")
	code, out, errOut := runCLI("export", "--server="+lab.url, main, "-o", zipFile, "--with-content")
	if code != 0 || !strings.Contains(out, "content of 1 package(s)") {
		t.Fatalf("export --with-content: %d %s %s", code, out, errOut)
	}
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(strings.TrimSuffix(zipFile, ".zip")+"_files", "Tools", filepath.FromSlash(name)))
		if err != nil || string(got) != data {
			t.Fatalf("%s beside the zip: %v", name, err)
		}
	}
	code, out, errOut = runCLI("import", "--server="+prd.url, zipFile, "--content-path", strings.TrimSuffix(zipFile, ".zip")+"_files", "--output", "json")
	if code != 0 {
		t.Fatalf("import --content-path: %d %s", code, errOut)
	}
	id := importedAs(t, out, tools)
	a, err := call(t, "GET", prd.url+"/tsprov/v1/content/packages/"+id, nil, "")
	if err != nil || a.status != 200 || a.body["hash"] != labContent["hash"] {
		t.Fatalf("production content of %s: %v, want hash %v", id, a.body, labContent["hash"])
	}
}
