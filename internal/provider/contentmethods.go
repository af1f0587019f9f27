package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/content"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// methodFailure is a method's refusal with its SMS_ExtendedStatus detail
// naming the parameter at fault.
func methodFailure(param string, err error) error {
	return &MethodError{Err: err, Problems: []taskseq.Problem{{Property: param, Message: errs.Message(err)}}}
}

// uintIn reads an integer [in] parameter; def when it is absent.
func uintIn(in map[string]any, name string, def int64) int64 {
	if n, ok := in[name].(int64); ok {
		return n
	}
	return def
}

// refreshPkgSource: RefreshPkgSource() on any package class takes a new
// snapshot of the package source. SourceVersion goes up, and a new content
// <PackageID>.<SourceVersion> is published, only when the files changed;
// LastRefreshTime moves either way. A task sequence package, which has no
// source files, is refused with the SDK's warning; so is a package without
// a PkgSourcePath.
func (p *Provider) refreshPkgSource(ctx context.Context, m *cim.Method, target *Object, in map[string]any) (map[string]any, int64, error) {
	pkg := target.Instance
	c, key := pkg.Class, pkg.Key()
	if _, err := p.authorize(ctx, c, key, auth.Modify); err != nil {
		return nil, 0, err
	}
	if err := p.ownedHere(pkg); err != nil {
		return nil, 0, err
	}
	if pkg.Int(packageTypeProperty) == tsPackageType {
		return nil, 0, methodFailure("PackageID", errs.E(errs.Invalid,
			"RefreshPkgSource is refused on task sequence package %s: a task sequence package has no source files, and the SDK says the method \"renders your task sequence inoperable if it is called\"", key))
	}
	if !hasSource(pkg) {
		return nil, 0, methodFailure(sourcePathProperty, errs.Target(errs.Invalid, sourcePathProperty,
			"package %s has no source files to refresh: its PkgSourcePath is empty", key))
	}
	source := pkg.String(sourcePathProperty)
	man, err := p.snapshot(ctx, key, source)
	if err != nil {
		return nil, 0, methodFailure(sourcePathProperty, err)
	}
	var changed bool
	var version int64
	err = p.write(ctx, func(tx store.Tx) error {
		pr, err := caller(ctx)
		if err != nil {
			return err
		}
		cur, err := p.getVisible(ctx, tx, pr, c, key, true)
		if err != nil {
			return err
		}
		if err := p.ownedHere(cur.Instance); err != nil {
			return err
		}
		if err := p.writeUnderLock(ctx, tx, cur.Instance, false); err != nil {
			return err
		}
		if cur.Instance.String(sourcePathProperty) != source {
			return errs.Target(errs.Conflict, sourcePathProperty, "the PkgSourcePath of %s changed during the refresh: call RefreshPkgSource again", key)
		}
		next := cur.Instance.Clone()
		same, err := p.sameAsCurrent(ctx, tx, key, man)
		if err != nil {
			return err
		}
		if !same {
			next.Set(sourceVerProperty, cur.Instance.Int(sourceVerProperty)+1)
		}
		if changed, err = p.publishContent(ctx, tx, next, man, source); err != nil {
			return err
		}
		version = next.Int(sourceVerProperty)
		next.Set(sedoProperty, newObjectVersion())
		if err := tx.Update(ctx, &store.Record{Instance: next}); err != nil {
			return err
		}
		if err := p.recordMethod(ctx, tx, next); err != nil {
			return err
		}
		return p.audit(ctx, tx, auditEntry{pr: pr, action: "Method", class: c.Name, key: key, method: m.Name,
			detail: fmt.Sprintf("content %s.%d, %d files, %d bytes, hash %s", key, version, len(man.Files), man.Size, man.Hash)})
	})
	if err != nil {
		return nil, 0, err
	}
	out := map[string]any{}
	if !changed {
		out[warningsOut] = []string{fmt.Sprintf("the source of %s is unchanged: SourceVersion stays %d", key, version)}
	}
	return out, 0, nil
}

