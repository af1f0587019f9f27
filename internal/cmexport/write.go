package cmexport

import (
	"archive/zip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// programClass is the one class whose folder is named by two keys.
const programClass = "SMS_Program"

// FolderOf is the folder of an object's parts: Class/PackageID, or
// SMS_Program/<PackageID>_<ProgramName> for a program.
func FolderOf(class, packageID, programName string) string {
	if strings.EqualFold(class, programClass) {
		return class + "/" + packageID + "_" + programName
	}
	return class + "/" + packageID
}

// escapePart writes a part name as OPC stores it in the zip: a space,
// "%", "#", "?", control and non-ASCII characters %xx-escaped
// (SMS_Program/TST0000D_Multiplatform%20x64), the rest as is
// ([Content_Types].xml keeps its brackets).
func escapePart(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || c == '%' || c == '#' || c == '?' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// relID is the relationship Id of an object: <Class>-<64 upper hex>, a
// hash of its key, so that it is the same in every export of the object.
func relID(class, key string) string {
	sum := sha256.Sum256([]byte(strings.ToUpper(key)))
	return class + "-" + strings.ToUpper(hex.EncodeToString(sum[:]))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Write writes a as the console's Export-CMTaskSequence zip: an OPC
// package of stored (uncompressed) entries without data descriptors; the
// object parts first, then _rels/.rels (one External relationship per
// object, programs included, and the core properties), the other parts
// of each object folder, Manifest.xml (every object but programs, in the
// order of a.Objects, which lists dependencies first), the core
// properties with the comment, and [Content_Types].xml last. Every part
// is UTF-8 with a BOM except object.xml (export-format.md §1). A task
// sequence's folder always has ReferencesInfo.xml and
// AppReferencesInfo.xml, empty when it refers to nothing.
func Write(w io.Writer, a *Archive, when time.Time) error {
	zw := zip.NewWriter(w)
	put := func(name string, data []byte) error {
		fh := &zip.FileHeader{
			Name:               escapePart(name),
			Method:             zip.Store,
			CreatorVersion:     45,
			ReaderVersion:      20,
			CRC32:              crc32.ChecksumIEEE(data),
			CompressedSize64:   uint64(len(data)),
			UncompressedSize64: uint64(len(data)),
		}
		fh.ModifiedDate, fh.ModifiedTime = dosTime(when)
		fw, err := zw.CreateRaw(fh)
		if err != nil {
			return fmt.Errorf("write part %s: %w", name, err)
		}
		if _, err := fw.Write(data); err != nil {
			return fmt.Errorf("write part %s: %w", name, err)
		}
		return nil
	}
	hasTS := false
	for _, o := range a.Objects {
		hasTS = hasTS || strings.EqualFold(o.Class, "SMS_TaskSequencePackage")
	}
	if hasTS {
		if err := put(USMTPart, []byte(bom+"<string>"+textEscaper.Replace(a.USMTPackage)+"</string>")); err != nil {
			return err
		}
	}
	var rels []Relationship
	var entries []EntryObject
	for _, o := range a.Objects {
		dir := FolderOf(o.Class, o.PackageID, o.ProgramName)
		if err := put(dir+"/"+ObjectFile, EncodeInstance(o.XML)); err != nil {
			return err
		}
		key := o.PackageID
		if o.ProgramName != "" {
			key += "," + o.ProgramName
		}
		rels = append(rels, Relationship{Type: o.Class, Target: "/" + escapePart(dir+"/"+ObjectFile), TargetMode: "External", ID: relID(o.Class, key)})
		if !strings.EqualFold(o.Class, programClass) {
			entries = append(entries, EntryObject{Path: fmt.Sprintf("%s.PackageID='%s'", o.Class, o.PackageID), Type: o.Class})
		}
	}
	core := corePropsDir + randomHex(16) + ".psmdcp"
	rels = append(rels, Relationship{Type: corePropsRelType, Target: "/" + core, ID: "R" + randomHex(8)})
	if err := put(RelsPart, writeRels(rels)); err != nil {
		return err
	}
	for _, o := range a.Objects {
		dir := FolderOf(o.Class, o.PackageID, o.ProgramName)
		if strings.EqualFold(o.Class, "SMS_TaskSequencePackage") {
			if err := put(dir+"/"+ReferencesFile, writeRefInfos(o.References)); err != nil {
				return err
			}
			if err := put(dir+"/"+AppReferencesFile, writeAppRefInfos(o.AppReferences)); err != nil {
				return err
			}
		}
		if o.ContentID != "" {
			if err := put(dir+"/"+PackageContent, []byte(bom+"<guid>"+textEscaper.Replace(o.ContentID)+"</guid>")); err != nil {
				return err
			}
		}
		for _, name := range slices.Sorted(maps.Keys(o.Parts)) {
			if err := put(dir+"/"+name, o.Parts[name]); err != nil {
				return err
			}
		}
	}
	if err := put(ManifestPart, writeManifest(a.AuthoringScope, a.Contents, entries)); err != nil {
		return err
	}
	if err := put(core, writeCoreProperties(a.Description)); err != nil {
		return err
	}
	if err := put(ContentTypesPart, []byte(contentTypes)); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finish the zip: %w", err)
	}
	return nil
}

// dosTime is t in the MS-DOS date and time of a zip header (local time
// of the writer, two-second steps), without the extended timestamp field
// that zip.FileHeader.Modified would add (the console writes none).
func dosTime(t time.Time) (date, tm uint16) {
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, tm
}
