package provider

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/content"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// The classes and properties of package content (schema/content.mof).
const (
	contentClass          = "SMS_Content"
	packageToContentClass = "SMS_PackageToContent"
	sourcePathProperty    = "PkgSourcePath"
	packageSizeProperty   = "PackageSize"
	sourceSizeProperty    = "SourceSize"
	packageTypeProperty   = "PackageType"
	tsPackageType         = 4 // PKG_TYPE_TASK_SEQUENCE
	contentSequence       = "ContentID"
)

// ContentInfo is a published content: what the store records of it and
// the library's manifest.
type ContentInfo struct {
	// ContentID is "<PackageID>.<SourceVersion>", e.g. PS100004.2.
	ContentID string
	// Number is the numeric SMS_Content.ContentID.
	Number        int64
	PackageID     string
	SourceVersion int64
	// Hash is the content hash (SHA-256, upper-case hex).
	Hash     string
	Manifest *content.Manifest
}

// ContentLibrary returns the content library (nil when none is set).
func (p *Provider) ContentLibrary() *content.Library { return p.lib }

func (p *Provider) library() (*content.Library, error) {
	if p.lib == nil {
		return nil, errs.E(errs.Unavailable, "this server has no content library (start it with --content DIR)")
	}
	return p.lib, nil
}

// readPackage reads, in tx, the package id of whichever package class holds it,
// as the caller may see it. Outcomes: the record; errs.NotFound (also for
// a package outside the caller's scopes); errs.Forbidden without Read.
func (p *Provider) readPackage(ctx context.Context, tx store.ReadTx, pr *auth.Principal, id string) (*store.Record, error) {
	for _, c := range p.reg.Classes() {
		if !c.IsA(packageBase) || storable(c) != nil {
			continue
		}
		rec, err := tx.Get(ctx, c, id, false)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if _, err := p.authorize(ctx, c, id, auth.Read); err != nil {
			return nil, err
		}
		if err := p.visible(ctx, tx, pr, rec.Instance, id); errs.Is(err, errs.NotFound) {
			return nil, noPackage(id) // as if it did not exist
		} else if err != nil {
			return nil, err
		}
		return rec, nil
	}
	return nil, noPackage(id)
}

func noPackage(id string) error {
	return errs.Target(errs.NotFound, "PackageID", "there is no package %s", id)
}

// contentsOf returns the SMS_Content rows of a package, oldest first.
func (p *Provider) contentsOf(ctx context.Context, tx store.ReadTx, packageID string) ([]*cim.Instance, error) {
	links, err := p.listWhere(ctx, tx, p.contentClasses.link, "PackageID eq "+odataString(packageID))
	if err != nil {
		return nil, err
	}
	var out []*cim.Instance
	for _, l := range links {
		rec, err := tx.Get(ctx, p.contentClasses.content, strconv.FormatInt(l.Instance.Int("ContentID"), 10), false)
		if err != nil {
			return nil, fmt.Errorf("content of %s: %w", packageID, err)
		}
		out = append(out, rec.Instance)
	}
	sortByVersion(out)
	return out, nil
}

func sortByVersion(cs []*cim.Instance) {
	slices.SortFunc(cs, func(a, b *cim.Instance) int { return cmp.Compare(a.Int("ContentVersion"), b.Int("ContentVersion")) })
}

// contentAt returns the content of the package in effect at its source
// version v: the newest published at v or before. Outcomes: the row;
// errs.NotFound when the package had no content at v.
func (p *Provider) contentAt(ctx context.Context, tx store.ReadTx, pkg *cim.Instance, v int64) (*cim.Instance, error) {
	id := pkg.String(packageIDProperty)
	if v < 1 || v > pkg.Int(sourceVerProperty) {
		return nil, errs.Target(errs.NotFound, "SourceVersion", "package %s has no source version %d (its SourceVersion is %d)", id, v, pkg.Int(sourceVerProperty))
	}
	cs, err := p.contentsOf(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Int("ContentVersion") <= v {
			return cs[i], nil
		}
	}
	return nil, errs.Target(errs.NotFound, "SourceVersion", "package %s had no content at source version %d", id, v)
}

