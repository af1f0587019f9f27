package cmexport

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/schema"
)

// realZips are the console exports in testdata (MANIFEST.tsv there says
// where each comes from and under which licence).
func realZips(t *testing.T) []string {
	t.Helper()
	zips, err := filepath.Glob("../../testdata/export-zips/*.zip")
	if err != nil || len(zips) != 6 {
		t.Fatalf("want the 6 real exports in testdata/export-zips, found %d (%v)", len(zips), err)
	}
	return zips
}

func readZipFile(t *testing.T, file string) *Archive {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Read(bytes.NewReader(data), int64(len(data)), DefaultLimits)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(file), err)
	}
	return a
}

// Every real export reads without a problem: one task sequence, listed in
// the manifest, its references info, the USMT package and the
// authoring scope; its object.xml becomes an instance of the schema's
// class with NULL and empty kept apart.
func TestReadRealExports(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range realZips(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			a := readZipFile(t, file)
			if len(a.Problems) > 0 {
				t.Fatalf("problems: %v", a.Problems)
			}
			if !a.OPC || len(a.Objects) != 1 || !strings.HasPrefix(a.AuthoringScope, "ScopeId_") || a.USMTPackage == "" {
				t.Fatalf("OPC %v, %d objects, scope %q, USMT %q", a.OPC, len(a.Objects), a.AuthoringScope, a.USMTPackage)
			}
			o := a.Objects[0]
			if o.Class != "SMS_TaskSequencePackage" || !o.Entry || len(o.PackageID) != 8 {
				t.Fatalf("object %s entry %v", o.Ref(), o.Entry)
			}
			in, unknown, err := ToCIM(reg, o.XML)
			if err != nil {
				t.Fatal(err)
			}
			if in.String("PackageID") != o.PackageID || !strings.HasPrefix(in.String("Sequence"), "<sequence") {
				t.Fatalf("instance %q, sequence %.20q", in.String("PackageID"), in.String("Sequence"))
			}
			for _, u := range unknown {
				if !strings.HasPrefix(u, "Localized") {
					t.Errorf("property %s is not in the schema", u)
				}
			}
			// NULL and empty stay apart: Reserved has no VALUE, Category an empty one
			if v, ok := in.Values["Reserved"]; !ok || v != nil {
				t.Errorf("Reserved = %#v (present %v), want NULL", v, ok)
			}
			if v, ok := in.Values["Category"]; !ok || v != "" {
				t.Errorf("Category = %#v (present %v), want empty", v, ok)
			}
			refs, _ := in.Values["References"].([]any)
			if len(o.References) != len(refs) && !(len(refs) > 0 && len(o.References) == 0) {
				t.Errorf("%d references, %d references info", len(refs), len(o.References))
			}
		})
	}
}

// The CIM-XML writer writes each real object.xml back byte for byte:
// the console's layout (CRLF, two-space indent, no BOM, no declaration,
// no final newline, CDATA for markup) is what it writes.
func TestObjectXMLRoundTripsByteForByte(t *testing.T) {
	for _, file := range realZips(t) {
		zr, err := zip.OpenReader(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, "/object.xml") {
				continue
			}
			rc, _ := f.Open()
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(rc)
			rc.Close()
			x, err := DecodeInstance(buf.Bytes())
			if err != nil {
				t.Fatalf("%s %s: %v", filepath.Base(file), f.Name, err)
			}
			if got := EncodeInstance(x); !bytes.Equal(got, buf.Bytes()) {
				i := 0
				for i < len(got) && i < buf.Len() && got[i] == buf.Bytes()[i] {
					i++
				}
				lo := max(0, i-80)
				t.Errorf("%s %s differs at byte %d:\nwant %q\ngot  %q", filepath.Base(file), f.Name, i, buf.Bytes()[lo:min(buf.Len(), i+80)], got[lo:min(len(got), i+80)])
			}
		}
		zr.Close()
	}
}