// sameAsCurrent reports whether m is the package's newest content.
func (p *Provider) sameAsCurrent(ctx context.Context, tx store.ReadTx, packageID string, m *content.Manifest) (bool, error) {
	cs, err := p.contentsOf(ctx, tx, packageID)
	if err != nil {
		return false, err
	}
	return len(cs) > 0 && cs[len(cs)-1].String("LibraryManifest") == m.ID, nil
}

// getContentHash: GetContentHash(ContentID, HashAlgID) → Hash, the content
// hash of SMS_Content ContentID in the CryptoAPI algorithm HashAlgID
// (32780 SHA-256 when 0 or absent; 32772 SHA-1; 32771 MD5).
func (p *Provider) getContentHash(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	id := uintIn(in, "ContentID", -1)
	alg := uintIn(in, "HashAlgID", 0)
	if alg == 0 {
		alg = int64(content.AlgSHA256)
	}
	if id < 0 {
		return nil, 0, methodFailure("ContentID", errs.Target(errs.Invalid, "ContentID", "ContentID is required"))
	}
	if alg < 0 || alg > 1<<32-1 {
		return nil, 0, methodFailure("HashAlgID", errs.Target(errs.Invalid, "HashAlgID", "HashAlgID %d is not a UInt32", alg))
	}
	if err := content.CheckAlg(uint32(alg)); err != nil {
		return nil, 0, methodFailure("HashAlgID", err)
	}
	pr, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	var row *cim.Instance
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		rec, err := tx.Get(ctx, p.contentClasses.content, strconv.FormatInt(id, 10), false)
		if errs.Is(err, errs.NotFound) {
			return errs.Target(errs.NotFound, "ContentID", "there is no content with ContentID %d", id)
		}
		if err != nil {
			return err
		}
		pkgID, _, _ := strings.Cut(rec.Instance.String("ContentUniqueID"), ".")
		if _, err := p.readPackage(ctx, tx, pr, pkgID); errs.Is(err, errs.NotFound) {
			return errs.Target(errs.NotFound, "ContentID", "there is no content with ContentID %d", id)
		} else if err != nil {
			return err
		}
		row = rec.Instance
		return nil
	})
	if errs.Is(err, errs.NotFound) {
		return nil, 0, methodFailure("ContentID", err)
	}
	if err != nil {
		return nil, 0, p.audited(ctx, err)
	}
	hash, err := p.contentHash(row, uint32(alg))
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"Hash": hash}, 0, nil
}

// contentHash is the hash of a content row in algorithm alg: the recorded
// SHA-256, or the others computed from its manifest.
func (p *Provider) contentHash(row *cim.Instance, alg uint32) (string, error) {
	if alg == content.AlgSHA256 {
		return row.String("ContentHash"), nil
	}
	lib, err := p.library()
	if err != nil {
		return "", err
	}
	man, err := lib.Manifest(row.String("LibraryManifest"))
	if err != nil {
		return "", fmt.Errorf("content %s: %w", row.String("ContentUniqueID"), err)
	}
	return man.ContentHash(alg)
}

// packageContent reads the content of PackageID in effect at its
// SourceVersion, for the package hash methods.
func (p *Provider) packageContent(ctx context.Context, in map[string]any) (*cim.Instance, error) {
	id, _ := in["PackageID"].(string)
	if id == "" {
		return nil, methodFailure("PackageID", errs.Target(errs.Invalid, "PackageID", "PackageID is required"))
	}
	ver := uintIn(in, "SourceVersion", -1)
	if ver < 0 {
		return nil, methodFailure("SourceVersion", errs.Target(errs.Invalid, "SourceVersion", "SourceVersion is required"))
	}
	pr, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var row *cim.Instance
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		rec, err := p.readPackage(ctx, tx, pr, id)
		if err != nil {
			return err
		}
		row, err = p.contentAt(ctx, tx, rec.Instance, ver)
		return err
	})
	if errs.Is(err, errs.NotFound) {
		return nil, methodFailure(errs.TargetOf(err), err)
	}
	if err != nil {
		return nil, p.audited(ctx, err)
	}
	return row, nil
}

