package cmexport

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// The fixed parts of the package and the names they live under.
const (
	ContentTypesPart = "[Content_Types].xml"
	RelsPart         = "_rels/.rels"
	ManifestPart     = "Manifest.xml"
	USMTPart         = "SMS_TaskSequencePackage/USERSTATE_MIGRATION_PACKAGE.xml"
	corePropsDir     = "package/services/metadata/core-properties/"
	corePropsRelType = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"

	ObjectFile        = "object.xml"
	ReferencesFile    = "ReferencesInfo.xml"
	AppReferencesFile = "AppReferencesInfo.xml"
	PackageContent    = "PACKAGE_CONTENT.xml"
)

const bom = "\ufeff"

// contentTypes is [Content_Types].xml exactly as every export has it
// (export-format.md §2).
const contentTypes = bom + `<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="text/xml" /><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" /><Default Extension="psmdcp" ContentType="application/vnd.openxmlformats-package.core-properties+xml" /></Types>`

// stripBOM drops a UTF-8 byte order mark.
func stripBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte(bom)) }

// Relationship is one Relationship of _rels/.rels.
type Relationship struct {
	Type       string `xml:"Type,attr"`
	Target     string `xml:"Target,attr"`
	TargetMode string `xml:"TargetMode,attr,omitempty"`
	ID         string `xml:"Id,attr"`
}

type relationships struct {
	XMLName xml.Name       `xml:"http://schemas.openxmlformats.org/package/2006/relationships Relationships"`
	Rels    []Relationship `xml:"Relationship"`
}

func parseRels(data []byte) ([]Relationship, error) {
	var r relationships
	if err := xml.Unmarshal(stripBOM(data), &r); err != nil {
		return nil, err
	}
	return r.Rels, nil
}

