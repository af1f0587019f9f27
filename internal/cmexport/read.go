package cmexport

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
)

// Limits bound what Read takes from a zip, whatever its headers claim.
type Limits struct {
	MaxEntries   int   // entries in the zip
	MaxPartSize  int64 // bytes of one part, uncompressed
	MaxTotalSize int64 // bytes of all parts, uncompressed
}

// DefaultLimits fit every real export many times over: the largest
// object.xml seen is 369 KB (an OS install package with its image
// metadata), content never travels inside the zip, and a task sequence
// is at most 2 MB.
var DefaultLimits = Limits{MaxEntries: 10_000, MaxPartSize: 16 << 20, MaxTotalSize: 64 << 20}

// Object is one object of an export: a package, program or task
// sequence, with the parts of its folder.
type Object struct {
	Class       string
	PackageID   string
	ProgramName string // SMS_Program only
	// Dir is the folder of its parts, as named in the zip after %xx
	// decoding (SMS_Program/TST0000D_Multiplatform x64).
	Dir string
	XML *Instance
	// Entry reports that Manifest.xml lists the object (programs are
	// only in _rels/.rels).
	Entry         bool
	References    []RefInfo    // ReferencesInfo.xml
	AppReferences []AppRefInfo // AppReferencesInfo.xml
	ContentID     string       // PACKAGE_CONTENT.xml: the Contents/Content it owns
	// Parts are the other parts of its folder, by file name, as stored
	// (OptionalComponentsInfo.xml, DRIVERPACKAGE_DRIVERS.xml, …).
	Parts map[string][]byte
}

// Ref names the object in messages and plans as WMI does:
// SMS_Package.PackageID='ID' (ProgramName added for a program).
func (o *Object) Ref() string {
	if o.ProgramName != "" {
		return fmt.Sprintf("%s.PackageID='%s',ProgramName='%s'", o.Class, o.PackageID, o.ProgramName)
	}
	return fmt.Sprintf("%s.PackageID='%s'", o.Class, o.PackageID)
}

// Problem is something wrong with one object or part of an export.
// A warning does not stop the object from being imported.
type Problem struct {
	Object  string `json:"Object,omitempty"`
	Part    string `json:"Part,omitempty"`
	Message string `json:"Message"`
	Warning bool   `json:"Warning,omitempty"`
}

func (p Problem) String() string {
	var where []string
	if p.Object != "" {
		where = append(where, p.Object)
	}
	if p.Part != "" {
		where = append(where, "part "+p.Part)
	}
	s := p.Message
	if len(where) > 0 {
		s = strings.Join(where, ", ") + ": " + s
	}
	if p.Warning {
		s = "warning: " + s
	}
	return s
}

// Archive is an export as read from, or to be written to, a zip.
type Archive struct {
	Objects []*Object
	// AuthoringScope is Manifest.xml's AUTHORING_SCOPE (ScopeId_<GUID>).
	AuthoringScope string
	// Description is the export comment (dc:description of the core
	// properties).
	Description string
	// USMTPackage is the exporting site's User State Migration Tool
	// package (USERSTATE_MIGRATION_PACKAGE.xml).
	USMTPackage string
	Contents    []Content
	// OPC reports a package with [Content_Types].xml, as the console
	// writes; a zip of bare object folders reads too.
	OPC      bool
	Problems []Problem
}

