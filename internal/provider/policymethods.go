package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/policy"
	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// The class of the site's client settings and of boot images (schema/policy.mof, schema/packages.mof).
const (
	clientSettingsClass = "TSP_ClientSettings"
	bootImageClass      = "SMS_BootImagePackage"
)

// argumentError is a method's refusal of one argument: a non-zero
// ReturnValue whose SMS_ExtendedStatus names the argument.
func argumentError(kind errs.Kind, arg, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &MethodError{Err: errs.Target(kind, arg, "%s", msg), Problems: []taskseq.Problem{{Property: arg, Message: msg}}}
}

// asArgument words err (a refusal that names a value) as a refusal of
// the method's argument arg.
func asArgument(arg string, err error) error {
	var me *MethodError
	if err == nil || errs.Is(err, errs.Internal) || errs.KindOf(err) == errs.Other || errors.As(err, &me) {
		return err
	}
	return &MethodError{Err: errs.Wrap(errs.KindOf(err), err, "%s", arg), Problems: []taskseq.Problem{{Property: arg, Message: errs.Message(err)}}}
}

// getTsPolicies: GetTsPolicies(AdvertisementID, PackageID, TaskSequence,
// AdvertisementName, AdvertisementComment, AdvertisementFlags,
// BootImageID, SourceSite) → PolicyXmls, PolicyAssignmentXmls.
func (p *Provider) getTsPolicies(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	return p.tsPolicies(ctx, in, auth.CreateMedia)
}

// getTsPoliciesSaMedia: GetTsPoliciesSaMedia, the same policies under the
// right to create stand-alone media.
func (p *Provider) getTsPoliciesSaMedia(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	return p.tsPolicies(ctx, in, auth.CreateStandAloneMedia)
}

