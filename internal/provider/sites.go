package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// The site class (schema/site.mof) and its Type values.
const (
	siteClass     = "SMS_Site"
	sitePrimary   = 2
	siteCentral   = 4
	sourceSiteArg = "SourceSite"
)

// RegisterSite records this server's site in the store (SMS_Site): its
// server, its parent and when it started. A parent site must have been
// registered before (its server started once on the same database); it
// becomes a central administration site. It is safe to call on every
// start and from several servers at once. Outcomes: nil; errs.Invalid
// when the parent site is unknown or would make a cycle.
func (p *Provider) RegisterSite(ctx context.Context) error {
	c, err := p.Class(siteClass)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err = p.write(ctx, func(tx store.Tx) error { return p.registerSiteTx(ctx, tx, c) })
		// servers of one site starting together race to insert the row
		if err == nil || !errs.Is(err, errs.Conflict) || attempt == 2 {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("register site %s: %w", p.site, err)
	}
	return nil
}

func (p *Provider) registerSiteTx(ctx context.Context, tx store.Tx, c *cim.Class) error {
	if p.parent != "" {
		parent, err := tx.Get(ctx, c, p.parent, false)
		if errs.Is(err, errs.NotFound) {
			return errs.E(errs.Invalid, "parent site %s is not registered: start a server of site %s on this database first", p.parent, p.parent)
		}
		if err != nil {
			return err
		}
		for up, seen := parent.Instance, 0; up != nil && seen < 64; seen++ {
			if strings.EqualFold(up.String("ReportingSiteCode"), p.site) {
				return errs.E(errs.Invalid, "site %s cannot report to %s: %s already reports to %s", p.site, p.parent, p.parent, p.site)
			}
			next := up.String("ReportingSiteCode")
			if next == "" {
				break
			}
			rec, err := tx.Get(ctx, c, next, false)
			if err != nil {
				break
			}
			up = rec.Instance
		}
		if parent.Instance.Int("Type") != siteCentral {
			parent.Instance.Set("Type", int64(siteCentral))
			if err := tx.Update(ctx, parent); err != nil {
				return err
			}
		}
	}
	cur, err := tx.Get(ctx, c, p.site, false)
	switch {
	case errs.Is(err, errs.NotFound):
		inst := defaults(c)
		inst.Set("SiteCode", p.site)
		inst.Set("SiteName", p.site)
		p.describeSite(inst)
		return tx.Insert(ctx, &store.Record{Instance: inst})
	case err != nil:
		return err
	}
	p.describeSite(cur.Instance)
	return tx.Update(ctx, cur)
}

// describeSite sets what this server knows of its own site.
func (p *Provider) describeSite(inst *cim.Instance) {
	inst.Set("ReportingSiteCode", p.parent)
	inst.Set("ServerName", p.server)
	inst.Set("LastStartTime", cim.Now())
	if inst.Values["Type"] == nil {
		inst.Set("Type", int64(sitePrimary))
	}
}

// ownedHere refuses a change to a package at any site but its source site:
// a package belongs to the site that created it (SourceSite) until
// SetSourceSite or Unlock moves it (errs.Conflict naming the owner).
func (p *Provider) ownedHere(pkg *cim.Instance) error {
	src := pkg.String(sourceSiteProperty)
	if src == "" || strings.EqualFold(src, p.site) {
		return nil
	}
	return errs.E(errs.Conflict, "%s %s belongs to site %s (its SourceSite), not to this site %s: change it through a server of site %s, or take it over here with its Unlock method",
		pkg.Class.Name, pkg.Key(), src, p.site, src)
}

// setSourceSite: SetSourceSite(SourceSite) hands the package to another
// registered site. Only the source site may hand it over.
func (p *Provider) setSourceSite(ctx context.Context, m *cim.Method, target *Object, in map[string]any) (map[string]any, int64, error) {
	site, _ := in[sourceSiteArg].(string)
	site = strings.ToUpper(strings.TrimSpace(site))
	if !siteCodePattern.MatchString(site) {
		return nil, 0, errs.Target(errs.Invalid, sourceSiteArg, "SourceSite %q must be a site code of three letters or digits", site)
	}
	return nil, 0, p.moveSource(ctx, target, site, false)
}

// unlock: Unlock() makes this server's site the package's source site,
// whichever site owned it: the way to recover a package whose site is
// gone. It needs Modify on the package and is audited.
func (p *Provider) unlock(ctx context.Context, m *cim.Method, target *Object, in map[string]any) (map[string]any, int64, error) {
	return nil, 0, p.moveSource(ctx, target, p.site, true)
}

// moveSource sets the SourceSite of the target package to site, which must
// be registered. Without takeOver only the current source site may.
func (p *Provider) moveSource(ctx context.Context, target *Object, site string, takeOver bool) error {
	c, key := target.Instance.Class, target.Instance.Key()
	sites, err := p.Class(siteClass)
	if err != nil {
		return err
	}
	return p.write(ctx, func(tx store.Tx) error {
		pr, err := caller(ctx)
		if err != nil {
			return err
		}
		cur, err := p.getVisible(ctx, tx, pr, c, key, false)
		if err != nil {
			return err
		}
		if _, err := p.authorize(ctx, c, key, auth.Modify); err != nil {
			return err
		}
		if !takeOver {
			if err := p.ownedHere(cur.Instance); err != nil {
				return err
			}
		}
		if err := p.writeUnderLock(ctx, tx, cur.Instance, false); err != nil {
			return err
		}
		if site != p.site { // this server's own site is always known
			if _, err := tx.Get(ctx, sites, site, false); errs.Is(err, errs.NotFound) {
				return errs.Target(errs.Invalid, sourceSiteArg, "site %s is not registered in this hierarchy (see SMS_Site)", site)
			} else if err != nil {
				return err
			}
		}
		from := cur.Instance.String(sourceSiteProperty)
		next := cur.Instance.Clone()
		next.Set(sourceSiteProperty, site)
		next.Set(sedoProperty, newObjectVersion())
		if err := tx.Update(ctx, &store.Record{Instance: next}); err != nil {
			return err
		}
		if store.HasHistory(c) {
			full, err := tx.Get(ctx, c, key, true)
			if err != nil {
				return err
			}
			if err := p.addRevision(ctx, tx, cur.Instance, full.Instance); err != nil {
				return err
			}
		}
		if err := p.recordMethod(ctx, tx, next); err != nil {
			return err
		}
		return p.audit(ctx, tx, auditEntry{pr: pr, action: "Update", class: c.Name, key: key,
			properties: changedProperties(cur.Instance, next), detail: fmt.Sprintf("SourceSite %s -> %s", from, site)})
	})
}