func writeRels(rels []Relationship) []byte {
	var b strings.Builder
	b.WriteString(bom + `<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for _, r := range rels {
		b.WriteString(`<Relationship Type="` + escapeAttr(r.Type) + `" Target="` + escapeAttr(r.Target) + `"`)
		if r.TargetMode != "" {
			b.WriteString(` TargetMode="` + escapeAttr(r.TargetMode) + `"`)
		}
		b.WriteString(` Id="` + escapeAttr(r.ID) + `" />`)
	}
	b.WriteString(`</Relationships>`)
	return []byte(b.String())
}

type coreProperties struct {
	Description string `xml:"http://purl.org/dc/elements/1.1/ description"`
}

func parseCoreProperties(data []byte) (string, error) {
	var c coreProperties
	if err := xml.Unmarshal(stripBOM(data), &c); err != nil {
		return "", err
	}
	return c.Description, nil
}

func writeCoreProperties(description string) []byte {
	d := "<dc:description />"
	if description != "" {
		d = "<dc:description>" + textEscaper.Replace(description) + "</dc:description>"
	}
	return []byte(bom + `<?xml version="1.0" encoding="utf-8"?><coreProperties xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">` + d + `</coreProperties>`)
}

// Content is one Contents/Content entry of Manifest.xml: a package's
// content exported beside the zip in <zip>_files/<RelativePath>.
type Content struct {
	UniqueID        string `xml:"UniqueId,attr"`
	Hash            string `xml:"Hash,attr"`
	Description     string `xml:"Description,attr"`
	RelativePath    string `xml:"RelativePath,attr"`
	FullPath        string `xml:"FullPath,attr"`
	SingleFile      string `xml:"SingleFile,attr"`
	StorageType     string `xml:"StorageType,attr"`
	FullOwnership   string `xml:"FullOwnership,attr"`
	OriginalPath    string `xml:"OriginalPath,attr"`
	OriginalStorage string `xml:"OriginalStorage,attr"`
}

// EntryObject is one EntryObjects/Object of Manifest.xml.
type EntryObject struct {
	Path string `xml:"Path,attr"`
	Type string `xml:"Type,attr"`
}

type manifest struct {
	XMLName    xml.Name `xml:"LibraryDocument"`
	Properties []struct {
		Name  string `xml:"Name,attr"`
		Value string `xml:"Value,attr"`
	} `xml:"Properties>Property"`
	Contents []Content     `xml:"Contents>Content"`
	Objects  []EntryObject `xml:"EntryObjects>Object"`
}

func parseManifest(data []byte) (*manifest, error) {
	var m manifest
	if err := xml.Unmarshal(stripBOM(data), &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// parseEntryPath reads `Class.PackageID='ID'` (the quotes single or
// double).
func parseEntryPath(path string) (class, id string, err error) {
	class, rest, ok := strings.Cut(path, ".")
	if !ok {
		return "", "", fmt.Errorf("object path %q has no key", path)
	}
	prop, val, ok := strings.Cut(rest, "=")
	if !ok || !strings.EqualFold(prop, "PackageID") || len(val) < 2 || (val[0] != '\'' && val[0] != '"') || val[len(val)-1] != val[0] {
		return "", "", fmt.Errorf("object path %q is not Class.PackageID='ID'", path)
	}
	return class, val[1 : len(val)-1], nil
}

func writeManifest(scope string, contents []Content, objects []EntryObject) []byte {
	var b strings.Builder
	b.WriteString(bom + `<LibraryDocument xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` + crlf)
	b.WriteString(`  <Properties>` + crlf)
	b.WriteString(`    <Property Name="AUTHORING_SCOPE" Value="` + escapeAttr(scope) + `" />` + crlf)
	b.WriteString(`  </Properties>` + crlf)
	if len(contents) == 0 {
		b.WriteString(`  <Contents />` + crlf)
	} else {
		b.WriteString(`  <Contents>` + crlf)
		for _, c := range contents {
			fmt.Fprintf(&b, `    <Content UniqueId="%s" Hash="%s" Description="%s" RelativePath="%s" FullPath="%s" SingleFile="%s" StorageType="%s" FullOwnership="%s" OriginalPath="%s" OriginalStorage="%s" />`+crlf,
				escapeAttr(c.UniqueID), escapeAttr(c.Hash), escapeAttr(c.Description), escapeAttr(c.RelativePath), escapeAttr(c.FullPath),
				escapeAttr(c.SingleFile), escapeAttr(c.StorageType), escapeAttr(c.FullOwnership), escapeAttr(c.OriginalPath), escapeAttr(c.OriginalStorage))
		}
		b.WriteString(`  </Contents>` + crlf)
	}
	b.WriteString(`  <EntryObjects>` + crlf)
	for _, o := range objects {
		b.WriteString(`    <Object Path="` + escapeAttr(o.Path) + `" Type="` + escapeAttr(o.Type) + `" />` + crlf)
	}
	b.WriteString(`  </EntryObjects>` + crlf)
	b.WriteString(`</LibraryDocument>`)
	return []byte(b.String())
}

// arrayOfString is a .NET XmlSerializer string[].
type arrayOfString struct {
	XMLName xml.Name `xml:"ArrayOfString"`
	Strings []string `xml:"string"`
}

func parseArrayOfString(data []byte) ([]string, error) {
	var a arrayOfString
	if err := xml.Unmarshal(stripBOM(data), &a); err != nil {
		return nil, err
	}
	return a.Strings, nil
}

func writeArrayOfString(items []string) []byte {
	const open = `<ArrayOfString xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"`
	if len(items) == 0 {
		return []byte(bom + open + " />")
	}
	var b strings.Builder
	b.WriteString(bom + open + ">" + crlf)
	for _, s := range items {
		b.WriteString("  <string>" + textEscaper.Replace(s) + "</string>" + crlf)
	}
	b.WriteString("</ArrayOfString>")
	return []byte(b.String())
}

// RefInfo is one SMS_TaskSequenceReferencesInfo of ReferencesInfo.xml:
// what the exporting site knew of a package the sequence refers to.
type RefInfo struct {
	PackageID            string `json:"PackageID"`
	ProgramName          string `json:"ProgramName"`
	ReferenceDescription string `json:"ReferenceDescription"`
	ReferenceName        string `json:"ReferenceName"`
	ReferencePackageID   string `json:"ReferencePackageID"`
	ReferencePackageType int64  `json:"ReferencePackageType"`
	ReferenceProgramName string `json:"ReferenceProgramName"`
	ReferenceVersion     string `json:"ReferenceVersion"`
}

// AppRefInfo is one SMS_TaskSequenceAppReferencesInfo of
// AppReferencesInfo.xml.
type AppRefInfo struct {
	PackageID       string
	RefAppCIID      int64
	RefAppModelName string
	RefAppPackageID string
}

// flatInstance reads the hand-written instances of the *Info parts: a
// map of property name to value (NULL properties absent).
func flatInstance(s string) (string, map[string]string, error) {
	x, err := DecodeInstance([]byte(s))
	if err != nil {
		return "", nil, err
	}
	m := map[string]string{}
	for _, p := range x.Properties {
		if !p.Null && p.Kind == Scalar {
			m[p.Name] = p.Value
		}
	}
	return x.ClassName, m, nil
}

func parseRefInfos(data []byte) ([]RefInfo, error) {
	items, err := parseArrayOfString(data)
	if err != nil {
		return nil, err
	}
	var out []RefInfo
	for i, s := range items {
		_, m, err := flatInstance(s)
		if err != nil {
			return nil, fmt.Errorf("string %d: %w", i+1, err)
		}
		t, _ := scalarValue(cim.UInt32, m["ReferencePackageType"])
		n, _ := t.(int64)
		out = append(out, RefInfo{
			PackageID: m["PackageID"], ProgramName: m["ProgramName"], ReferenceDescription: m["ReferenceDescription"],
			ReferenceName: m["ReferenceName"], ReferencePackageID: m["ReferencePackageID"], ReferencePackageType: n,
			ReferenceProgramName: m["ReferenceProgramName"], ReferenceVersion: m["ReferenceVersion"],
		})
	}
	return out, nil
}

func parseAppRefInfos(data []byte) ([]AppRefInfo, error) {
	items, err := parseArrayOfString(data)
	if err != nil {
		return nil, err
	}
	var out []AppRefInfo
	for i, s := range items {
		_, m, err := flatInstance(s)
		if err != nil {
			return nil, fmt.Errorf("string %d: %w", i+1, err)
		}
		t, _ := scalarValue(cim.SInt32, m["RefAppCI_ID"])
		n, _ := t.(int64)
		out = append(out, AppRefInfo{PackageID: m["PackageID"], RefAppCIID: n, RefAppModelName: m["RefAppModelName"], RefAppPackageID: m["RefAppPackageID"]})
	}
	return out, nil
}

// flatXML writes a hand-written *Info instance as the exports have it:
// __RELPATH first (TYPE before NAME), then each property without
// CLASSORIGIN or qualifiers.
func flatXML(class string, props [][3]string) string {
	var b strings.Builder
	b.WriteString(`<INSTANCE CLASSNAME="` + escapeAttr(class) + `">` + crlf)
	b.WriteString(`  <PROPERTY TYPE="string" NAME="__RELPATH">` + crlf + `    <VALUE></VALUE>` + crlf + `  </PROPERTY>` + crlf)
	for _, p := range props {
		b.WriteString(`  <PROPERTY NAME="` + escapeAttr(p[0]) + `" TYPE="` + p[1] + `">` + crlf)
		b.WriteString(`    <VALUE>` + textEscaper.Replace(p[2]) + `</VALUE>` + crlf)
		b.WriteString(`  </PROPERTY>` + crlf)
	}
	b.WriteString(`</INSTANCE>`)
	return b.String()
}

func writeRefInfos(refs []RefInfo) []byte {
	items := make([]string, 0, len(refs))
	for _, r := range refs {
		items = append(items, flatXML("SMS_TaskSequenceReferencesInfo", [][3]string{
			{"PackageID", "string", r.PackageID},
			{"ProgramName", "string", r.ProgramName},
			{"ReferenceDescription", "string", r.ReferenceDescription},
			{"ReferenceName", "string", r.ReferenceName},
			{"ReferencePackageID", "string", r.ReferencePackageID},
			{"ReferencePackageType", "uint32", fmt.Sprint(r.ReferencePackageType)},
			{"ReferenceProgramName", "string", r.ReferenceProgramName},
			{"ReferenceVersion", "string", r.ReferenceVersion},
		}))
	}
	return writeArrayOfString(items)
}

func writeAppRefInfos(refs []AppRefInfo) []byte {
	items := make([]string, 0, len(refs))
	for _, r := range refs {
		items = append(items, flatXML("SMS_TaskSequenceAppReferencesInfo", [][3]string{
			{"PackageID", "string", r.PackageID},
			{"RefAppCI_ID", "sint32", fmt.Sprint(r.RefAppCIID)},
			{"RefAppModelName", "string", r.RefAppModelName},
			{"RefAppPackageID", "string", r.RefAppPackageID},
		}))
	}
	return writeArrayOfString(items)
}

// parseStringElement reads a lone <string>…</string> part
// (USERSTATE_MIGRATION_PACKAGE.xml, PACKAGE_CONTENT.xml reads <guid>).
func parseStringElement(data []byte) (string, error) {
	var s struct {
		XMLName xml.Name
		Text    string `xml:",chardata"`
	}
	if err := xml.Unmarshal(stripBOM(data), &s); err != nil {
		return "", err
	}
	return strings.TrimSpace(s.Text), nil
}
