package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// The classes of deployments (schema/policy.mof).
const (
	advertisementClass = "SMS_Advertisement"
	collectionClass    = "SMS_Collection"
)

// deploymentRules are the rules of SMS_Advertisement and SMS_Collection:
//   - AdvertisementID and CollectionID are <SiteCode><5 hex digits> from
//     the site's counters (as PackageID), SourceSite is this site;
//   - a deployment names a package that exists (PackageID in upper case,
//     as the page requires) and one of its programs: "*" for a task
//     sequence package, a stored SMS_Program otherwise; and a collection
//     that exists;
//   - AdvertisementName, CollectionID, PackageID and ProgramName cannot
//     change once created (the page: delete and create anew);
//   - the policy of a deployed task sequence fits the client's budget;
//   - the packages a deployed task sequence refers to (its children's
//     included) have their content on a distribution point, unless the
//     body says "@tsprov.force": true;
//   - TimeFlags follows the *Enabled and *IsGMT properties;
//   - a deployment names only a package and a collection its author may
//     see (security scopes): others are refused as missing; its author
//     needs Read on the package (the SDK's "How to create a deployment");
//   - a collection that deployments target cannot be deleted, nor a
//     package they name (deployedPackageRules).
type deploymentRules struct{ p *Provider }

func (deploymentRules) appliesTo(c *cim.Class) bool {
	return c.Name == advertisementClass || c.Name == collectionClass
}

func (r deploymentRules) beforeCreate(ctx context.Context, tx store.Tx, inst *cim.Instance) error {
	key := "AdvertisementID"
	if inst.Class.Name == collectionClass {
		key = "CollectionID"
		inst.Set("LastChangeTime", cim.Now())
	}
	id, err := r.freeID(ctx, tx, inst.Class, key)
	if err != nil {
		return err
	}
	inst.Set(key, id)
	inst.Set(sourceSiteProperty, r.p.site)
	return nil
}

// freeID draws the next id of the site's counter for key that no instance
// of c holds (one restored from another store may hold the next).
func (r deploymentRules) freeID(ctx context.Context, tx store.Tx, c *cim.Class, key string) (string, error) {
	for {
		id, err := r.p.siteID(ctx, tx, key)
		if err != nil {
			return "", fmt.Errorf("allocate %s: %w", key, err)
		}
		if len(id) > 8 {
			return "", errs.E(errs.Conflict, "site %s has used all %d ids of %s", r.p.site, maxPackageIDSequence, key)
		}
		_, err = tx.Get(ctx, c, id, false)
		switch {
		case errs.Is(err, errs.NotFound):
			return id, nil
		case err != nil:
			return "", err
		}
	}
}

// fixedOnceCreated are the deployment properties the page says cannot be
// updated.
var fixedOnceCreated = []string{"AdvertisementName", "CollectionID", "PackageID", "ProgramName"}

func (r deploymentRules) beforeUpdate(ctx context.Context, tx store.Tx, cur, next, sent *cim.Instance) error {
	if next.Class.Name == collectionClass {
		next.Set("LastChangeTime", cim.Now())
		return nil
	}
	for _, name := range fixedOnceCreated {
		if v, ok := sent.Values[name]; ok && v != nil && !cim.Equal(v, cur.Values[name]) {
			return errs.Target(errs.Invalid, name, "%s cannot change once a deployment is created (stored %q): delete deployment %s and create it anew", name, cur.String(name), cur.Key())
		}
	}
	return nil
}

func (r deploymentRules) settle(ctx context.Context, tx store.Tx, cur, next *cim.Instance) error {
	if next.Class.Name == collectionClass {
		if strings.TrimSpace(next.String("Name")) == "" {
			return errs.Target(errs.Invalid, "Name", "Name is required")
		}
		limit := next.String("LimitToCollectionID")
		if limit != "" && !strings.EqualFold(limit, next.String("CollectionID")) {
			if _, err := r.collection(ctx, tx, "LimitToCollectionID", limit); err != nil {
				return err
			}
		}
		return nil
	}
	if strings.TrimSpace(next.String("AdvertisementName")) == "" {
		return errs.Target(errs.Invalid, "AdvertisementName", "AdvertisementName is required")
	}
	if cur == nil {
		if err := r.checkTargets(ctx, tx, next); err != nil {
			return err
		}
	}
	next.Set("TimeFlags", timeFlags(next))
	return nil
}

// checkTargets checks what a new deployment names: its package and
// program, its collection, and for a task sequence the policy budget.
func (r deploymentRules) checkTargets(ctx context.Context, tx store.Tx, ad *cim.Instance) error {
	id := ad.String("PackageID")
	if id != strings.ToUpper(id) {
		return errs.Target(errs.Invalid, "PackageID", "PackageID %q must be in upper case: %q", id, strings.ToUpper(id))
	}
	pkg, err := r.p.storedPackage(ctx, tx, id)
	if err == nil {
		if err = r.visible(ctx, tx, pkg); errs.Is(err, errs.NotFound) {
			err = missingPackage(id) // as if it did not exist
		}
	}
	if err != nil {
		return errs.Target(errs.Invalid, "PackageID", "cannot deploy package %s: %w", id, err)
	}
	// the SDK's "How to create a deployment": Read permission for the package
	if _, err := r.p.authorize(ctx, pkg.Class, id, auth.Read); err != nil {
		return err
	}
	program := ad.String("ProgramName")
	isTS := pkg.Class.IsA(tsPackageClass)
	if isTS && program != taskseq.AnyProgram {
		return errs.Target(errs.Invalid, "ProgramName", "a task sequence deployment runs the program \"*\", not %q", program)
	}
	if !isTS {
		prg, ok := r.p.reg.Class(programClass)
		if !ok {
			return errs.E(errs.Internal, "the schema lacks class %s", programClass)
		}
		if _, err := tx.Get(ctx, prg, cim.JoinKey([]string{id, program}), false); err != nil {
			if errs.Is(err, errs.NotFound) {
				return errs.Target(errs.Invalid, "ProgramName", "package %s has no program %q", id, program)
			}
			return err
		}
	}
	if _, err := r.collection(ctx, tx, "CollectionID", ad.String("CollectionID")); err != nil {
		return err
	}
	if !isTS {
		return nil
	}
	if err := r.p.checkPolicyBudget(ctx, tx, pkg); err != nil {
		return err
	}
	return r.p.checkContent(ctx, tx, pkg, ad)
}