// zipOf builds a zip of name, content pairs.
func zipOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: files[i], Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(files[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// realParts returns the parts of a real export, by name.
func realParts(t *testing.T) (names []string, parts map[string]string) {
	t.Helper()
	zr, err := zip.OpenReader(realZips(t)[5])
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	parts = map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(rc)
		rc.Close()
		names = append(names, f.Name)
		parts[f.Name] = buf.String()
	}
	return names, parts
}

func withParts(t *testing.T, change func(names []string, parts map[string]string) []string) []byte {
	names, parts := realParts(t)
	names = change(names, parts)
	var files []string
	for _, n := range names {
		files = append(files, n, parts[n])
	}
	return zipOf(t, files...)
}

// Bad input: each zip is refused whole (an error naming the entry) or
// read with an error Problem naming the object and part.
func TestBadZips(t *testing.T) {
	const tsPart = "SMS_TaskSequencePackage/MEM00169/object.xml"
	small := Limits{MaxEntries: 100, MaxPartSize: 1 << 20, MaxTotalSize: 2 << 20}
	cases := []struct {
		name    string
		zip     []byte
		kind    errs.Kind // refused whole with this kind
		problem string    // or read with an error problem containing this
		part    string    // the part the error or problem names
	}{
		{name: "not a zip", zip: []byte("<sequence version=\"3.10\"/>"), kind: errs.Invalid},
		{name: "truncated zip", zip: withParts(t, func(n []string, _ map[string]string) []string { return n })[:500], kind: errs.Invalid},
		{name: "dot-dot entry", zip: zipOf(t, "SMS_TaskSequencePackage/../../etc/passwd", "x"), kind: errs.Invalid, part: "../../etc/passwd"},
		{name: "escaped dot-dot entry", zip: zipOf(t, "SMS_TaskSequencePackage/%2e%2e/%2e%2e/x", "x"), kind: errs.Invalid, part: "%2e%2e"},
		{name: "absolute entry", zip: zipOf(t, "/etc/cron.d/x", "x"), kind: errs.Invalid, part: "/etc/cron.d/x"},
		{name: "drive entry", zip: zipOf(t, `C:\Windows\x.xml`, "x"), kind: errs.Invalid, part: `C:\Windows\x.xml`},
		{name: "declared bomb", zip: declaredBomb(t, 3<<20), kind: errs.TooLarge, part: "object.xml"},
		{name: "real bomb", zip: zipOf(t, tsPart, strings.Repeat(" ", 2<<20)), kind: errs.TooLarge, part: tsPart},
		{name: "lying header bomb", zip: lyingBomb(t), kind: errs.Invalid, part: tsPart},
		{name: "total bomb", zip: zipOf(t, "a/object.xml", strings.Repeat(" ", 900<<10), "b/object.xml", strings.Repeat(" ", 900<<10), "c/object.xml", strings.Repeat(" ", 900<<10)), kind: errs.TooLarge, part: "c/object.xml"},
		{name: "duplicate entry", zip: zipOf(t, "Manifest.xml", "<LibraryDocument/>", "manifest.xml", "<LibraryDocument/>"), kind: errs.Invalid, part: "manifest.xml"},
		{
			name: "manifest names a missing part",
			zip: withParts(t, func(n []string, _ map[string]string) []string {
				return remove(n, tsPart)
			}),
			problem: "Manifest.xml names this part, but the zip does not have it", part: tsPart,
		},
		{
			name: "object.xml not CIM-XML",
			zip: withParts(t, func(n []string, p map[string]string) []string {
				p[tsPart] = `<sequence version="3.10"><step name="x"/></sequence>`
				return n
			}),
			problem: "not CIM-XML: the root element is <sequence>", part: tsPart,
		},
		{
			name: "object.xml not XML",
			zip: withParts(t, func(n []string, p map[string]string) []string {
				p[tsPart] = p[tsPart][:1000]
				return n
			}),
			problem: "not CIM-XML: ", part: tsPart,
		},
		{
			name: "duplicate object",
			zip: withParts(t, func(n []string, p map[string]string) []string {
				p["SMS_TaskSequencePackage/COPY0001/object.xml"] = p[tsPart]
				return append(n, "SMS_TaskSequencePackage/COPY0001/object.xml")
			}),
			problem: "duplicate object", part: "SMS_TaskSequencePackage/COPY0001/object.xml",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Read(bytes.NewReader(c.zip), int64(len(c.zip)), small)
			if c.kind != 0 {
				if err == nil || errs.KindOf(err) != c.kind {
					t.Fatalf("err = %v (kind %v), want kind %v", err, errs.KindOf(err), c.kind)
				}
				if c.part != "" && !strings.Contains(err.Error(), c.part) {
					t.Fatalf("the error does not name %s: %v", c.part, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused whole: %v", err)
			}
			for _, p := range a.Errors() {
				if strings.Contains(p.Message, c.problem) && p.Part == c.part {
					return
				}
			}
			t.Fatalf("no error problem %q naming %s: %v", c.problem, c.part, a.Problems)
		})
	}
}

func remove(names []string, name string) []string {
	var out []string
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}

// declaredBomb is a zip whose one entry's header declares size bytes.
func declaredBomb(t *testing.T, size uint64) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "SMS_TaskSequencePackage/X/object.xml", Method: zip.Store, CompressedSize64: 4, UncompressedSize64: size, CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("abcd"))
	_ = zw.Close()
	return buf.Bytes()
}

// lyingBomb is a zip whose entry declares 100 bytes and inflates to 900 KB.
func lyingBomb(t *testing.T) []byte {
	good := zipOf(t, "SMS_TaskSequencePackage/MEM00169/object.xml", strings.Repeat("A", 900<<10))
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	f := zr.File[0]
	raw, err := f.OpenRaw()
	if err != nil {
		t.Fatal(err)
	}
	var data bytes.Buffer
	_, _ = data.ReadFrom(raw)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	fh := f.FileHeader
	fh.UncompressedSize64 = 100
	w, err := zw.CreateRaw(&fh)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(data.Bytes())
	_ = zw.Close()
	return buf.Bytes()
}