func (p *Provider) contentInfo(row *cim.Instance, m *content.Manifest) *ContentInfo {
	pkg, _, _ := strings.Cut(row.String("ContentUniqueID"), ".")
	return &ContentInfo{
		ContentID:     row.String("ContentUniqueID"),
		Number:        row.Int("ContentID"),
		PackageID:     pkg,
		SourceVersion: row.Int("ContentVersion"),
		Hash:          row.String("ContentHash"),
		Manifest:      m,
	}
}

// Content returns the published content named id ("<PackageID>.<ver>")
// with its manifest. The caller needs Read on the package. Outcomes: the
// content; errs.NotFound for an unknown content or package (or one out of
// the caller's scopes); errs.Forbidden.
func (p *Provider) Content(ctx context.Context, id string) (*ContentInfo, error) {
	pr, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	lib, err := p.library()
	if err != nil {
		return nil, err
	}
	pkgID, _, ok := strings.Cut(id, ".")
	if !ok || !keepable(id) {
		return nil, errs.Target(errs.NotFound, id, "there is no content %q: a content id is <PackageID>.<SourceVersion>, e.g. PS100004.2", id)
	}
	var row *cim.Instance
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		if _, err := p.readPackage(ctx, tx, pr, pkgID); err != nil {
			return err
		}
		rows, err := p.listWhere(ctx, tx, p.contentClasses.content, "ContentUniqueID eq "+odataString(id))
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return errs.Target(errs.NotFound, id, "there is no content %s", id)
		}
		row = rows[0].Instance
		return nil
	})
	if err != nil {
		return nil, p.audited(ctx, err)
	}
	m, err := lib.Manifest(row.String("LibraryManifest"))
	if err != nil {
		return nil, fmt.Errorf("content %s: %w", id, err)
	}
	return p.contentInfo(row, m), nil
}

// CurrentContent returns the newest content of a package. Outcomes: the
// content; errs.NotFound for an unknown package or one without content;
// errs.Forbidden.
func (p *Provider) CurrentContent(ctx context.Context, packageID string) (*ContentInfo, error) {
	pr, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var row *cim.Instance
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		if _, err := p.readPackage(ctx, tx, pr, packageID); err != nil {
			return err
		}
		cs, err := p.contentsOf(ctx, tx, packageID)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return errs.Target(errs.NotFound, packageID, "package %s has no content: it has no source, or its source was never snapshotted", packageID)
		}
		row = cs[len(cs)-1]
		return nil
	})
	if err != nil {
		return nil, p.audited(ctx, err)
	}
	return p.contentInfo(row, nil), nil
}

// ContentBlob opens a file of the content library by its SHA-256. Any
// signed-in administrative user may read one: a blob is named by the hash
// of its bytes, which only a manifest the caller could read tells.
// Outcomes: the open file; errs.Invalid for a name that is no SHA-256;
// errs.NotFound.
func (p *Provider) ContentBlob(ctx context.Context, hash string) (*os.File, error) {
	if _, err := p.authorize(ctx, p.contentClasses.content, hash, auth.Read); err != nil {
		return nil, p.audited(ctx, err)
	}
	lib, err := p.library()
	if err != nil {
		return nil, err
	}
	return lib.Blob(hash)
}

// contentClasses are the content classes, looked up once.
type contentClasses struct {
	content, link *cim.Class
}

func lookupContentClasses(reg *cim.Registry) (contentClasses, error) {
	var cc contentClasses
	var ok bool
	if cc.content, ok = reg.Class(contentClass); !ok {
		return cc, fmt.Errorf("provider: the schema lacks class %s", contentClass)
	}
	if cc.link, ok = reg.Class(packageToContentClass); !ok {
		return cc, fmt.Errorf("provider: the schema lacks class %s", packageToContentClass)
	}
	return cc, nil
}