// tsPolicies checks the arguments one by one, the caller's rights (read
// on the package, right on task sequences), then builds the policies.
func (p *Provider) tsPolicies(ctx context.Context, in map[string]any, right auth.Op) (map[string]any, int64, error) {
	str := func(name string) string { s, _ := in[name].(string); return s }
	advert, pkgID, boot, site := str("AdvertisementID"), str("PackageID"), str("BootImageID"), str("SourceSite")
	ts, hasTS := in["TaskSequence"].(*cim.Instance)
	adClass, ok := p.reg.Class(advertisementClass)
	if !ok {
		return nil, 0, errs.E(errs.Internal, "the schema lacks class %s", advertisementClass)
	}
	switch {
	case pkgID != "" && hasTS:
		return nil, 0, argumentError(errs.Invalid, "TaskSequence", "PackageID and TaskSequence are both set: give one of them (PackageID for a stored task sequence, TaskSequence for one in memory)")
	case pkgID == "" && !hasTS:
		return nil, 0, argumentError(errs.Invalid, "PackageID", "neither PackageID nor TaskSequence is set: give one of them")
	case hasTS && boot == "":
		return nil, 0, argumentError(errs.Invalid, "BootImageID", "BootImageID is required with TaskSequence")
	case !hasTS && boot != "":
		return nil, 0, argumentError(errs.Invalid, "BootImageID", "BootImageID must be null with PackageID (the package's own boot image is used)")
	case hasTS && !ts.Class.IsA(tsClass):
		return nil, 0, argumentError(errs.Invalid, "TaskSequence", "TaskSequence must be an %s, not %s", tsClass, ts.Class.Name)
	}
	// the deployment values, checked by the rules of SMS_Advertisement
	for arg, prop := range map[string]string{"AdvertisementName": "AdvertisementName", "AdvertisementComment": "Comment", "AdvertisementFlags": "AdvertFlags"} {
		if v, ok := in[arg]; ok && v != nil {
			pr, _ := adClass.Property(prop)
			if err := pr.Check(v); err != nil {
				return nil, 0, argumentError(errs.Invalid, arg, "%s", strings.Replace(errs.Message(err), "property "+prop, arg, 1))
			}
		}
	}
	if site == "" {
		site = p.site
	}
	d := policy.Deployment{AdvertisementID: advert, SourceSite: strings.ToUpper(site), Comment: str("AdvertisementComment")}
	if f, ok := in["AdvertisementFlags"].(int64); ok {
		d.AdvertFlags = uint32(f)
	}
	d.RemoteClientFlags = uint32(mustDefault(adClass, "RemoteClientFlags"))

	pr, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	var set policy.Set
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		stored, err := p.checkAdvertisementArgs(ctx, tx, advert, site, pkgID)
		if err != nil {
			return err
		}
		if stored != nil {
			fromDeployment(&d, stored, in)
		}
		tsPkg, _ := p.reg.Class(tsPackageClass)
		var root policy.TaskSequence
		if hasTS {
			ts = ts.Clone()
			fillDefaults(ts)
			if problems := taskseq.Errors(taskseq.Validate(ts)); len(problems) > 0 {
				return validationError(problems)
			}
			if _, err := p.authorizeMedia(ctx, pr, tsPkg, "", right); err != nil {
				return err
			}
			if err := p.checkBootImage(ctx, tx, boot); err != nil {
				return err
			}
			root, err = p.policyTaskSequence(nil, ts)
			if err != nil {
				return err
			}
			root.PackageID, root.Name, root.BootImageID = inMemoryPackageID(p.site), "Task sequence in memory", boot
		} else {
			rec, err := p.getVisible(ctx, tx, pr, tsPkg, pkgID, true)
			if err != nil {
				return asArgument("PackageID", err)
			}
			if _, err := p.authorize(ctx, tsPkg, pkgID, auth.Read); err != nil {
				return err
			}
			if _, err := p.authorizeMedia(ctx, pr, tsPkg, pkgID, right); err != nil {
				return err
			}
			seq, err := p.sequenceOf(rec.Instance)
			if err != nil {
				return err
			}
			if root, err = p.policyTaskSequence(rec.Instance, seq); err != nil {
				return err
			}
		}
		input, err := p.policyInput(ctx, tx, root, d)
		if err != nil {
			return err
		}
		set, err = policy.Build(input)
		arg := buildArgument(err)
		if hasTS && arg == "PackageID" {
			arg = "TaskSequence" // the sequence in memory, or a child it runs
		}
		return asArgument(arg, err)
	})
	if err != nil {
		return nil, 0, err
	}
	return policyOut(set), 0, nil
}

// buildArgument names the argument a policy.Build refusal is about.
func buildArgument(err error) string {
	switch t := errs.TargetOf(err); t {
	case "AdvertisementID", "SourceSite", "BootImageID", "AdvertisementComment":
		return t
	case "References":
		return "PackageID"
	}
	return "PackageID"
}

// inMemoryPackageID is the PackageID policies give a task sequence passed
// in memory, which has none: the site code and five zeros, an id no
// package of the site ever gets (the counters start at 1).
func inMemoryPackageID(site string) string { return site + "00000" }

// checkAdvertisementArgs checks AdvertisementID and SourceSite: an id of
// letters and digits that no deployment of another package holds, and a
// site that is registered.
func (p *Provider) checkAdvertisementArgs(ctx context.Context, tx store.ReadTx, advert, site, pkgID string) (*cim.Instance, error) {
	if advert == "" {
		return nil, argumentError(errs.Invalid, "AdvertisementID", "AdvertisementID is required: the id the policies carry")
	}
	var stored *cim.Instance
	if ad, ok := p.reg.Class(advertisementClass); ok {
		rec, err := tx.Get(ctx, ad, advert, true)
		switch {
		case err == nil && (pkgID == "" || !strings.EqualFold(rec.Instance.String("PackageID"), pkgID)):
			return nil, argumentError(errs.Conflict, "AdvertisementID", "AdvertisementID %s is the id of deployment %q of package %s: choose an id no other deployment of the site holds", advert, rec.Instance.String("AdvertisementName"), rec.Instance.String("PackageID"))
		case err == nil:
			stored = rec.Instance
		case !errs.Is(err, errs.NotFound):
			return nil, err
		}
	}
	known, err := p.knownSite(ctx, tx, site)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, argumentError(errs.Invalid, "SourceSite", "SourceSite %q is not a site of this hierarchy", site)
	}
	return stored, nil
}