// A zip of bare object folders (no OPC part, no manifest, under a top
// folder) reads: objects are found by their folders. A program folder
// stored %20-escaped is decoded.
func TestReadBareFoldersAndEscapedNames(t *testing.T) {
	_, parts := realParts(t)
	ts := parts["SMS_TaskSequencePackage/MEM00169/object.xml"]
	prog := `<INSTANCE CLASSNAME="SMS_Program"><PROPERTY NAME="PackageID" TYPE="string"><VALUE>MEM000FB</VALUE></PROPERTY><PROPERTY NAME="ProgramName" TYPE="string"><VALUE>Multiplatform x64</VALUE></PROPERTY></INSTANCE>`
	data := zipOf(t,
		"tasksequence1/SMS_TaskSequencePackage/MEM00169/object.xml", ts,
		"tasksequence1/SMS_TaskSequencePackage/MEM00169/ReferencesInfo.xml", parts["SMS_TaskSequencePackage/MEM00169/ReferencesInfo.xml"],
		"tasksequence1/SMS_Program/MEM000FB_Multiplatform%20x64/object.xml", prog,
	)
	a, err := Read(bytes.NewReader(data), int64(len(data)), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if a.OPC || len(a.Errors()) > 0 || len(a.Objects) != 2 {
		t.Fatalf("OPC %v, %d objects, problems %v", a.OPC, len(a.Objects), a.Problems)
	}
	var refs, progName string
	for _, o := range a.Objects {
		if o.Class == "SMS_Program" {
			progName = o.ProgramName + "|" + o.Dir
		} else {
			refs = o.References[0].ReferenceName
		}
	}
	if progName != "Multiplatform x64|tasksequence1/SMS_Program/MEM000FB_Multiplatform x64" || refs != "HP Image Assistant Prod" {
		t.Fatalf("program %q, first reference %q", progName, refs)
	}
}

// Write then Read gives back the objects, the comment, the scope and the
// references info; the program part name is %20-escaped in the zip.
func TestWriteThenRead(t *testing.T) {
	src := readZipFile(t, realZips(t)[5])
	src.Description = "to production & back"
	prog, err := DecodeInstance([]byte(`<INSTANCE CLASSNAME="SMS_Program"><PROPERTY NAME="PackageID" TYPE="string"><VALUE>MEM000FB</VALUE></PROPERTY><PROPERTY NAME="ProgramName" TYPE="string"><VALUE>Multiplatform x64</VALUE></PROPERTY></INSTANCE>`))
	if err != nil {
		t.Fatal(err)
	}
	src.Objects = append(src.Objects, &Object{Class: "SMS_Program", PackageID: "MEM000FB", ProgramName: "Multiplatform x64", XML: prog})
	var buf bytes.Buffer
	if err := Write(&buf, src, time.Now()); err != nil {
		t.Fatal(err)
	}
	zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	found := false
	for _, f := range zr.File {
		found = found || f.Name == "SMS_Program/MEM000FB_Multiplatform%20x64/object.xml"
	}
	if !found {
		t.Fatal("the program part is not stored %20-escaped")
	}
	got := readZipFile(t, writeTemp(t, buf.Bytes()))
	if len(got.Problems) > 0 || len(got.Objects) != 2 || got.Description != src.Description || got.AuthoringScope != src.AuthoringScope || got.USMTPackage != src.USMTPackage {
		t.Fatalf("read back: %d objects, %q, %q, %q, %v", len(got.Objects), got.Description, got.AuthoringScope, got.USMTPackage, got.Problems)
	}
	if !bytes.Equal(EncodeInstance(got.Objects[0].XML), EncodeInstance(src.Objects[0].XML)) || len(got.Objects[0].References) != 3 || got.Objects[0].References[2] != src.Objects[0].References[2] {
		t.Fatal("the task sequence or its references info changed")
	}
	if !got.Objects[0].Entry || got.Objects[1].Entry {
		t.Fatal("the program must be only in _rels/.rels, the sequence in the manifest")
	}
}

func writeTemp(t *testing.T, data []byte) string {
	f := filepath.Join(t.TempDir(), "x.zip")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// A map file: lines or JSON; bad lines name their number.
func TestParseMap(t *testing.T) {
	m, err := ParseMap([]byte("# lab to prod\nLAB00001 PRD00004\nLAB00002=PRD00005\n\nLAB00003,PRD00006\n"))
	if err != nil || len(m) != 3 || m["LAB00002"] != "PRD00005" {
		t.Fatalf("%v %v", m, err)
	}
	if m, err := ParseMap([]byte(`{"LAB00001": "PRD00004"}`)); err != nil || m["LAB00001"] != "PRD00004" {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"LAB00001\n", "LAB00001 PRD00004\nlab00001 PRD00005\n", "A B C\n", `{"A": 1}`} {
		if _, err := ParseMap([]byte(bad)); !errs.Is(err, errs.Invalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := ParseMap([]byte("LAB00001 PRD00004\nLAB00001 PRD00005\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a source mapped twice: %v", err)
	}
}
