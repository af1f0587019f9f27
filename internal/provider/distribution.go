package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/distribution"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// packageObjectType is the secured object type of SMS_Package, whose
// Distribute permission lets a DP agent register and report.
const packageObjectType = 2

// Distribution returns the distribution service (DP registry, jobs).
func (p *Provider) Distribution() *distribution.Service { return p.dist }

// addDistributionPoints: AddDistributionPoints(SiteCode[], NALPath[]) on
// any package assigns it to those DPs (distribution.AddDistributionPoints:
// a DP that holds it already is left as it is; one bad pair refuses the
// call with nothing written). It needs Distribute on the package, is
// audited and recorded in the change feed.
func (p *Provider) addDistributionPoints(ctx context.Context, m *cim.Method, target *Object, in map[string]any) (map[string]any, int64, error) {
	sites, err := stringArray(in, "SiteCode")
	if err != nil {
		return nil, 0, err
	}
	paths, err := stringArray(in, "NALPath")
	if err != nil {
		return nil, 0, err
	}
	c, key := target.Instance.Class, target.Instance.Key()
	var added int
	err = p.write(ctx, func(tx store.Tx) error {
		pr, err := caller(ctx)
		if err != nil {
			return err
		}
		cur, err := p.getVisible(ctx, tx, pr, c, key, false)
		if err != nil {
			return err
		}
		if _, err := p.authorize(ctx, c, key, auth.Distribute); err != nil {
			return err
		}
		if added, err = p.dist.AddDistributionPoints(ctx, tx, cur.Instance, sites, paths); err != nil {
			return methodProblems(err)
		}
		if err := p.recordMethod(ctx, tx, cur.Instance); err != nil {
			return err
		}
		return p.audit(ctx, tx, auditEntry{pr: pr, action: "AddDistributionPoints", class: c.Name, key: key,
			detail: fmt.Sprintf("%d distribution point(s) added of %d given", added, len(paths))})
	})
	if err != nil {
		return nil, 0, err
	}
	if added > 0 && p.distWake != nil {
		p.distWake()
	}
	return nil, 0, nil
}

// methodProblems turns a refusal of the distribution service into a
// MethodError: one SMS_ExtendedStatus detail per bad pair.
func methodProblems(err error) error {
	var pe *distribution.ProblemsError
	if !errors.As(err, &pe) {
		return err
	}
	me := &MethodError{Err: pe.Err}
	for _, pr := range pe.Problems {
		step := ""
		if pr.Index >= 0 {
			step = fmt.Sprintf("%s[%d]", pr.Property, pr.Index)
		}
		me.Problems = append(me.Problems, taskseq.Problem{Step: step, Property: pr.Property, Message: pr.Message})
	}
	return me
}

// stringArray reads an [in] string array parameter (absent: none).
func stringArray(in map[string]any, name string) ([]string, error) {
	v, ok := in[name]
	if !ok || v == nil {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, errs.Target(errs.Invalid, name, "%s must be an array of strings", name)
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, errs.Target(errs.Invalid, name, "%s[%d] must be a string", name, i)
		}
		out[i] = s
	}
	return out, nil
}

// distributionRules tie SMS_DistributionPoint rows to the distribution
// service, and packages to their DPs:
//   - a created row must name a package and a registered DP of the site
//     its NAL path names; the package is queued for that DP;
//   - RefreshNow = true sends the content to that DP again (it reads false
//     again);
//   - a deleted row (or a deleted package) removes the content from the
//     DP.
type distributionRules struct{ p *Provider }

func (distributionRules) appliesTo(c *cim.Class) bool {
	return strings.EqualFold(c.Name, distribution.AssignmentClass) || c.IsA(packageBase)
}

func (distributionRules) beforeCreate(ctx context.Context, tx store.Tx, inst *cim.Instance) error {
	return nil
}

func (distributionRules) beforeUpdate(ctx context.Context, tx store.Tx, cur, next, sent *cim.Instance) error {
	return nil
}

func (r distributionRules) settle(ctx context.Context, tx store.Tx, cur, next *cim.Instance) error {
	if next.Class.IsA(packageBase) {
		return nil
	}
	if cur != nil {
		if next.Values["RefreshNow"] != true {
			return nil
		}
		next.Set("RefreshNow", false)
		next.Set("LastRefreshTime", dateTime(r.p.now()))
		pkg, err := r.p.packageByID(ctx, tx, next.String("PackageID"))
		if err != nil {
			return err
		}
		return r.p.dist.Refresh(ctx, tx, pkg.String("PackageID"), pkg.Class.Name, next.String("ServerNALPath"))
	}
	pkg, err := r.p.packageByID(ctx, tx, next.String("PackageID"))
	if err != nil {
		return err
	}
	dp, err := r.p.dist.Lookup(ctx, tx, next.String("ServerNALPath"))
	if errs.Is(err, errs.NotFound) {
		return errs.Target(errs.Invalid, "ServerNALPath", "%s", errs.Message(err))
	}
	if err != nil {
		return err
	}
	if !strings.EqualFold(dp.Site, next.String("SiteCode")) {
		return errs.Target(errs.Invalid, "SiteCode", "SiteCode %q does not match the site %s of ServerNALPath", next.String("SiteCode"), dp.Site)
	}
	typeID, _ := pkg.Class.ObjectTypeID()
	next.Set("ServerNALPath", dp.NALPath)
	next.Set("SiteCode", dp.Site)
	next.Set("ObjectTypeID", typeID)
	next.Set("PackageType", pkg.Int("PackageType"))
	next.Set("SecureObjectID", pkg.String("PackageID"))
	next.Set("Status", int64(2))
	return nil
}

