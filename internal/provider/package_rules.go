package provider

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// The properties of the package family whose values the server assigns
// (SMS_PackageBaseclass page; sdk-spec.md §2 and §4).
const (
	packageBase          = "SMS_PackageBaseclass"
	packageIDProperty    = "PackageID"
	sourceSiteProperty   = "SourceSite"
	sourceVerProperty    = "SourceVersion"
	sourceDateProperty   = "SourceDate"
	lastRefreshProperty  = "LastRefreshTime"
	refreshFlagProperty  = "RefreshPkgSourceFlag"
	sedoProperty         = "SedoObjectVersion"
	shareTypeProperty    = "ShareType"
	shareNameProperty    = "ShareName"
	sourceFlagProperty   = "PkgSourceFlag"
	scheduleProperty     = "RefreshSchedule"
	maxPackageIDSequence = 0xFFFFF // five hex digits

	shareSpecific = 2 // ShareType SHARE_SPECIFIC
	storageDirect = 2 // PkgSourceFlag STORAGE_DIRECT
)

// packageRules are the rules of SMS_PackageBaseclass and every class that
// derives from it:
//   - PackageID is <SiteCode><5 hex digits>, drawn from a per-site counter
//     in the store, so an id is never handed out twice, even across
//     restarts or after a delete; all package classes share the space;
//   - SourceSite is this server's site code, and only that site may change
//     or delete the package (ownedHere; SetSourceSite and Unlock move it);
//   - SourceVersion starts at 1 and goes up by one on every update;
//   - SedoObjectVersion is new after every write (it is also the ETag);
//   - SourceDate and LastRefreshTime are the creation time, and both move
//     when the source is refreshed (refreshSource);
//   - RefreshPkgSourceFlag always reads false; writing true refreshes the
//     source as RefreshPkgSource would;
//   - the rules the class page ties to other properties (checkPackage):
//     ShareName with SHARE_SPECIFIC, RefreshSchedule only with
//     STORAGE_DIRECT.
type packageRules struct{ p *Provider }

func (packageRules) appliesTo(c *cim.Class) bool { return c.IsA(packageBase) }

func (r packageRules) beforeCreate(ctx context.Context, tx store.Tx, inst *cim.Instance) error {
	id, err := r.allocateID(ctx, tx)
	if err != nil {
		return err
	}
	now := cim.Now()
	inst.Set(packageIDProperty, id)
	inst.Set(sourceSiteProperty, r.p.site)
	inst.Set(sourceVerProperty, int64(1))
	inst.Set(sedoProperty, newObjectVersion())
	inst.Set(sourceDateProperty, now)
	inst.Set(lastRefreshProperty, now)
	return nil
}

func (r packageRules) beforeUpdate(ctx context.Context, tx store.Tx, cur, next, sent *cim.Instance) error {
	if err := r.p.ownedHere(cur); err != nil {
		return err
	}
	next.Set(sourceVerProperty, cur.Int(sourceVerProperty)+1)
	next.Set(sedoProperty, newObjectVersion())
	return nil
}

func (r packageRules) settle(ctx context.Context, tx store.Tx, cur, next *cim.Instance) error {
	if v, _ := next.Get(refreshFlagProperty); v == true {
		refreshSource(next, cim.Now())
	}
	return checkPackage(next)
}

// refreshSource records a refresh of the package source at the
// distribution points, the one event that moves SourceDate ("the package
// source files were last updated on the distribution points") and
// LastRefreshTime ("the package source was refreshed at its distribution
// points") together, per the SMS_PackageBaseclass page. Writing
// RefreshPkgSourceFlag = true is such a refresh ("the same effect as
// calling the RefreshPkgSource method"); the flag reads false again.
func refreshSource(pkg *cim.Instance, now cim.DateTimeValue) {
	pkg.Set(sourceDateProperty, now)
	pkg.Set(lastRefreshProperty, now)
	pkg.Set(refreshFlagProperty, false)
}

// checkPackage enforces the rules the SMS_PackageBaseclass page states
// between properties:
//   - ShareName: "You must specify a share name if you set ShareType to
//     SHARE_SPECIFIC" (2);
//   - RefreshSchedule: "You can specify a refresh schedule only when
//     PkgSourceFlag is STORAGE_DIRECT" (2); an empty schedule is none.
func checkPackage(pkg *cim.Instance) error {
	if pkg.Int(shareTypeProperty) == shareSpecific && strings.TrimSpace(pkg.String(shareNameProperty)) == "" {
		return errs.Target(errs.Invalid, shareNameProperty, "ShareName is required when ShareType is 2 (SHARE_SPECIFIC)")
	}
	if tokens, _ := pkg.Values[scheduleProperty].([]any); len(tokens) > 0 {
		if flag := pkg.Int(sourceFlagProperty); flag != storageDirect {
			return errs.Target(errs.Invalid, scheduleProperty, "RefreshSchedule can be set only when PkgSourceFlag is 2 (STORAGE_DIRECT); PkgSourceFlag is %d: clear RefreshSchedule or set PkgSourceFlag to 2", flag)
		}
	}
	return nil
}

func (r packageRules) afterWrite(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
	if next == nil { // a delete is a change too
		if err := r.p.ownedHere(old); err != nil {
			return err
		}
		return r.p.dropContents(ctx, tx, old.String(packageIDProperty))
	}
	return nil
}

// allocateID draws the next free PackageID of this site.
func (r packageRules) allocateID(ctx context.Context, tx store.Tx) (string, error) {
	counter := "PackageID." + r.p.site
	for {
		n, err := tx.NextSequence(ctx, counter)
		if err != nil {
			return "", fmt.Errorf("allocate PackageID: %w", err)
		}
		if n > maxPackageIDSequence {
			return "", errs.E(errs.Conflict, "site %s has used all %d package ids", r.p.site, maxPackageIDSequence)
		}
		id := fmt.Sprintf("%s%05X", r.p.site, n)
		taken, err := r.p.packageIDTaken(ctx, tx, id)
		if err != nil {
			return "", err
		}
		if !taken {
			return id, nil
		}
	}
}

// packageIDTaken reports whether any package class holds id.
func (p *Provider) packageIDTaken(ctx context.Context, tx store.ReadTx, id string) (bool, error) {
	for _, c := range p.reg.Classes() {
		if !c.IsA(packageBase) || storable(c) != nil {
			continue
		}
		_, err := tx.Get(ctx, c, id, false)
		switch {
		case err == nil:
			return true, nil
		case !errs.Is(err, errs.NotFound):
			return false, fmt.Errorf("look up %s(%q): %w", c.Name, id, err)
		}
	}
	return false, nil
}

// newObjectVersion returns a fresh SedoObjectVersion: a random GUID in the
// upper-case form ConfigMgr shows.
func newObjectVersion() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