// hasSource reports whether a package has source files to snapshot: a
// package other than a task sequence package with a PkgSourcePath.
func hasSource(pkg *cim.Instance) bool {
	return pkg.Int(packageTypeProperty) != tsPackageType && strings.TrimSpace(pkg.String(sourcePathProperty)) != ""
}

// snapshot takes a snapshot of a package source into the library; with
// a packageID (an existing package), its progress is kept (Snapshot) and
// the files unchanged since its newest content are not copied again.
func (p *Provider) snapshot(ctx context.Context, packageID, source string) (*content.Manifest, error) {
	lib, err := p.library()
	if err != nil {
		return nil, err
	}
	var progress func(content.Progress)
	prev := ""
	if packageID != "" {
		var end func()
		progress, end = p.snapshots.track(packageID)
		defer end()
		err := p.st.Read(ctx, func(tx store.ReadTx) error {
			cs, err := p.contentsOf(ctx, tx, packageID)
			if err == nil && len(cs) > 0 {
				prev = cs[len(cs)-1].String("LibraryManifest")
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("snapshot of %s: %w", source, err)
		}
	}
	m, err := lib.SnapshotSince(ctx, source, prev, progress)
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", source, err)
	}
	return m, nil
}

// publishContent records, in tx, the snapshot m of the package pkg (whose
// SourceVersion is already the one to publish at): a new SMS_Content and
// SMS_PackageToContent when m differs from the package's newest content,
// and the package's PackageSize, SourceSize (KB), SourceDate and
// LastRefreshTime. It returns whether the content changed.
func (p *Provider) publishContent(ctx context.Context, tx store.Tx, pkg *cim.Instance, m *content.Manifest, source string) (bool, error) {
	id := pkg.String(packageIDProperty)
	cs, err := p.contentsOf(ctx, tx, id)
	if err != nil {
		return false, err
	}
	now := cim.Now()
	pkg.Set(lastRefreshProperty, now)
	pkg.Set(refreshFlagProperty, false)
	if len(cs) > 0 && cs[len(cs)-1].String("LibraryManifest") == m.ID {
		return false, nil
	}
	n, err := tx.NextSequence(ctx, contentSequence)
	if err != nil {
		return false, fmt.Errorf("allocate ContentID: %w", err)
	}
	if n > 1<<31-1 {
		return false, errs.E(errs.Conflict, "the site has used all content ids")
	}
	ver := pkg.Int(sourceVerProperty)
	uid := fmt.Sprintf("%s.%d", id, ver)
	objType, _ := pkg.Class.ObjectTypeID()
	row := defaults(p.contentClasses.content)
	row.Set("ContentID", n)
	row.Set("ContentHash", m.Hash)
	row.Set("ContentHashVersion", int64(content.AlgSHA256))
	row.Set("ContentSource", source)
	row.Set("ContentUniqueID", uid)
	row.Set("ContentVersion", ver)
	row.Set("ObjectTypeID", objType)
	row.Set("LibraryManifest", m.ID)
	row.Set("FileCount", int64(len(m.Files)))
	row.Set("ContentSize", m.Size)
	row.Set("DateCreated", now)
	if err := tx.Insert(ctx, &store.Record{Instance: row}); err != nil {
		return false, fmt.Errorf("record content %s: %w", uid, err)
	}
	link := defaults(p.contentClasses.link)
	link.Set("ContentID", n)
	link.Set("ContentSubFolder", "")
	link.Set("ContentUniqueID", uid)
	link.Set("ContentVersionInPkg", ver)
	link.Set("MinPackageVersion", ver)
	link.Set("PackageID", id)
	link.Set("PackageType", pkg.Int(packageTypeProperty))
	link.Set("SecuredTypeID", objType)
	link.Set("SecureObjectID", id)
	if err := tx.Insert(ctx, &store.Record{Instance: link}); err != nil {
		return false, fmt.Errorf("record content %s: %w", uid, err)
	}
	kb := (m.Size + 1023) / 1024
	if kb > 1<<32-1 {
		kb = 1<<32 - 1
	}
	pkg.Set(packageSizeProperty, kb)
	if _, ok := pkg.Class.Property(sourceSizeProperty); ok {
		pkg.Set(sourceSizeProperty, kb)
	}
	pkg.Set(sourceDateProperty, now)
	return true, nil
}

// dropContents removes the content rows of a deleted package; the
// library's files go at its next Collect.
func (p *Provider) dropContents(ctx context.Context, tx store.Tx, packageID string) error {
	cs, err := p.contentsOf(ctx, tx, packageID)
	if err != nil {
		return err
	}
	for _, c := range cs {
		n := strconv.FormatInt(c.Int("ContentID"), 10)
		if err := tx.Delete(ctx, p.contentClasses.link, cim.JoinKey([]string{n, packageID})); err != nil {
			return err
		}
		if err := tx.Delete(ctx, p.contentClasses.content, n); err != nil {
			return err
		}
	}
	return nil
}

// CollectContent removes from the content library what no recorded
// content holds (content.Library.Collect). Outcomes: what was removed;
// errs.Unavailable without a library.
func (p *Provider) CollectContent(ctx context.Context) (content.CollectStats, error) {
	lib, err := p.library()
	if err != nil {
		return content.CollectStats{}, err
	}
	var live []string
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		var after *string
		for {
			recs, err := tx.Scan(ctx, p.contentClasses.content, after, 1000)
			if err != nil {
				return err
			}
			for _, r := range recs {
				live = append(live, r.Instance.String("LibraryManifest"))
			}
			if len(recs) < 1000 {
				return nil
			}
			k := recs[len(recs)-1].Instance.Key()
			after = &k
		}
	})
	if err != nil {
		return content.CollectStats{}, fmt.Errorf("collect the content library: %w", err)
	}
	return lib.Collect(ctx, live, 0)
}

