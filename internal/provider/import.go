package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/cmexport"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// ImportAction is what an import does with an object of the zip that
// matches one of the site (Import-CMTaskSequence's ImportActionType).
type ImportAction string

// The ImportActionType values (export-format.md §9); docs/export-import.md
// says what each does here.
const (
	NotSet                           ImportAction = "NotSet"
	Skip                             ImportAction = "Skip"
	DirectImport                     ImportAction = "DirectImport"
	Rename                           ImportAction = "Rename"
	Overwrite                        ImportAction = "Overwrite"
	ImportFail                       ImportAction = "ImportFail"
	IgnoreDependencyFailure          ImportAction = "IgnoreDependencyFailure"
	AppendDriverCategories           ImportAction = "AppendDriverCategories"
	OverwriteIgnoreDependencyFailure ImportAction = "OverwriteIgnoreDependencyFailure"
)

var importActions = []ImportAction{NotSet, Skip, DirectImport, Rename, Overwrite, ImportFail, IgnoreDependencyFailure, AppendDriverCategories, OverwriteIgnoreDependencyFailure}

// ParseImportAction reads an ImportActionType name (any case).
func ParseImportAction(s string) (ImportAction, error) {
	for _, a := range importActions {
		if strings.EqualFold(string(a), s) {
			return a, nil
		}
	}
	return "", errs.Target(errs.Invalid, "Action", "unknown import action %q; one of %s", s, strings.Join(ImportActionNames(), ", "))
}

// ImportActionNames lists the ImportActionType names an import takes.
func ImportActionNames() []string {
	names := make([]string, len(importActions))
	for i, a := range importActions {
		names[i] = string(a)
	}
	return names
}

func (a ImportAction) overwrites() bool {
	return a == Overwrite || a == OverwriteIgnoreDependencyFailure
}
func (a ImportAction) ignoresDependencyFailure() bool {
	return a == IgnoreDependencyFailure || a == OverwriteIgnoreDependencyFailure
}

// ImportOptions shape an import.
type ImportOptions struct {
	// Actions maps a class name (any case) to its action; the key ""
	// applies to every class not named. Missing: NotSet.
	Actions map[string]ImportAction
	// Map maps a source PackageID to a target one (a map file); it comes
	// before every other rule.
	Map map[string]string
	// DryRun computes the plan and the outcome of every object and
	// changes nothing.
	DryRun bool
	// ContentPath is a folder this server can read that holds the
	// content exported beside the zip (<zip>_files): a package of the zip
	// with content gets <ContentPath>/<RelativePath> as its source, and
	// its content is snapshotted from there, as the console's import
	// makes the import path the new source location. Empty: packages keep
	// the exporting site's PkgSourcePath and get content when their
	// source is refreshed here.
	ContentPath string
	// Partial imports the objects that can be, leaving out those with
	// problems (and, unless their action ignores dependency failures,
	// the sequences that need them). Without it an import with any
	// problem writes nothing.
	Partial bool
}

func (o ImportOptions) action(class string) ImportAction {
	for k, a := range o.Actions {
		if k != "" && strings.EqualFold(k, class) {
			return a
		}
	}
	if a, ok := o.Actions[""]; ok {
		return a
	}
	return NotSet
}

// The rules that map a reference, as the plan names them.
const (
	RuleImported       = "imported from the zip"
	RuleExistingSameID = "existing object: same id and name"
	RuleExistingName   = "existing object: same name and version"
	RuleExistingHash   = "existing object: same content hash"
	RuleMapFile        = "map file"
	RuleReferencesInfo = "same name, type and version"
	RuleUSMT           = "USMT package"
	RuleSameID         = "same id"
	RuleMissing        = "missing"
	TargetWouldDangle  = "would dangle"
)

// PlanEntry is how one referenced object of the zip maps to the target.
type PlanEntry struct {
	SourceID string `json:"SourceID"`
	Name     string `json:"Name"`
	Type     int64  `json:"Type"`
	Version  string `json:"Version"`
	TargetID string `json:"TargetID"`
	Rule     string `json:"Rule"`
}