// fromDeployment takes into d the settings of the stored deployment the
// AdvertisementID names (of the same package): its times, its
// RemoteClientFlags and countdown, and its AdvertFlags and Comment where
// the call gives none.
func fromDeployment(d *policy.Deployment, ad *cim.Instance, in map[string]any) {
	flag := func(name string) bool { v, _ := ad.Get(name); return v == true }
	timeOf := func(name string) time.Time {
		v, _ := ad.Get(name)
		dt, _ := v.(cim.DateTimeValue)
		return dt.Time
	}
	if flag("PresentTimeEnabled") {
		d.PresentTime, d.PresentTimeIsGMT = timeOf("PresentTime"), flag("PresentTimeIsGMT")
	}
	if flag("ExpirationTimeEnabled") {
		d.ExpirationTime, d.ExpirationTimeIsGMT = timeOf("ExpirationTime"), flag("ExpirationTimeIsGMT")
	}
	d.RemoteClientFlags = uint32(ad.Int("RemoteClientFlags"))
	d.MandatoryCountdown = uint32(ad.Int("MandatoryCountdown"))
	if in["AdvertisementFlags"] == nil {
		d.AdvertFlags = uint32(ad.Int("AdvertFlags"))
	}
	if in["AdvertisementComment"] == nil {
		d.Comment = ad.String("Comment")
	}
}