// pendingSnapshot is a snapshot of a package source taken before the
// transaction of the write that asked for it, to be published in it.
type pendingSnapshot struct {
	p      *Provider
	m      *content.Manifest
	source string
}

// snapshotForWrite takes the snapshot a write to a package asks for; the
// snapshot is nil (and the error too) when the write asks for none. A package other than a task sequence
// package is snapshotted when it is created with a PkgSourcePath, and
// when a write sets RefreshPkgSourceFlag or changes PkgSourcePath (cur is
// nil on create). A source that cannot be snapshotted fails the write.
func (p *Provider) snapshotForWrite(ctx context.Context, c *cim.Class, cur, sent *cim.Instance) (*pendingSnapshot, error) {
	if !c.IsA(packageBase) {
		return nil, nil
	}
	source := sent.String(sourcePathProperty)
	_, sentPath := sent.Values[sourcePathProperty]
	want := false
	if cur == nil {
		want = source != ""
	} else {
		if !sentPath {
			source = cur.String(sourcePathProperty)
		}
		flag, _ := sent.Get(refreshFlagProperty)
		want = flag == true || (sentPath && source != cur.String(sourcePathProperty))
	}
	probe := sent.Clone()
	probe.Set(sourcePathProperty, source)
	if cur != nil {
		probe.Set(packageTypeProperty, cur.Int(packageTypeProperty))
	} else if _, ok := sent.Values[packageTypeProperty]; !ok {
		if prop, ok := c.Property(packageTypeProperty); ok {
			probe.Set(packageTypeProperty, prop.Default)
		}
	}
	if !want || !hasSource(probe) {
		return nil, nil
	}
	if cur != nil {
		if _, err := p.authorize(ctx, c, cur.Key(), auth.Modify); err != nil {
			return nil, err
		}
	} else if _, err := p.authorize(ctx, c, "", auth.Create); err != nil {
		return nil, err
	}
	id := ""
	if cur != nil {
		id = cur.Key()
	}
	m, err := p.snapshot(ctx, id, source)
	if err != nil {
		return nil, err
	}
	return &pendingSnapshot{p: p, m: m, source: source}, nil
}