// ImportedObject is the outcome of one object of the zip.
type ImportedObject struct {
	Class       string   `json:"Class"`
	SourceID    string   `json:"SourceID"`
	ProgramName string   `json:"ProgramName,omitempty"`
	Name        string   `json:"Name"`
	Action      string   `json:"Action"`
	TargetID    string   `json:"TargetID,omitempty"`
	Outcome     string   `json:"Outcome"` // created, linked, overwritten, renamed, failed
	Problems    []string `json:"Problems,omitempty"`
}

// ImportResult is what an import did, or would do on a dry run.
type ImportResult struct {
	DryRun   bool               `json:"DryRun"`
	Objects  []ImportedObject   `json:"Objects"`
	Plan     []PlanEntry        `json:"Plan"`
	Problems []cmexport.Problem `json:"Problems"`
}

var errDryRun = errors.New("dry run")

// Import creates the objects of an export on this site in one
// transaction, following their references: objects of the zip first
// (each by its class's action), then the task sequences with every step
// property that names a package, program's package, child sequence,
// boot image or application rewritten to the target's ids (the plan),
// stored through SetSequence's path (secrets sealed, references and
// DANGLING_REF recomputed). Outcomes: the result (also on a dry run,
// which writes nothing); *cmexport.ProblemsError (errs.Invalid) listing
// every problem, nothing written, when the zip or the options have
// problems and Partial is not set; errs.Forbidden without Create.
func (p *Provider) Import(ctx context.Context, a *cmexport.Archive, opts ImportOptions) (*ImportResult, error) {
	left := map[*cmexport.Object]cmexport.Problem{} // objects a partial import leaves out
	for {
		res, err := p.importOnce(ctx, a, opts, left)
		var retry *retryWithout
		if errors.As(err, &retry) {
			left[retry.it.obj] = retry.problem
			continue
		}
		if err != nil {
			return nil, p.audited(ctx, fmt.Errorf("import: %w", err))
		}
		return res, nil
	}
}