// getPackageDefaultHash: GetPackageDefaultHash(PackageID, SourceVersion)
// → Hash, the SHA-256 content hash of the package's content at that
// version.
func (p *Provider) getPackageDefaultHash(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	row, err := p.packageContent(ctx, in)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"Hash": row.String("ContentHash")}, 0, nil
}

// getPackageHash: GetPackageHash(PackageID, SourceVersion) → Hash and
// HashVersion 2 (SHA-1, per the method page): the SHA-1 content hash.
func (p *Provider) getPackageHash(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	row, err := p.packageContent(ctx, in)
	if err != nil {
		return nil, 0, err
	}
	hash, err := p.contentHash(row, content.AlgSHA1)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"Hash": hash, "HashVersion": int64(2)}, 0, nil
}

// Package flags that decide whether a package is shared (reference/content.md §7.1).
const (
	pkgFlagsProperty    = "PkgFlags"
	flagPackageShare    = 0x80    // "Copy the content in this package to a package share on distribution points"
	flagNoPackage       = 1 << 28 // NO_PACKAGE: the package has no content
	packageNameProperty = "Name"
)

// checkReferencesShareType: CheckReferencesShareType(PackageID) →
// CanRunFromDP, PacakgeIds, PackageNames (the misspelling is the API's):
// the packages task sequence PackageID refers to that have content but are
// not copied to a package share on distribution points (PkgFlags 0x80).
// The task sequence can run from the distribution point when there is
// none. They come in PackageID order. Applications, packages without
// content and references to packages the caller cannot see (or that do
// not exist) are left out.
func (p *Provider) checkReferencesShareType(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	id, _ := in["PackageID"].(string)
	if id == "" {
		return nil, 0, methodFailure("PackageID", errs.Target(errs.Invalid, "PackageID", "PackageID is required"))
	}
	pr, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	rc, ok := p.reg.Class(reverseRefClass)
	if !ok {
		return nil, 0, fmt.Errorf("provider: the schema lacks class %s", reverseRefClass)
	}
	ids, names := []string{}, []string{}
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		ts, err := p.readPackage(ctx, tx, pr, id)
		if err == nil && !ts.Instance.Class.IsA(tsPackageClass) {
			err = errs.Target(errs.NotFound, "PackageID", "%s is a %s, not a task sequence package", id, ts.Instance.Class.Name)
		}
		if err != nil {
			return err
		}
		refs, err := p.listWhere(ctx, tx, rc, "PackageID eq "+odataString(ts.Instance.Key()))
		if err != nil {
			return err
		}
		for _, ref := range refs {
			obj := ref.Instance.String("ObjectID")
			pkg, err := p.readPackage(ctx, tx, pr, obj)
			if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Forbidden) {
				continue
			}
			if err != nil {
				return err
			}
			flags := pkg.Instance.Int(pkgFlagsProperty)
			if pkg.Instance.Class.IsA(tsPackageClass) || !hasSource(pkg.Instance) || flags&flagNoPackage != 0 || flags&flagPackageShare != 0 {
				continue
			}
			ids = append(ids, pkg.Instance.Key())
			names = append(names, pkg.Instance.String(packageNameProperty))
		}
		return nil
	})
	if errs.Is(err, errs.NotFound) {
		return nil, 0, methodFailure("PackageID", err)
	}
	if err != nil {
		return nil, 0, p.audited(ctx, err)
	}
	return map[string]any{"CanRunFromDP": len(ids) == 0, "PacakgeIds": ids, "PackageNames": names}, 0, nil
}
