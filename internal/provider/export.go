package provider

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/cmexport"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// The classes an export holds besides task sequences.
const (
	programClass      = "SMS_Program"
	usmtImageFlag     = 2 // SMS_Package.DefaultImageFlags of the USMT package
	defaultImageFlags = "DefaultImageFlags"
)

// ExportOptions shape an export.
type ExportOptions struct {
	// WithDependence adds the objects the sequences refer to: packages,
	// the programs steps name, boot images, OS images and install
	// packages, child task sequences (and theirs), as the console's
	// default does.
	WithDependence bool
	// WithContent lists the current content of each exported package in
	// the manifest (Contents/Content, with its content hash) and ties the
	// package to it (PACKAGE_CONTENT.xml). The files themselves travel
	// beside the zip, in <zip>_files/<RelativePath>/, as the console
	// writes them: a client fetches them from /tsprov/v1/content.
	WithContent bool
	// Comment is the administrator's comment, shown at import.
	Comment string
}

// Export builds the Export-CMTaskSequence archive of the task sequence
// packages ids, as the caller may read them: their properties, secrets
// emptied (as ExportXml strips passwords), the references info of each
// sequence (name, type, version and description of what it refers to, as
// this site knows them) and, with WithDependence, the objects they refer
// to, dependencies first. Outcomes: the archive; errs.NotFound naming an
// id that is no task sequence package the caller may see; errs.Invalid
// for no ids.
func (p *Provider) Export(ctx context.Context, ids []string, opts ExportOptions) (*cmexport.Archive, error) {
	if len(ids) == 0 {
		return nil, errs.Target(errs.Invalid, "PackageIDs", "PackageIDs is empty: name at least one task sequence package to export")
	}
	x := &exporter{p: p, ctx: ctx, done: map[string]bool{}, a: &cmexport.Archive{
		AuthoringScope: p.authoringScope(),
		Description:    opts.Comment,
	}, deps: opts.WithDependence, content: opts.WithContent, folders: map[string]bool{}}
	for _, id := range ids {
		obj, err := p.Get(ctx, tsPackageClass, id)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		if err := x.addSequence(obj.Instance); err != nil {
			return nil, fmt.Errorf("export %s: %w", id, err)
		}
	}
	usmt, err := p.usmtPackage(ctx)
	if err != nil {
		return nil, err
	}
	x.a.USMTPackage = usmt
	return x.a, nil
}