func (r distributionRules) afterWrite(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
	cur := next
	if cur == nil {
		cur = old
	}
	if cur.Class.IsA(packageBase) {
		if next == nil {
			return r.p.undistribute(ctx, tx, old.String("PackageID"))
		}
		return nil
	}
	switch {
	case old == nil:
		pkg, err := r.p.packageByID(ctx, tx, next.String("PackageID"))
		if err != nil {
			return err
		}
		return r.p.dist.Assigned(ctx, tx, next, pkg.Class.Name)
	case next == nil:
		return r.p.dist.Detached(ctx, tx, old)
	}
	return nil
}

// undistribute removes a deleted package from every DP that held it.
func (p *Provider) undistribute(ctx context.Context, tx store.Tx, packageID string) error {
	c, _ := p.reg.Class(distribution.AssignmentClass)
	rows, err := p.listWhere(ctx, tx, c, "PackageID eq "+odataString(packageID))
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := tx.Delete(ctx, c, r.Instance.Key()); err != nil {
			return err
		}
		if err := p.dist.Detached(ctx, tx, r.Instance); err != nil {
			return err
		}
	}
	return nil
}

// packageByID returns the package with the given id, of whichever package
// class. Outcomes: the instance; errs.Invalid naming PackageID when none
// has it.
func (p *Provider) packageByID(ctx context.Context, tx store.ReadTx, id string) (*cim.Instance, error) {
	if keepable(id) && id != "" {
		for _, c := range p.reg.Classes() {
			if !c.IsA(packageBase) || storable(c) != nil {
				continue
			}
			rec, err := tx.Get(ctx, c, id, false)
			if err == nil {
				return rec.Instance, nil
			}
			if !errs.Is(err, errs.NotFound) {
				return nil, err
			}
		}
	}
	return nil, errs.Target(errs.Invalid, "PackageID", "no package has PackageID %q", id)
}

// mayDistribute checks that the caller may act for a DP agent: Distribute
// on packages.
func (p *Provider) mayDistribute(ctx context.Context) (*auth.Principal, error) {
	pr, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !pr.Can(packageObjectType, auth.Distribute) {
		return nil, p.audited(ctx, &deniedError{
			err: errs.E(errs.Forbidden, "%s may not act for a distribution point: none of the security roles assigned grants Distribute on packages", pr.User),
			pr:  pr, class: distribution.InfoClass, op: auth.Distribute,
		})
	}
	return pr, nil
}

// RegisterDP records a DP agent (tsprov dp serve) as a distribution point
// of its site. Outcomes: the DP with its NAL path; errs.Invalid for a host,
// site or URL a DP cannot have (a site other than this server's too);
// errs.Forbidden without Distribute on packages.
func (p *Provider) RegisterDP(ctx context.Context, a distribution.Agent) (distribution.DP, error) {
	if _, err := p.mayDistribute(ctx); err != nil {
		return distribution.DP{}, err
	}
	if a.Site == "" {
		a.Site = p.site
	}
	if !strings.EqualFold(a.Site, p.site) {
		return distribution.DP{}, errs.Target(errs.Invalid, "site", "site %s is not this server's site %s", a.Site, p.site)
	}
	var dp distribution.DP
	err := p.write(ctx, func(tx store.Tx) error {
		var err error
		dp, err = p.dist.Register(ctx, tx, a)
		return err
	})
	if err == nil && p.distWake != nil {
		p.distWake()
	}
	return dp, err
}

// DPAssignments lists what the DP at nalPath must hold
// (distribution.Assignments).
func (p *Provider) DPAssignments(ctx context.Context, nalPath string) ([]distribution.Assignment, error) {
	if _, err := p.mayDistribute(ctx); err != nil {
		return nil, err
	}
	var out []distribution.Assignment
	err := p.st.Read(ctx, func(tx store.ReadTx) error {
		var err error
		out, err = p.dist.Assignments(ctx, tx, nalPath)
		return err
	})
	return out, err
}

// DPReport records a DP agent's news about a package
// (distribution.Report).
func (p *Provider) DPReport(ctx context.Context, r distribution.Report) error {
	if _, err := p.mayDistribute(ctx); err != nil {
		return err
	}
	err := p.write(ctx, func(tx store.Tx) error { return p.dist.Report(ctx, tx, r) })
	if err == nil && r.Kind != distribution.ReportProgress && p.distWake != nil {
		p.distWake()
	}
	return err
}

// SetDistributionWake sets what wakes this server's distribution manager
// when work arrives (AddDistributionPoints, a registration, a report).
func (p *Provider) SetDistributionWake(wake func()) { p.distWake = wake }

// CurrentContentID is the content DPs must hold of a package
// (distribution.Contents): the id <PackageID>.<ContentVersion> of its
// newest published content. Outcomes: the id; errs.NotFound when the
// package has none (no source, or never snapshotted).
func (p *Provider) CurrentContentID(ctx context.Context, tx store.ReadTx, packageClass, packageID string) (string, error) {
	cs, err := p.contentsOf(ctx, tx, packageID)
	if err != nil {
		return "", err
	}
	if len(cs) == 0 {
		return "", errs.Target(errs.NotFound, packageID, "package %s has no content: it has no source, or its source was never snapshotted", packageID)
	}
	return cs[len(cs)-1].String("ContentUniqueID"), nil
}