// publish returns the server values that record the snapshot in tx on the
// package being written (nil for no snapshot). The package's source must
// still be the one snapshotted.
func (s *pendingSnapshot) publish(ctx context.Context, tx store.Tx) serverValues {
	if s == nil {
		return nil
	}
	return func(pkg *cim.Instance) error {
		if pkg.String(sourcePathProperty) != s.source {
			return errs.Target(errs.Conflict, sourcePathProperty, "the PkgSourcePath of %s changed during the write: write it again", pkg.Key())
		}
		_, err := s.p.publishContent(ctx, tx, pkg, s.m, s.source)
		return err
	}
}

// SnapshotProgress is how far the latest snapshot of a package's source
// on this server has come: under way (Done false) or finished (kept a
// while, so that a client that asked for the refresh reads its totals).
type SnapshotProgress struct {
	PackageID string
	content.Progress
	Started time.Time
	// Ended is when it finished (zero while it runs).
	Ended time.Time
	Done  bool
}

// snapshotKeep is how long the progress of a finished snapshot is kept.
const snapshotKeep = time.Minute

// snapshotTracker keeps the progress of the snapshots this server takes
// for RefreshPkgSource and RefreshPkgSourceFlag writes, by package ID
// (upper case). The zero value is ready.
type snapshotTracker struct {
	mu   sync.Mutex
	byID map[string]*SnapshotProgress
}

// track starts the progress of a snapshot of package id and returns the
// progress function to give the snapshot and the function that ends it.
func (t *snapshotTracker) track(id string) (progress func(content.Progress), end func()) {
	k := strings.ToUpper(id)
	sp := &SnapshotProgress{PackageID: id, Started: time.Now()}
	t.mu.Lock()
	if t.byID == nil {
		t.byID = map[string]*SnapshotProgress{}
	}
	for key, old := range t.byID { // forget the finished ones of long ago
		if old.Done && time.Since(old.Ended) > snapshotKeep {
			delete(t.byID, key)
		}
	}
	t.byID[k] = sp
	t.mu.Unlock()
	return func(p content.Progress) {
			t.mu.Lock()
			sp.Progress = p
			t.mu.Unlock()
		}, func() {
			t.mu.Lock()
			sp.Done, sp.Ended = true, time.Now()
			t.mu.Unlock()
		}
}

func (t *snapshotTracker) get(id string) (SnapshotProgress, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sp, ok := t.byID[strings.ToUpper(id)]
	if !ok || sp.Done && time.Since(sp.Ended) > snapshotKeep {
		return SnapshotProgress{}, false
	}
	return *sp, true
}

// Snapshot returns how far the snapshot of a package's source that this
// server takes, or took less than a minute ago, has come: files and bytes
// read of the totals listed. The caller needs Read on the package.
// Outcomes: the progress; errs.NotFound for an unknown package (or one
// out of the caller's scopes) and for a package with no snapshot under
// way or just finished here; errs.Forbidden.
func (p *Provider) Snapshot(ctx context.Context, packageID string) (SnapshotProgress, error) {
	pr, err := caller(ctx)
	if err != nil {
		return SnapshotProgress{}, err
	}
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		_, err := p.readPackage(ctx, tx, pr, packageID)
		return err
	})
	if err != nil {
		return SnapshotProgress{}, p.audited(ctx, err)
	}
	sp, ok := p.snapshots.get(packageID)
	if !ok {
		return SnapshotProgress{}, errs.Target(errs.NotFound, packageID, "no snapshot of the source of %s is under way on this server", packageID)
	}
	return sp, nil
}