// authoringScope is the site's AUTHORING_SCOPE: ScopeId_<GUID>, a GUID
// drawn from the site code, so that every export of a site carries the
// same one and an import can tell its own site's exports.
func (p *Provider) authoringScope() string {
	s := sha256.Sum256([]byte("tsprov authoring scope " + p.site))
	return fmt.Sprintf("ScopeId_%X-%X-%X-%X-%X", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// usmtPackage is the site's User State Migration Tool package: the
// SMS_Package whose DefaultImageFlags is 2 ("" when there is none).
func (p *Provider) usmtPackage(ctx context.Context) (string, error) {
	c, ok := p.reg.Class("SMS_Package")
	if !ok {
		return "", nil
	}
	if _, ok := c.Property(defaultImageFlags); !ok {
		return "", nil
	}
	res, err := p.List(ctx, c.Name, ListOptions{})
	if errs.Is(err, errs.Forbidden) {
		return "", nil // a caller who may not read packages exports without it
	}
	if err != nil {
		return "", err
	}
	for _, o := range res.Objects {
		if o.Instance.Int(defaultImageFlags) == usmtImageFlag {
			return o.Instance.String(packageIDProperty), nil
		}
	}
	return "", nil
}

type exporter struct {
	p       *Provider
	ctx     context.Context
	a       *cmexport.Archive
	deps    bool
	content bool
	done    map[string]bool // Class.key, upper case
	folders map[string]bool // content RelativePaths taken, upper case
}

func (x *exporter) origin() cmexport.Origin {
	return cmexport.Origin{Server: x.p.server, SiteCode: x.p.site}
}

// add appends an object once.
func (x *exporter) add(in *cim.Instance) bool {
	k := strings.ToUpper(in.Class.Name + "." + in.Key())
	if x.done[k] {
		return false
	}
	x.done[k] = true
	o := &cmexport.Object{Class: in.Class.Name, PackageID: in.String(packageIDProperty), XML: cmexport.FromCIM(in, x.origin()), Entry: !in.Class.IsA(programClass)}
	if in.Class.IsA(programClass) {
		o.ProgramName = in.String("ProgramName")
	}
	x.a.Objects = append(x.a.Objects, o)
	if x.content && in.Class.IsA(packageBase) && !in.Class.IsA(tsPackageClass) {
		x.addContent(o, in)
	}
	return true
}

// addContent lists a package's current content, when it has one.
func (x *exporter) addContent(o *cmexport.Object, pkg *cim.Instance) {
	info, err := x.p.CurrentContent(x.ctx, o.PackageID)
	if err != nil {
		return // no content (or none the caller may read): nothing to list
	}
	folder := contentFolder(pkg.String("Name"), o.PackageID)
	for n := 2; x.folders[strings.ToUpper(folder)]; n++ {
		folder = fmt.Sprintf("%s (%d)", contentFolder(pkg.String("Name"), o.PackageID), n)
	}
	x.folders[strings.ToUpper(folder)] = true
	guid := strings.ToLower(newObjectVersion())
	o.ContentID = guid
	x.a.Contents = append(x.a.Contents, cmexport.Content{
		UniqueID: guid, Hash: info.Hash, Description: pkg.String("Name"), RelativePath: folder,
		FullPath: folder + `\`, SingleFile: "false", FullOwnership: "true", OriginalPath: pkg.String(sourcePathProperty),
	})
}

// contentFolder is the folder a package's content gets under
// <zip>_files: its name, with the characters Windows refuses in a file
// name replaced (the PackageID when nothing is left).
func contentFolder(name, id string) string {
	f := strings.Map(func(r rune) rune {
		if r < ' ' || strings.ContainsRune(`<>:"/\|?*`, r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(name))
	f = strings.TrimRight(f, ". ")
	if f == "" || f == "." || f == ".." {
		return id
	}
	return f
}

// addSequence adds a task sequence package after what it refers to.
func (x *exporter) addSequence(ts *cim.Instance) error {
	k := strings.ToUpper(ts.Class.Name + "." + ts.Key())
	if x.done[k] {
		return nil
	}
	x.done[k] = true // a sequence that names itself, or a cycle, ends here
	var infos []cmexport.RefInfo
	var apps []cmexport.AppRefInfo
	for _, ref := range referencesOf(ts) {
		id, prog := ref.String("Package"), ref.String("Program")
		if ref.Int("Type") == 1 {
			apps = append(apps, x.appInfo(ts, id))
			continue
		}
		obj, err := x.p.findPackage(x.ctx, id)
		if errs.Is(err, errs.NotFound) {
			infos = append(infos, cmexport.RefInfo{PackageID: ts.String(packageIDProperty), ProgramName: taskseq.AnyProgram, ReferencePackageID: id, ReferenceProgramName: orAny(prog)})
			continue
		}
		if err != nil {
			return err
		}
		infos = append(infos, refInfo(ts, obj, prog))
		if !x.deps {
			continue
		}
		if obj.Class.IsA(tsPackageClass) {
			if err := x.addSequence(obj); err != nil {
				return err
			}
			continue
		}
		x.add(obj)
		if prog != "" && prog != taskseq.AnyProgram {
			if progObj, err := x.p.Get(x.ctx, programClass, cim.JoinKey([]string{id, prog})); err == nil {
				x.add(progObj.Instance)
			} else if !errs.Is(err, errs.NotFound) {
				return err
			}
		}
	}
	// packages only disabled steps name: listed too, so that an import
	// maps them as well (the steps keep them)
	seq, err := x.p.sequenceOf(ts)
	if err != nil {
		return err
	}
	for _, r := range taskseq.DisabledReferences(seq) {
		if r.Type == 1 {
			continue
		}
		obj, err := x.p.findPackage(x.ctx, r.Package)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		infos = append(infos, refInfo(ts, obj, r.Program))
	}
	delete(x.done, k)
	x.add(ts)
	o := x.a.Objects[len(x.a.Objects)-1]
	o.References, o.AppReferences = infos, apps
	return nil
}

func orAny(prog string) string {
	if prog == "" {
		return taskseq.AnyProgram
	}
	return prog
}

// refInfo is what this site knows of a package a sequence refers to.
func refInfo(ts, obj *cim.Instance, prog string) cmexport.RefInfo {
	return cmexport.RefInfo{
		PackageID:            ts.String(packageIDProperty),
		ProgramName:          taskseq.AnyProgram,
		ReferenceDescription: obj.String("Description"),
		ReferenceName:        obj.String("Name"),
		ReferencePackageID:   obj.String(packageIDProperty),
		ReferencePackageType: obj.Int("PackageType"),
		ReferenceProgramName: orAny(prog),
		ReferenceVersion:     obj.String("Version"),
	}
}

func (x *exporter) appInfo(ts *cim.Instance, model string) cmexport.AppRefInfo {
	info := cmexport.AppRefInfo{PackageID: ts.String(packageIDProperty), RefAppModelName: model}
	if obj, err := x.p.Get(x.ctx, applicationClass, model); err == nil {
		info.RefAppCIID = obj.Instance.Int("CI_ID")
	}
	return info
}

// findPackage reads the package of any package class that holds id, as
// the caller may see it: classes the caller may not read are passed over
// quietly (a reference to them is not a denied request), and
// errs.NotFound is the answer when no class has it.
func (p *Provider) findPackage(ctx context.Context, id string) (*cim.Instance, error) {
	pr, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var found *cim.Instance
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		for _, c := range p.reg.Classes() {
			if !c.IsA(packageBase) || storable(c) != nil {
				continue
			}
			if _, err := p.authorize(ctx, c, id, auth.Read); err != nil {
				continue
			}
			rec, err := p.getVisible(ctx, tx, pr, c, id, true)
			if errs.Is(err, errs.NotFound) {
				continue
			}
			if err != nil {
				return err
			}
			stripSealed(rec.Instance)
			found = rec.Instance
			return nil
		}
		return errs.Target(errs.NotFound, id, "no package %s", id)
	})
	return found, err
}