// Errors returns the problems that are not warnings.
func (a *Archive) Errors() []Problem {
	var out []Problem
	for _, p := range a.Problems {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// ObjectProblems returns the errors about object ref.
func (a *Archive) ObjectProblems(ref string) []Problem {
	var out []Problem
	for _, p := range a.Problems {
		if !p.Warning && p.Object == ref {
			out = append(out, p)
		}
	}
	return out
}

// ProblemsError refuses an export or import for the problems it lists,
// each naming its object or part.
type ProblemsError struct {
	Problems []Problem
}

func (e *ProblemsError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return fmt.Sprintf("%d problem(s): %s", len(e.Problems), strings.Join(msgs, "; "))
}

// Kind makes the refusal an errs.Invalid.
func (e *ProblemsError) Unwrap() error { return errs.E(errs.Invalid, "%s", e.Error()) }

// reader holds the state of one Read.
type reader struct {
	lim     Limits
	entries map[string]*zip.File // by folded, decoded name
	names   []string             // decoded names in zip order
	total   int64                // bytes inflated so far
	archive *Archive             // what is read
}

// Read reads an export zip. A zip that is not one, an entry whose name
// escapes the package (.. or an absolute path), two entries of one name,
// or sizes over the limits (declared or real) refuse the whole zip with
// an error naming the entry: errs.Invalid, or errs.TooLarge for sizes.
// Everything else wrong is a Problem of the object it concerns, and the
// rest is read: a part the manifest or a relationship names that is
// missing, an object.xml that is not CIM-XML, a duplicate object.
func Read(r io.ReaderAt, size int64, lim Limits) (*Archive, error) {
	if lim.MaxEntries <= 0 {
		lim.MaxEntries = DefaultLimits.MaxEntries
	}
	if lim.MaxPartSize <= 0 {
		lim.MaxPartSize = DefaultLimits.MaxPartSize
	}
	if lim.MaxTotalSize <= 0 {
		lim.MaxTotalSize = DefaultLimits.MaxTotalSize
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, errs.E(errs.Invalid, "not a zip archive: %w", err)
	}
	rd := &reader{lim: lim, entries: map[string]*zip.File{}, archive: &Archive{}}
	if err := rd.index(zr.File); err != nil {
		return nil, err
	}
	if err := rd.readPackage(); err != nil {
		return nil, err
	}
	return rd.archive, nil
}

// index checks every entry's name and declared size and indexes them.
func (rd *reader) index(files []*zip.File) error {
	if len(files) > rd.lim.MaxEntries {
		return errs.E(errs.TooLarge, "the zip has %d entries; at most %d are read", len(files), rd.lim.MaxEntries)
	}
	var declared uint64
	for _, f := range files {
		name, err := partName(f.Name)
		if err != nil {
			return errs.Target(errs.Invalid, f.Name, "entry %s: %w", f.Name, err)
		}
		if strings.HasSuffix(f.Name, "/") {
			continue // a directory entry (zips re-saved by other tools)
		}
		if f.UncompressedSize64 > uint64(rd.lim.MaxPartSize) {
			return errs.Target(errs.TooLarge, name, "part %s declares %d bytes; a part may hold at most %d", name, f.UncompressedSize64, rd.lim.MaxPartSize)
		}
		declared += f.UncompressedSize64
		if declared > uint64(rd.lim.MaxTotalSize) {
			return errs.Target(errs.TooLarge, name, "the parts declare more than %d bytes in all (at part %s)", rd.lim.MaxTotalSize, name)
		}
		key := strings.ToLower(name)
		if _, dup := rd.entries[key]; dup {
			return errs.Target(errs.Invalid, name, "part %s is in the zip twice", name)
		}
		rd.entries[key] = f
		rd.names = append(rd.names, name)
	}
	return nil
}

// partName decodes an entry name (%xx, as OPC stores part names) and
// refuses one that would leave the package: an absolute path, a drive,
// a ".." segment, a NUL.
func partName(raw string) (string, error) {
	name, err := url.PathUnescape(raw)
	if err != nil {
		name = raw // a literal % that escapes nothing: keep the name as stored
	}
	for _, n := range []string{raw, name} {
		s := strings.ReplaceAll(n, `\`, "/")
		switch {
		case s == "":
			return "", fmt.Errorf("empty name")
		case strings.ContainsRune(s, 0):
			return "", fmt.Errorf("the name holds a NUL")
		case strings.HasPrefix(s, "/"):
			return "", fmt.Errorf("absolute path")
		case len(s) >= 2 && s[1] == ':':
			return "", fmt.Errorf("absolute path with a drive")
		}
		for _, seg := range strings.Split(s, "/") {
			if seg == ".." {
				return "", fmt.Errorf("the path climbs out of the package (..)")
			}
		}
	}
	return strings.ReplaceAll(name, `\`, "/"), nil
}

// has reports whether the zip holds part name.
func (rd *reader) has(name string) bool {
	_, ok := rd.entries[strings.ToLower(name)]
	return ok
}

// read returns a part's bytes, counting them against the limits as they
// are inflated. Only limit breaches are errors that refuse the zip
// (fatal); others are for the caller to report.
func (rd *reader) read(name string) (data []byte, fatal, err error) {
	f, ok := rd.entries[strings.ToLower(name)]
	if !ok {
		return nil, nil, fmt.Errorf("the zip does not have it")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open it: %w", err)
	}
	defer rc.Close()
	data, err = io.ReadAll(io.LimitReader(rc, rd.lim.MaxPartSize+1))
	if int64(len(data)) > rd.lim.MaxPartSize {
		return nil, errs.Target(errs.TooLarge, name, "part %s inflates beyond %d bytes", name, rd.lim.MaxPartSize), nil
	}
	rd.total += int64(len(data))
	if rd.total > rd.lim.MaxTotalSize {
		return nil, errs.Target(errs.TooLarge, name, "the parts inflate beyond %d bytes in all (at part %s)", rd.lim.MaxTotalSize, name), nil
	}
	if errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum) {
		return nil, errs.Target(errs.Invalid, name, "part %s: its data does not match its header (%w): a damaged zip or one built to inflate beyond what it declares", name, err), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read it: %w", err)
	}
	return data, nil, nil
}

func (rd *reader) problem(obj, part, format string, args ...any) {
	rd.archive.Problems = append(rd.archive.Problems, Problem{Object: obj, Part: part, Message: fmt.Sprintf(format, args...)})
}

func (rd *reader) warning(obj, part, format string, args ...any) {
	rd.archive.Problems = append(rd.archive.Problems, Problem{Object: obj, Part: part, Message: fmt.Sprintf(format, args...), Warning: true})
}

// location is where an object's parts are expected.
type location struct {
	class, id string
	dir       string // folder of object.xml
	entry     bool   // in the manifest
	source    string // what named it: Manifest.xml, _rels/.rels, or the zip's folders
}

func (rd *reader) readPackage() error {
	a := rd.archive
	a.OPC = rd.has(ContentTypesPart)
	var locs []*location
	byDir := map[string]*location{}
	add := func(l *location) {
		k := strings.ToLower(l.dir)
		if prev, ok := byDir[k]; ok {
			prev.entry = prev.entry || l.entry
			return
		}
		byDir[k] = l
		locs = append(locs, l)
	}
	var coreProps string
	if rd.has(ContentTypesPart) {
		if data, fatal, err := rd.read(ContentTypesPart); fatal != nil {
			return fatal
		} else if err == nil {
			if !strings.Contains(string(data), "content-types") {
				rd.warning("", ContentTypesPart, "not an OPC content types part")
			}
		}
	}
	if rd.has(ManifestPart) {
		data, fatal, err := rd.read(ManifestPart)
		if fatal != nil {
			return fatal
		}
		var m *manifest
		if err == nil {
			m, err = parseManifest(data)
		}
		if err != nil {
			rd.problem("", ManifestPart, "cannot read the manifest: %v", err)
		} else {
			for _, p := range m.Properties {
				if p.Name == "AUTHORING_SCOPE" {
					a.AuthoringScope = p.Value
				}
			}
			a.Contents = m.Contents
			for _, o := range m.Objects {
				class, id, err := parseEntryPath(o.Path)
				if err != nil {
					rd.problem("", ManifestPart, "%v", err)
					continue
				}
				if o.Type != "" && !strings.EqualFold(o.Type, class) {
					rd.problem(o.Path, ManifestPart, "the object's Type %s is not its class %s", o.Type, class)
					continue
				}
				add(&location{class: class, id: id, dir: class + "/" + id, entry: true, source: ManifestPart})
			}
		}
	}
	if rd.has(RelsPart) {
		data, fatal, err := rd.read(RelsPart)
		if fatal != nil {
			return fatal
		}
		var rels []Relationship
		if err == nil {
			rels, err = parseRels(data)
		}
		if err != nil {
			rd.problem("", RelsPart, "cannot read the relationships: %v", err)
		}
		for _, r := range rels {
			target, err := partName(strings.TrimPrefix(r.Target, "/"))
			if err != nil {
				rd.problem("", RelsPart, "relationship %s: target %q: %v", r.ID, r.Target, err)
				continue
			}
			if r.Type == corePropsRelType {
				coreProps = target
				continue
			}
			dir, file := path.Split(target)
			dir = strings.TrimSuffix(dir, "/")
			if !strings.EqualFold(file, ObjectFile) || !strings.Contains(dir, "/") {
				rd.warning("", RelsPart, "relationship %s targets %s, which is not an object part; ignored", r.ID, target)
				continue
			}
			class := strings.SplitN(dir, "/", 2)[0]
			add(&location{class: class, id: path.Base(dir), dir: dir, source: RelsPart})
		}
	}
	// object parts no manifest or relationship names: a zip of bare
	// folders (not OPC), or one edited by hand
	for _, n := range rd.names {
		dir, file := path.Split(n)
		dir = strings.TrimSuffix(dir, "/")
		if !strings.EqualFold(file, ObjectFile) || !strings.Contains(dir, "/") {
			continue
		}
		if _, ok := byDir[strings.ToLower(dir)]; ok {
			continue
		}
		segs := strings.Split(dir, "/")
		l := &location{class: segs[len(segs)-2], id: segs[len(segs)-1], dir: dir, entry: len(segs) >= 2, source: "the zip's folders"}
		if a.OPC || rd.has(ManifestPart) || rd.has(RelsPart) {
			rd.warning("", n, "neither Manifest.xml nor _rels/.rels names this object part; it is read anyway")
		}
		add(l)
	}
	if coreProps == "" {
		for _, n := range rd.names {
			if strings.HasPrefix(strings.ToLower(n), corePropsDir) && strings.HasSuffix(strings.ToLower(n), ".psmdcp") {
				coreProps = n
			}
		}
	}
	if coreProps != "" {
		data, fatal, err := rd.read(coreProps)
		if fatal != nil {
			return fatal
		}
		if err == nil {
			a.Description, err = parseCoreProperties(data)
		}
		if err != nil {
			rd.warning("", coreProps, "cannot read the core properties: %v", err)
		}
	}
	for _, n := range rd.names {
		if strings.EqualFold(path.Base(n), path.Base(USMTPart)) {
			data, fatal, err := rd.read(n)
			if fatal != nil {
				return fatal
			}
			if err == nil {
				a.USMTPackage, err = parseStringElement(data)
			}
			if err != nil {
				rd.warning("", n, "cannot read the USMT package: %v", err)
			}
		}
	}
	seen := map[string]string{} // class+key → part
	for _, l := range locs {
		o, fatal := rd.readObject(l)
		if fatal != nil {
			return fatal
		}
		if o == nil {
			continue
		}
		key := strings.ToLower(o.Ref())
		if first, dup := seen[key]; dup {
			rd.problem(o.Ref(), o.Dir+"/"+ObjectFile, "duplicate object: part %s holds the same object", first)
			continue
		}
		seen[key] = o.Dir + "/" + ObjectFile
		a.Objects = append(a.Objects, o)
	}
	sort.SliceStable(a.Objects, func(i, j int) bool { return a.Objects[i].Entry && !a.Objects[j].Entry })
	return nil
}

// readObject reads the parts of one object; what is wrong is a Problem
// of the object, and nil is returned when there is no object to import.
func (rd *reader) readObject(l *location) (*Object, error) {
	ref := fmt.Sprintf("%s.PackageID='%s'", l.class, l.id)
	part := l.dir + "/" + ObjectFile
	data, fatal, err := rd.read(part)
	if fatal != nil {
		return nil, fatal
	}
	if err != nil {
		rd.problem(ref, part, "%s names this part, but %v", l.source, err)
		return nil, nil
	}
	x, err := DecodeInstance(data)
	if err != nil {
		rd.problem(ref, part, "not CIM-XML: %v", err)
		return nil, nil
	}
	if !strings.EqualFold(x.ClassName, l.class) {
		rd.problem(ref, part, "the part holds an instance of %s, not %s", x.ClassName, l.class)
		return nil, nil
	}
	o := &Object{Class: x.ClassName, Dir: l.dir, XML: x, Entry: l.entry, Parts: map[string][]byte{}}
	o.PackageID, _ = x.StringValue("PackageID")
	o.ProgramName, _ = x.StringValue("ProgramName")
	if o.PackageID == "" {
		rd.problem(ref, part, "the instance has no PackageID")
		return nil, nil
	}
	if !strings.EqualFold(o.Class, "SMS_Program") && !strings.EqualFold(o.PackageID, l.id) {
		rd.warning(o.Ref(), part, "the folder says %s, the instance says PackageID %s; the instance is read", l.id, o.PackageID)
	}
	prefix := strings.ToLower(l.dir) + "/"
	for _, n := range rd.names {
		ln := strings.ToLower(n)
		if !strings.HasPrefix(ln, prefix) || strings.Contains(ln[len(prefix):], "/") || strings.EqualFold(path.Base(n), ObjectFile) {
			continue
		}
		data, fatal, err := rd.read(n)
		if fatal != nil {
			return nil, fatal
		}
		if err != nil {
			rd.problem(o.Ref(), n, "%v", err)
			continue
		}
		switch file := path.Base(n); {
		case strings.EqualFold(file, ReferencesFile):
			if o.References, err = parseRefInfos(data); err != nil {
				rd.problem(o.Ref(), n, "cannot read the references: %v", err)
			}
		case strings.EqualFold(file, AppReferencesFile):
			if o.AppReferences, err = parseAppRefInfos(data); err != nil {
				rd.problem(o.Ref(), n, "cannot read the application references: %v", err)
			}
		case strings.EqualFold(file, PackageContent):
			if o.ContentID, err = parseStringElement(data); err != nil {
				rd.problem(o.Ref(), n, "cannot read the content id: %v", err)
			}
		default:
			o.Parts[file] = data
		}
	}
	return o, nil
}