func (p *Provider) importOnce(ctx context.Context, a *cmexport.Archive, opts ImportOptions, left map[*cmexport.Object]cmexport.Problem) (*ImportResult, error) {
	im := &importer{p: p, ctx: ctx, a: a, opts: opts, left: left, res: &ImportResult{DryRun: opts.DryRun, Objects: make([]ImportedObject, 0, len(a.Objects)), Plan: []PlanEntry{}, Problems: []cmexport.Problem{}}}
	im.res.Problems = append(im.res.Problems, a.Problems...)
	im.prepare()
	if bad := errorProblems(im.res.Problems); len(bad) > 0 && !opts.Partial {
		return nil, &cmexport.ProblemsError{Problems: bad}
	}
	if err := im.snapshotContents(); err != nil {
		return nil, err
	}
	if bad := errorProblems(im.res.Problems); len(bad) > 0 && !opts.Partial {
		return nil, &cmexport.ProblemsError{Problems: bad}
	}
	err := p.write(ctx, func(tx store.Tx) error {
		im.tx = tx
		if err := im.run(); err != nil {
			return err
		}
		if bad := errorProblems(im.res.Problems); len(bad) > 0 && !opts.Partial {
			return &cmexport.ProblemsError{Problems: bad}
		}
		if opts.DryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return im.res, nil
}

func errorProblems(ps []cmexport.Problem) []cmexport.Problem {
	var out []cmexport.Problem
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// item is one object of the zip on its way in.
type item struct {
	obj      *cmexport.Object
	in       *cim.Instance // the object as the zip holds it
	ts       *cim.Instance // the sequence of a task sequence package
	content  *cmexport.Content
	snap     *pendingSnapshot // its content, taken from ContentPath
	failed   bool
	targetID string
	result   *ImportedObject
}

type importer struct {
	p     *Provider
	ctx   context.Context
	tx    store.Tx
	a     *cmexport.Archive
	opts  ImportOptions
	res   *ImportResult
	items []*item
	// ids maps an upper-case source PackageID to its target id.
	ids     map[string]string
	byID    map[string]*item
	targets []*cim.Instance   // the site's packages, for the matching rules
	hashes  map[string]string // upper-case PackageID → its current content hash
	left    map[*cmexport.Object]cmexport.Problem
}

func (im *importer) problem(ref, part, format string, args ...any) {
	im.res.Problems = append(im.res.Problems, cmexport.Problem{Object: ref, Part: part, Message: fmt.Sprintf(format, args...)})
}

func (im *importer) warning(ref, format string, args ...any) {
	im.res.Problems = append(im.res.Problems, cmexport.Problem{Object: ref, Message: fmt.Sprintf(format, args...), Warning: true})
}

// prepare turns the zip's objects into instances and parses their
// sequences: what fails is a problem of the object.
func (im *importer) prepare() {
	for _, o := range im.a.Objects {
		it := &item{obj: o}
		im.items = append(im.items, it)
		r := &ImportedObject{Class: o.Class, SourceID: o.PackageID, ProgramName: o.ProgramName, Action: string(im.opts.action(o.Class)), Outcome: "failed"}
		im.res.Objects = append(im.res.Objects, *r)
		it.result = &im.res.Objects[len(im.res.Objects)-1]
		part := o.Dir + "/" + cmexport.ObjectFile
		if pr, ok := im.left[o]; ok {
			im.res.Problems = append(im.res.Problems, pr)
			it.failed = true
			continue
		}
		if len(im.a.ObjectProblems(o.Ref())) > 0 {
			it.failed = true
			continue
		}
		c, ok := im.p.reg.Class(o.Class)
		if !ok || storable(c) != nil || notServed(c) != nil || (!c.IsA(packageBase) && !c.IsA(programClass)) {
			im.problem(o.Ref(), part, "tsprov does not import %s objects", o.Class)
			it.failed = true
			continue
		}
		in, _, err := cmexport.ToCIM(im.p.reg, o.XML)
		if err != nil {
			im.problem(o.Ref(), part, "%v", err)
			it.failed = true
			continue
		}
		it.in = in
		it.result.Name = in.String("Name")
		for i := range im.a.Contents {
			if o.ContentID != "" && strings.EqualFold(im.a.Contents[i].UniqueID, o.ContentID) {
				it.content = &im.a.Contents[i]
			}
		}
		if c.IsA(tsPackageClass) {
			ts, err := im.p.sequenceOf(in)
			if err != nil {
				im.problem(o.Ref(), part, "the Sequence does not parse: %v", errors.Unwrap(err))
				it.failed = true
				continue
			}
			it.ts = ts
		}
	}
	// the objects of the rest: no two zips of the same class and key
	// reach here (cmexport reports duplicates)
	im.byID = map[string]*item{}
	for _, it := range im.items {
		if !strings.EqualFold(it.obj.Class, programClass) {
			im.byID[strings.ToUpper(it.obj.PackageID)] = it
		}
	}
}

func (im *importer) run() error {
	im.ids = map[string]string{}
	if err := im.loadTargets(); err != nil {
		return err
	}
	if err := im.checkMap(); err != nil {
		return err
	}
	var packages, programs, sequences []*item
	for _, it := range im.items {
		switch {
		case it.failed:
		case strings.EqualFold(it.obj.Class, programClass):
			programs = append(programs, it)
		case it.ts != nil:
			sequences = append(sequences, it)
		default:
			packages = append(packages, it)
		}
	}
	for _, it := range packages {
		if err := im.importObject(it, it.snap.publish(im.ctx, im.tx)); err != nil {
			return err
		}
	}
	for _, it := range programs {
		if err := im.importProgram(it); err != nil {
			return err
		}
	}
	if err := im.planExternal(); err != nil {
		return err
	}
	for _, it := range orderSequences(sequences, im.byID) {
		if err := im.importSequence(it); err != nil {
			return err
		}
	}
	sort.SliceStable(im.res.Plan, func(i, j int) bool { return im.res.Plan[i].SourceID < im.res.Plan[j].SourceID })
	return nil
}

// loadTargets reads the site's packages the caller may see, for the
// matching rules.
func (im *importer) loadTargets() error {
	pr, err := caller(im.ctx)
	if err != nil {
		return err
	}
	for _, c := range im.p.reg.Classes() {
		if !c.IsA(packageBase) || storable(c) != nil {
			continue
		}
		keep, err := im.p.visibility(im.ctx, im.tx, pr, c)
		if err != nil {
			return err
		}
		recs, err := im.tx.List(im.ctx, c, store.ListOptions{})
		if err != nil {
			return err
		}
		for _, r := range recs {
			if keep == nil || keep(r.Instance) {
				im.targets = append(im.targets, r.Instance)
			}
		}
	}
	im.hashes = map[string]string{}
	versions := map[string]int64{}
	rows, err := im.tx.List(im.ctx, im.p.contentClasses.content, store.ListOptions{})
	if err != nil {
		return err
	}
	for _, r := range rows {
		pkg, _, _ := strings.Cut(r.Instance.String("ContentUniqueID"), ".")
		pkg = strings.ToUpper(pkg)
		if v := r.Instance.Int("ContentVersion"); v >= versions[pkg] {
			versions[pkg], im.hashes[pkg] = v, r.Instance.String("ContentHash")
		}
	}
	return nil
}

// snapshotContents takes, before the import's transaction, the content
// of each package of the zip that has one under ContentPath (on a dry
// run it only checks that the folder is there).
func (im *importer) snapshotContents() error {
	if im.opts.ContentPath == "" {
		return nil
	}
	for _, it := range im.items {
		if it.failed || it.content == nil {
			continue
		}
		// only a caller who may create the package reads a folder of the
		// server's, as a create with a PkgSourcePath would
		if _, err := im.p.authorize(im.ctx, it.in.Class, "", auth.Create); err != nil {
			return err
		}
		source := filepath.Join(im.opts.ContentPath, filepath.FromSlash(strings.ReplaceAll(it.content.RelativePath, `\`, "/")))
		if rel, err := filepath.Rel(im.opts.ContentPath, source); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			im.problem(it.obj.Ref(), cmexport.ManifestPart, "content folder %q leaves the content path", it.content.RelativePath)
			it.failed = true
			continue
		}
		if st, err := os.Stat(source); err != nil || !st.IsDir() {
			im.problem(it.obj.Ref(), cmexport.ManifestPart, "its content folder %s is not there", source)
			it.failed = true
			continue
		}
		it.in.Set(sourcePathProperty, source)
		if im.opts.DryRun {
			continue
		}
		m, err := im.p.snapshot(im.ctx, "", source)
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			im.problem(it.obj.Ref(), cmexport.ManifestPart, "%s", errs.Message(err))
			it.failed = true
			continue
		}
		if err != nil {
			return err
		}
		if it.content.Hash != "" && !strings.EqualFold(m.Hash, it.content.Hash) {
			im.problem(it.obj.Ref(), cmexport.ManifestPart, "the files in %s have content hash %s, the manifest says %s", source, m.Hash, it.content.Hash)
			it.failed = true
			continue
		}
		it.snap = &pendingSnapshot{p: im.p, m: m, source: source}
	}
	return nil
}

func (im *importer) target(id string) *cim.Instance {
	for _, t := range im.targets {
		if strings.EqualFold(t.String(packageIDProperty), id) {
			return t
		}
	}
	return nil
}

// checkMap refuses a map file that names a package the zip does not
// refer to, or a target the site does not have.
func (im *importer) checkMap() error {
	if len(im.opts.Map) == 0 {
		return nil
	}
	referred := map[string]bool{}
	for _, it := range im.items {
		referred[strings.ToUpper(it.obj.PackageID)] = true
		if it.in != nil {
			for _, r := range referencesOf(it.in) {
				referred[strings.ToUpper(r.String("Package"))] = true
			}
			referred[strings.ToUpper(it.in.String(bootImageProperty))] = true
		}
		if it.ts != nil {
			for _, r := range taskseq.References(it.ts) {
				referred[strings.ToUpper(r.Package)] = true
			}
		}
	}
	var bad []cmexport.Problem
	for _, from := range slices.Sorted(maps.Keys(im.opts.Map)) {
		to := im.opts.Map[from]
		if !referred[strings.ToUpper(from)] {
			bad = append(bad, cmexport.Problem{Part: "map file", Message: fmt.Sprintf("%s → %s: the zip does not refer to package %s", from, to, from)})
		}
		if im.target(to) == nil {
			bad = append(bad, cmexport.Problem{Part: "map file", Message: fmt.Sprintf("%s → %s: this site has no package %s", from, to, to)})
		}
	}
	if len(bad) > 0 {
		return &cmexport.ProblemsError{Problems: bad}
	}
	return nil
}

// match finds the site's object that an object of the zip is: the same
// class with the same PackageID and Name; else, for a package whose
// content the zip lists, one of the same class whose current content has
// the same content hash; else one of the same class with the same Name
// and Version. When several match, the one with the lowest PackageID
// (the oldest), with a warning.
func (im *importer) match(ref string, in *cim.Instance, hash string) (*cim.Instance, string) {
	id, name, version := in.String(packageIDProperty), in.String("Name"), in.String("Version")
	if t := im.target(id); t != nil && t.Class == in.Class && strings.EqualFold(t.String("Name"), name) {
		return t, RuleExistingSameID
	}
	rule := RuleExistingName
	var found []*cim.Instance
	if hash != "" {
		for _, t := range im.targets {
			if t.Class == in.Class && strings.EqualFold(im.hashes[strings.ToUpper(t.String(packageIDProperty))], hash) {
				found = append(found, t)
			}
		}
		rule = RuleExistingHash
	}
	if len(found) == 0 {
		rule = RuleExistingName
		for _, t := range im.targets {
			if t.Class == in.Class && strings.EqualFold(t.String("Name"), name) && strings.EqualFold(t.String("Version"), version) {
				found = append(found, t)
			}
		}
	}
	if len(found) == 0 {
		return nil, ""
	}
	sort.Slice(found, func(i, j int) bool { return found[i].String(packageIDProperty) < found[j].String(packageIDProperty) })
	if len(found) > 1 {
		im.warning(ref, "%d objects of this site match it (%s); the oldest, %s, is taken", len(found), rule, found[0].String(packageIDProperty))
	}
	return found[0], rule
}

// clientValues keeps what a client may write of an object of the zip:
// the properties that are neither keys nor read-only (the server assigns
// those: ids, source site, dates, versions, references).
func clientValues(in *cim.Instance) *cim.Instance {
	out := cim.NewInstance(in.Class)
	for name, v := range in.Values {
		p, ok := in.Class.Property(name)
		if !ok || p.IsReadOnly() || (p.IsKey() && in.Class.IsA(packageBase)) {
			continue
		}
		out.Values[p.Name] = v
	}
	return out
}

// importObject creates, links or overwrites one object of the zip by its
// class's action; server sets what only the server writes (a sequence).
func (im *importer) importObject(it *item, server serverValues) error {
	ref := it.obj.Ref()
	action := im.opts.action(it.obj.Class)
	hash := ""
	if it.content != nil {
		hash = it.content.Hash
	}
	existing, rule := im.match(ref, it.in, hash)
	src := strings.ToUpper(it.obj.PackageID)
	values := clientValues(it.in)
	switch {
	case existing != nil && action == ImportFail:
		im.problem(ref, "", "%s %s already exists (%s) and the action is ImportFail", it.obj.Class, existing.String(packageIDProperty), rule)
		it.failed = true
		return nil
	case existing != nil && (action == NotSet || action == Skip || action == IgnoreDependencyFailure || action == AppendDriverCategories):
		it.targetID = existing.String(packageIDProperty)
		im.ids[src] = it.targetID
		it.result.Outcome, it.result.TargetID = "linked", it.targetID
		im.planZip(it, rule)
		return nil
	case existing != nil && action.overwrites():
		next, err := im.p.updateTx(im.ctx, im.tx, existing.Class, existing.Key(), values, Replace, "", server)
		if err != nil {
			return im.objectError(it, err)
		}
		it.targetID = next.String(packageIDProperty)
		it.result.Outcome = "overwritten"
	default:
		if existing != nil && action == Rename {
			values.Set("Name", im.freeName(it.in))
			it.result.Outcome = "renamed"
		}
		stored, err := im.p.createTx(im.ctx, im.tx, values, server)
		if err != nil {
			return im.objectError(it, err)
		}
		it.targetID = stored.String(packageIDProperty)
		im.targets = append(im.targets, stored)
		if it.result.Outcome != "renamed" {
			it.result.Outcome = "created"
		}
	}
	it.result.TargetID = it.targetID
	it.result.Name = values.String("Name")
	im.ids[src] = it.targetID
	im.planZip(it, RuleImported)
	return nil
}

// objectError turns a refusal of one object into its problem; errors
// that are not about the object end the import.
func (im *importer) objectError(it *item, err error) error {
	switch errs.KindOf(err) {
	case errs.Invalid, errs.Conflict:
		pr := cmexport.Problem{Object: it.obj.Ref(), Part: it.obj.Dir + "/" + cmexport.ObjectFile, Message: errs.Message(err)}
		if !im.opts.Partial {
			return &cmexport.ProblemsError{Problems: append(errorProblems(im.res.Problems), pr)}
		}
		// the transaction may hold part of the refused write: start the
		// import over without this object
		return &retryWithout{it: it, problem: pr}
	}
	return err
}

// retryWithout asks Import to run again without an object whose write
// failed half-way in a partial import.
type retryWithout struct {
	it      *item
	problem cmexport.Problem
}

func (r *retryWithout) Error() string { return "retry without " + r.it.obj.Ref() }

// freeName is the object's name with the first " (n)" suffix no object
// of its class has, within the name's max(N).
func (im *importer) freeName(in *cim.Instance) string {
	name := in.String("Name")
	limit := 50
	if p, ok := in.Class.Property("Name"); ok {
		if n, ok := p.MaxLength(); ok {
			limit = n
		}
	}
	for n := 2; ; n++ {
		suffix := fmt.Sprintf(" (%d)", n)
		base := name
		if r := []rune(base); len(r)+len([]rune(suffix)) > limit {
			base = string(r[:max(0, limit-len([]rune(suffix)))])
		}
		cand := base + suffix
		taken := false
		for _, t := range im.targets {
			if t.Class == in.Class && strings.EqualFold(t.String("Name"), cand) {
				taken = true
				break
			}
		}
		if !taken {
			return cand
		}
	}
}

func (im *importer) planZip(it *item, rule string) {
	im.res.Plan = append(im.res.Plan, PlanEntry{
		SourceID: it.obj.PackageID, Name: it.in.String("Name"), Type: it.in.Int("PackageType"),
		Version: it.in.String("Version"), TargetID: it.targetID, Rule: rule,
	})
}

// importProgram creates a program of the zip under its package's target
// id, or links the program of that name the target package has.
func (im *importer) importProgram(it *item) error {
	src := strings.ToUpper(it.obj.PackageID)
	pkgID, ok := im.ids[src]
	if !ok {
		if t := im.target(it.obj.PackageID); t != nil {
			pkgID = t.String(packageIDProperty)
		} else {
			im.problem(it.obj.Ref(), "", "its package %s is neither in the zip nor on this site", it.obj.PackageID)
			it.failed = true
			return nil
		}
	}
	c := it.in.Class
	key := cim.JoinKey([]string{pkgID, it.obj.ProgramName})
	_, err := im.tx.Get(im.ctx, c, key, false)
	exists := err == nil
	if err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	values := clientValues(it.in)
	values.Set(packageIDProperty, pkgID)
	action := im.opts.action(c.Name)
	switch {
	case exists && action == ImportFail:
		im.problem(it.obj.Ref(), "", "program %q of %s already exists and the action is ImportFail", it.obj.ProgramName, pkgID)
		it.failed = true
		return nil
	case exists && action.overwrites():
		if _, err := im.p.updateTx(im.ctx, im.tx, c, key, values, Replace, "", nil); err != nil {
			return im.objectError(it, err)
		}
		it.result.Outcome = "overwritten"
	case exists:
		it.result.Outcome = "linked"
	default:
		if _, err := im.p.createTx(im.ctx, im.tx, values, nil); err != nil {
			return im.objectError(it, err)
		}
		it.result.Outcome = "created"
	}
	it.targetID = pkgID
	it.result.TargetID = pkgID
	return nil
}

// externalRef is a package a sequence of the zip refers to and the zip
// does not hold (or holds but could not import).
type externalRef struct {
	id   string
	typ  int64 // 0 package, 1 application
	info *cmexport.RefInfo
}

// planExternal maps every reference of the zip's sequences that no
// object of the zip answers, by the first rule that matches: the map
// file, the references info (same name, type and version), the USMT
// package, the same id on this site; else it is missing and would
// dangle.
func (im *importer) planExternal() error {
	seen := map[string]bool{}
	var refs []externalRef
	for _, it := range im.items {
		if it.ts == nil || it.failed {
			continue
		}
		infos := map[string]*cmexport.RefInfo{}
		for i := range it.obj.References {
			infos[strings.ToUpper(it.obj.References[i].ReferencePackageID)] = &it.obj.References[i]
		}
		list := taskseq.WithBootImage(taskseq.References(it.ts), it.in.String(bootImageProperty))
		list = append(list, taskseq.DisabledReferences(it.ts)...)
		for _, r := range list {
			k := strings.ToUpper(r.Package)
			if seen[k] {
				continue
			}
			if z, ok := im.byID[k]; ok && !z.failed {
				continue
			}
			seen[k] = true
			refs = append(refs, externalRef{id: r.Package, typ: r.Type, info: infos[k]})
		}
	}
	for _, r := range refs {
		e := PlanEntry{SourceID: r.id, Type: r.typ}
		if r.info != nil {
			e.Name, e.Type, e.Version = r.info.ReferenceName, r.info.ReferencePackageType, r.info.ReferenceVersion
		}
		if r.typ == 1 {
			e.Type = objectTypeApplication
			exists, err := im.p.referenceExists(im.ctx, im.tx, r.id, 1)
			if err != nil {
				return err
			}
			if exists {
				e.TargetID, e.Rule = r.id, RuleSameID
			} else {
				e.TargetID, e.Rule = TargetWouldDangle, RuleMissing
			}
			im.res.Plan = append(im.res.Plan, e)
			continue
		}
		e.TargetID, e.Rule = im.mapExternal(r)
		if e.Rule != RuleMissing {
			im.ids[strings.ToUpper(r.id)] = e.TargetID
			if t := im.target(e.TargetID); t != nil && e.Name == "" {
				e.Name, e.Version = t.String("Name"), t.String("Version")
			}
		}
		im.res.Plan = append(im.res.Plan, e)
	}
	return nil
}

func (im *importer) mapExternal(r externalRef) (string, string) {
	for from, to := range im.opts.Map {
		if strings.EqualFold(from, r.id) {
			return im.target(to).String(packageIDProperty), RuleMapFile
		}
	}
	if r.info != nil && r.info.ReferenceName != "" {
		var found []*cim.Instance
		for _, t := range im.targets {
			if strings.EqualFold(t.String("Name"), r.info.ReferenceName) && t.Int("PackageType") == r.info.ReferencePackageType &&
				strings.EqualFold(t.String("Version"), r.info.ReferenceVersion) {
				found = append(found, t)
			}
		}
		if len(found) == 1 {
			return found[0].String(packageIDProperty), RuleReferencesInfo
		}
		if len(found) > 1 {
			im.warning("", "package %s (%s): %d packages of this site have its name, type and version; map it with a map file", r.id, r.info.ReferenceName, len(found))
		}
	}
	if im.a.USMTPackage != "" && strings.EqualFold(r.id, im.a.USMTPackage) {
		if usmt := im.siteUSMT(); usmt != "" {
			return usmt, RuleUSMT
		}
	}
	if t := im.target(r.id); t != nil && (r.info == nil || r.info.ReferenceName == "" || strings.EqualFold(t.String("Name"), r.info.ReferenceName)) {
		return t.String(packageIDProperty), RuleSameID
	}
	return TargetWouldDangle, RuleMissing
}

func (im *importer) siteUSMT() string {
	for _, t := range im.targets {
		if t.Class.Name == "SMS_Package" && t.Int(defaultImageFlags) == usmtImageFlag {
			return t.String(packageIDProperty)
		}
	}
	return ""
}

// orderSequences puts child task sequences of the zip before the
// sequences that run them.
func orderSequences(seqs []*item, byID map[string]*item) []*item {
	var out []*item
	state := map[*item]int{} // 1 visiting, 2 done
	var visit func(it *item)
	visit = func(it *item) {
		if state[it] != 0 {
			return
		}
		state[it] = 1
		for _, r := range taskseq.References(it.ts) {
			if child, ok := byID[strings.ToUpper(r.Package)]; ok && child.ts != nil && child != it {
				visit(child)
			}
		}
		state[it] = 2
		out = append(out, it)
	}
	for _, it := range seqs {
		visit(it)
	}
	return out
}

// importSequence rewrites a sequence's references to the target's ids
// and stores it with its package.
func (im *importer) importSequence(it *item) error {
	ref := it.obj.Ref()
	for _, r := range taskseq.WithBootImage(taskseq.References(it.ts), it.in.String(bootImageProperty)) {
		dep, ok := im.byID[strings.ToUpper(r.Package)]
		if !ok || !dep.failed || dep == it {
			continue
		}
		if !im.opts.action(it.obj.Class).ignoresDependencyFailure() {
			im.problem(ref, "", "it needs %s, which could not be imported (IgnoreDependencyFailure imports it anyway)", dep.obj.Ref())
			it.failed = true
			return nil
		}
	}
	mapID := func(id string, typ int64) (string, bool) {
		if typ == 1 {
			return "", false
		}
		to, ok := im.ids[strings.ToUpper(id)]
		return to, ok
	}
	ts := it.ts.Clone()
	taskseq.RemapReferences(ts, mapID)
	if boot := it.in.String(bootImageProperty); boot != "" {
		if to, ok := mapID(boot, 0); ok {
			it.in.Set(bootImageProperty, to)
		}
	}
	if dp := it.in.String("DependentProgram"); dp != "" {
		if id, prog, ok := strings.Cut(dp, ";;"); ok {
			if to, ok := mapID(id, 0); ok {
				it.in.Set("DependentProgram", to+";;"+prog)
			}
		}
	}
	fillDefaults(ts)
	problems := taskseq.Validate(ts)
	if bad := taskseq.Errors(problems); len(bad) > 0 {
		for _, pr := range bad {
			im.problem(ref, it.obj.Dir+"/"+cmexport.ObjectFile, "Sequence: %s", pr.String())
		}
		it.failed = true
		return nil
	}
	server := func(inst *cim.Instance) error { return im.p.applySequence(im.ctx, im.tx, inst, ts) }
	if err := im.importObject(it, server); err != nil || it.failed {
		return err
	}
	var missing []string
	for _, e := range im.res.Plan {
		if e.Rule == RuleMissing {
			for _, r := range taskseq.WithBootImage(taskseq.References(ts), it.in.String(bootImageProperty)) {
				if strings.EqualFold(r.Package, e.SourceID) {
					missing = append(missing, e.SourceID)
				}
			}
		}
	}
	if len(missing) > 0 {
		im.warning(ref, "it refers to %s, which this site does not have: its references dangle (DANGLING_REF)", strings.Join(missing, ", "))
	}
	return nil
}