// collection returns the collection id names; a missing one is a bad
// value of property prop.
func (r deploymentRules) collection(ctx context.Context, tx store.ReadTx, prop, id string) (*cim.Instance, error) {
	c, ok := r.p.reg.Class(collectionClass)
	if !ok {
		return nil, errs.E(errs.Internal, "the schema lacks class %s", collectionClass)
	}
	rec, err := tx.Get(ctx, c, id, false)
	if err == nil {
		err = r.visible(ctx, tx, rec.Instance)
	}
	if errs.Is(err, errs.NotFound) {
		return nil, errs.Target(errs.Invalid, prop, "collection %q does not exist", id)
	}
	if err != nil {
		return nil, err
	}
	return rec.Instance, nil
}

// visible refuses, as absent, a package or collection outside the
// caller's security scopes: a deployment names only what its author may
// see.
func (r deploymentRules) visible(ctx context.Context, tx store.ReadTx, inst *cim.Instance) error {
	pr, err := caller(ctx)
	if err != nil {
		return err
	}
	return r.p.visible(ctx, tx, pr, inst, inst.Key())
}

// timeFlags is TimeFlags as the page describes it: the *Enabled and
// *IsGMT properties, bit by bit.
func timeFlags(ad *cim.Instance) int64 {
	var f int64
	set := func(prop string, bit int64) {
		if v, _ := ad.Get(prop); v == true {
			f |= bit
		}
	}
	set("PresentTimeEnabled", 1<<0)
	set("ExpirationTimeEnabled", 1<<1)
	set("AssignedScheduleEnabled", 1<<4)
	set("PresentTimeIsGMT", 1<<5)
	set("ExpirationTimeIsGMT", 1<<6)
	set("AssignedScheduleIsGMT", 1<<9)
	return f
}

func (r deploymentRules) afterWrite(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
	if next != nil || old.Class.Name != collectionClass {
		return nil
	}
	ads, err := r.p.deploymentsOf(ctx, tx, "CollectionID", old.Key())
	if err != nil {
		return err
	}
	if len(ads) > 0 {
		return errs.E(errs.Conflict, "collection %s is the target of %d deployment(s) (%s): delete them first", old.Key(), len(ads), strings.Join(ads, ", "))
	}
	return nil
}

// deploymentsOf lists the ids of the deployments whose prop is value.
func (p *Provider) deploymentsOf(ctx context.Context, tx store.ReadTx, prop, value string) ([]string, error) {
	c, ok := p.reg.Class(advertisementClass)
	if !ok {
		return nil, errs.E(errs.Internal, "the schema lacks class %s", advertisementClass)
	}
	f := &query.Compare{Op: query.Eq, Left: &query.Prop{Name: prop}, Right: &query.Literal{Value: value}}
	if err := query.Check(f, c, store.Searchable); err != nil {
		return nil, err
	}
	recs, err := tx.List(ctx, c, store.ListOptions{Filter: f})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(recs))
	for i, rec := range recs {
		ids[i] = rec.Instance.Key()
	}
	return ids, nil
}

// storedPackage returns the package of any package class that holds id
// (errs.NotFound when none does).
func (p *Provider) storedPackage(ctx context.Context, tx store.ReadTx, id string) (*cim.Instance, error) {
	for _, c := range p.reg.Classes() {
		if !c.IsA(packageBase) || storable(c) != nil {
			continue
		}
		rec, err := tx.Get(ctx, c, id, true)
		switch {
		case err == nil:
			return rec.Instance, nil
		case !errs.Is(err, errs.NotFound):
			return nil, fmt.Errorf("look up %s(%q): %w", c.Name, id, err)
		}
	}
	return nil, missingPackage(id)
}

// missingPackage is the error for a package id that no package holds.
func missingPackage(id string) error {
	return errs.Target(errs.NotFound, "PackageID", "package %s does not exist", id)
}

// deployedPackageRules keep deployments whole: a package that deployments
// name cannot be deleted (409 naming them), as a collection they target
// cannot.
type deployedPackageRules struct{ p *Provider }

func (deployedPackageRules) appliesTo(c *cim.Class) bool { return c.IsA(packageBase) }

func (deployedPackageRules) beforeCreate(context.Context, store.Tx, *cim.Instance) error { return nil }

func (deployedPackageRules) beforeUpdate(context.Context, store.Tx, *cim.Instance, *cim.Instance, *cim.Instance) error {
	return nil
}

func (deployedPackageRules) settle(context.Context, store.Tx, *cim.Instance, *cim.Instance) error {
	return nil
}

func (r deployedPackageRules) afterWrite(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
	if next != nil || old == nil {
		return nil
	}
	ads, err := r.p.deploymentsOf(ctx, tx, "PackageID", old.String(packageIDProperty))
	if err != nil {
		return err
	}
	if len(ads) > 0 {
		return errs.E(errs.Conflict, "package %s is deployed by %d deployment(s) (%s): delete them first", old.String(packageIDProperty), len(ads), strings.Join(ads, ", "))
	}
	return nil
}
