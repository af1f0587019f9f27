package provider

import (
	"context"
	"crypto/rand"
	"fmt"

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
	maxPackageIDSequence = 0xFFFFF // five hex digits
)

// packageRules are the rules of SMS_PackageBaseclass and every class that
// derives from it:
//   - PackageID is <SiteCode><5 hex digits>, drawn from a per-site counter
//     in the store, so an id is never handed out twice, even across
//     restarts or after a delete; all package classes share the space;
//   - SourceSite is this server's site code;
//   - SourceVersion starts at 1 and goes up by one on every update;
//   - SedoObjectVersion is new after every write (it is also the ETag);
//   - SourceDate and LastRefreshTime are the creation time, and SourceDate
//     moves when the source is refreshed;
//   - RefreshPkgSourceFlag always reads false; writing true refreshes the
//     source (SourceDate moves) as RefreshPkgSource would.
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
	next.Set(sourceVerProperty, cur.Int(sourceVerProperty)+1)
	next.Set(sedoProperty, newObjectVersion())
	if v, _ := next.Get(refreshFlagProperty); v == true {
		next.Set(sourceDateProperty, cim.Now())
		next.Set(refreshFlagProperty, false)
	}
	return nil
}

func (r packageRules) afterWrite(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
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