// knownSite reports whether code is this server's site or one registered
// in the hierarchy.
func (p *Provider) knownSite(ctx context.Context, tx store.ReadTx, code string) (bool, error) {
	if strings.EqualFold(code, p.site) {
		return true, nil
	}
	sc, ok := p.reg.Class(siteClass)
	if !ok {
		return false, nil
	}
	_, err := tx.Get(ctx, sc, strings.ToUpper(code), false)
	if errs.Is(err, errs.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// checkBootImage checks that id names a boot image package.
func (p *Provider) checkBootImage(ctx context.Context, tx store.ReadTx, id string) error {
	c, ok := p.reg.Class(bootImageClass)
	if !ok {
		return errs.E(errs.Internal, "the schema lacks class %s", bootImageClass)
	}
	if _, err := tx.Get(ctx, c, id, false); err != nil {
		if errs.Is(err, errs.NotFound) {
			return argumentError(errs.Invalid, "BootImageID", "BootImageID %q is not a boot image package", id)
		}
		return err
	}
	return nil
}

// authorizeMedia checks a media right on task sequences; a denial is
// audited as every denial is.
func (p *Provider) authorizeMedia(ctx context.Context, pr *auth.Principal, c *cim.Class, key string, right auth.Op) (*auth.Principal, error) {
	t, _ := c.ObjectTypeID()
	if pr.Can(t, right) {
		return pr, nil
	}
	return nil, &deniedError{
		err:   errs.E(errs.Forbidden, "%s may not %s: none of the security roles assigned grants %q on task sequences", pr.User, strings.ToLower(right.String()), right.String()),
		pr:    pr,
		class: c.Name,
		key:   key,
		op:    right,
	}
}

// mustDefault is the declared default of a numeric property.
func mustDefault(c *cim.Class, prop string) int64 {
	pr, ok := c.Property(prop)
	if !ok {
		return 0
	}
	v, _ := pr.Default.(int64)
	return v
}

// policyOut is the [out] parameters of a policy set.
func policyOut(set policy.Set) map[string]any {
	bodies, assignments := make([]any, len(set)), make([]any, len(set))
	for i, d := range set {
		bodies[i], assignments[i] = d.Body, d.Assignment
	}
	return map[string]any{"PolicyXmls": bodies, "PolicyAssignmentXmls": assignments}
}

// getClientConfigPolicies: GetClientConfigPolicies() → PolicyXmls,
// PolicyAssignmentXmls: the site-wide client configuration policies from
// the site's TSP_ClientSettings (its defaults when there is none). The
// caller needs a right to create media, as the media wizards that call it.
func (p *Provider) getClientConfigPolicies(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	pr, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	tsPkg, _ := p.reg.Class(tsPackageClass)
	if _, err := p.authorizeMedia(ctx, pr, tsPkg, "", auth.CreateMedia); err != nil {
		if _, err2 := p.authorizeMedia(ctx, pr, tsPkg, "", auth.CreateStandAloneMedia); err2 != nil {
			return nil, 0, err
		}
	}
	c, ok := p.reg.Class(clientSettingsClass)
	if !ok {
		return nil, 0, errs.E(errs.Internal, "the schema lacks class %s", clientSettingsClass)
	}
	settings := defaults(c)
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		rec, err := tx.Get(ctx, c, p.site, false)
		switch {
		case err == nil:
			settings = rec.Instance
		case !errs.Is(err, errs.NotFound):
			return err
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	password := settings.String("NetworkAccessPassword")
	if secrets.IsSealed(password) {
		if password, err = p.box.Open(password); err != nil {
			return nil, 0, errs.E(errs.Internal, "open the stored network access password: %w", err)
		}
	}
	enabled, _ := settings.Get("SoftwareDistributionEnabled")
	set, err := policy.ClientConfig(policy.ClientSettings{
		Site:                           p.site,
		Version:                        int(settings.Int("PolicyVersion")),
		SoftwareDistributionEnabled:    enabled == true,
		DefaultMaxDuration:             uint32(settings.Int("DefaultMaxDuration")),
		ContentLocationTimeoutInterval: uint32(settings.Int("ContentLocationTimeoutInterval")),
		BrandingTitle:                  settings.String("BrandingTitle"),
		NetworkAccessUsername:          settings.String("NetworkAccessUsername"),
		NetworkAccessPassword:          password,
	})
	if err != nil {
		return nil, 0, err
	}
	return policyOut(set), 0, nil
}

// clientSettingsRules are the rules of TSP_ClientSettings: one per
// registered site; the password is sealed when stored, and writing it
// empty keeps the stored one; a network access account needs both a user
// name and a password; PolicyVersion goes up by one on every change.
type clientSettingsRules struct{ p *Provider }

func (clientSettingsRules) appliesTo(c *cim.Class) bool { return c.Name == clientSettingsClass }

func (r clientSettingsRules) beforeCreate(ctx context.Context, tx store.Tx, inst *cim.Instance) error {
	inst.Set("PolicyVersion", int64(1))
	return nil
}

func (r clientSettingsRules) beforeUpdate(ctx context.Context, tx store.Tx, cur, next, sent *cim.Instance) error {
	next.Set("PolicyVersion", cur.Int("PolicyVersion")+1)
	return nil
}

func (r clientSettingsRules) settle(ctx context.Context, tx store.Tx, cur, next *cim.Instance) error {
	site := next.String("SiteCode")
	if cur == nil {
		known, err := r.p.knownSite(ctx, tx, site)
		if err != nil {
			return err
		}
		if !known || site != strings.ToUpper(site) {
			return errs.Target(errs.Invalid, "SiteCode", "SiteCode %q is not a site of this hierarchy (site codes are upper case)", site)
		}
	}
	user, password := next.String("NetworkAccessUsername"), next.String("NetworkAccessPassword")
	switch {
	case user == "":
		next.Set("NetworkAccessPassword", "")
	case password == "" && cur != nil && cur.String("NetworkAccessUsername") != "":
		next.Set("NetworkAccessPassword", cur.String("NetworkAccessPassword"))
	case password == "":
		return errs.Target(errs.Invalid, "NetworkAccessPassword", "NetworkAccessPassword is required with NetworkAccessUsername")
	case !secrets.IsSealed(password):
		next.Set("NetworkAccessPassword", r.p.box.Seal(password))
	}
	return nil
}

func (clientSettingsRules) afterWrite(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
	return nil
}
