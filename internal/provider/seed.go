package provider

import (
	"context"
	"fmt"
	"sort"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// The built-in security scopes.
var builtInScopes = []struct{ id, name, description string }{
	{auth.DefaultScope, "Default", "Objects that no other scope was chosen for."},
	{auth.AllScopes, "All", "Every object of every scope (assigned to administrative users only)."},
}

// Object types of role-based administration itself (schema/security.mof).
const (
	typeAdmin = 6
	typeRole  = 7
	typeScope = 8
	typeAudit = 9
)

// Object types of deployments (schema/deployment.mof) and of task sequences.
const (
	typeCollection   = 1
	typeDeployment   = 3
	typeTaskSequence = 20
)

// osdTypes are the object types the Operating System Deployment Manager
// manages: task sequences, packages, driver packages, OS images, boot
// images, OS upgrade packages.
var osdTypes = []int64{20, 2, 23, 18, 19, 14}

// builtInRoles returns the built-in security roles with their operations
// over the object types the schema declares.
func (p *Provider) builtInRoles() []*cim.Instance {
	var all []int64
	for t := range p.typeIDs() {
		all = append(all, t)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	grant := func(types []int64, ops auth.Op) []any {
		out := []any{}
		for _, t := range types {
			o := cim.NewInstance(p.opClass)
			o.Set("ObjectTypeID", t)
			o.Set("GrantedOperations", int64(ops))
			out = append(out, o)
		}
		return out
	}
	osd := grant(osdTypes, auth.Read|auth.Modify|auth.Delete|auth.Create|auth.Distribute|auth.SetSecurityScope|auth.MoveObject|auth.ModifyFolder)
	osd = append(osd, grant([]int64{31, typeScope, typeCollection}, auth.Read)...)
	osd = append(osd, grant([]int64{typeDeployment}, auth.Read|auth.Modify|auth.Delete|auth.Create)...)
	for _, o := range osd {
		if op := o.(*cim.Instance); op.Int("ObjectTypeID") == typeTaskSequence {
			op.Set("GrantedOperations", op.Int("GrantedOperations")|int64(auth.CreateMedia|auth.CreateStandAloneMedia))
		}
	}
	roles := []struct {
		id, name, desc string
		ops            []any
	}{
		{auth.FullAdministrator, "Full Administrator", "Grants every permission on every object type.", grant(all, auth.AllOps)},
		{"SMS0006R", "Read-only Analyst", "Grants permission to view every object type, changing nothing.", grant(all, auth.Read)},
		{"SMS0007R", "Operating System Deployment Manager", "Grants permission to create, change, delete and distribute task sequences, operating system images, boot images, driver packages and packages, to set their security scopes, to deploy them to collections and to create task sequence media (stand-alone included).", osd},
	}
	var out []*cim.Instance
	for _, r := range roles {
		out = append(out, withValues(cim.NewInstance(p.sec.role), map[string]any{
			"RoleID": r.id, "RoleName": r.name, "RoleDescription": r.desc, "IsBuiltIn": true, "Operations": r.ops,
		}))
	}
	return out
}

// withValues sets the given values on in and returns it.
func withValues(in *cim.Instance, values map[string]any) *cim.Instance {
	for name, v := range values {
		in.Set(name, v)
	}
	return in
}

// typeIDs returns every ObjectTypeID the schema declares.
func (p *Provider) typeIDs() map[int64]bool {
	ids := map[int64]bool{}
	for _, c := range p.reg.Classes() {
		if t, ok := c.ObjectTypeID(); ok {
			ids[t] = true
		}
	}
	return ids
}

// Seed stores the built-in security roles and scopes when they are
// missing. It is safe to call on every start and from several servers.
func (p *Provider) Seed(ctx context.Context) error {
	ctx = auth.WithPrincipal(ctx, auth.System())
	// the common case, a store seeded before, needs only a read
	var missing bool
	err := p.st.Read(ctx, func(tx store.ReadTx) error {
		var err error
		missing, err = p.missingBuiltIns(ctx, tx)
		return err
	})
	if err != nil || !missing {
		return err
	}
	// servers starting together on one database may race to insert the
	// same rows: the loser's transaction fails, and its retry finds them
	for attempt := 0; attempt < 3; attempt++ {
		if err = p.seed(ctx); err == nil || !errs.Is(err, errs.Conflict) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("seed the built-in roles and scopes: %w", err)
	}
	return nil
}

func (p *Provider) seed(ctx context.Context) error {
	sys, err := caller(ctx)
	if err != nil {
		return err
	}
	return p.write(ctx, func(tx store.Tx) error { return p.seedTx(ctx, tx, sys) })
}

// seedTx stores, within tx, the built-in roles and scopes that are missing.
func (p *Provider) seedTx(ctx context.Context, tx store.Tx, sys *auth.Principal) error {
	now := cim.Now()
	for _, in := range p.builtIns() {
		_, err := tx.Get(ctx, in.Class, in.Key(), false)
		if err == nil {
			continue
		}
		if !errs.Is(err, errs.NotFound) {
			return err
		}
		p.stamp(in, "tsprov", now)
		if err := p.insertAudited(ctx, tx, sys, in); err != nil {
			return err
		}
	}
	return nil
}

// missingBuiltIns reports whether a built-in role or scope is not stored.
func (p *Provider) missingBuiltIns(ctx context.Context, tx store.ReadTx) (bool, error) {
	for _, in := range p.builtIns() {
		_, err := tx.Get(ctx, in.Class, in.Key(), false)
		if errs.Is(err, errs.NotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
	return false, nil
}

// insertAudited stores a new instance the server itself makes, with its
// record in the audit trail.
func (p *Provider) insertAudited(ctx context.Context, tx store.Tx, pr *auth.Principal, in *cim.Instance) error {
	if err := tx.Insert(ctx, &store.Record{Instance: in}); err != nil {
		return err
	}
	return p.audit(ctx, tx, auditEntry{pr: pr, action: "Create", class: in.Class.Name, key: in.Key(), properties: changedProperties(nil, in)})
}

// BootstrapResult says what Bootstrap did.
type BootstrapResult struct {
	Created bool   // the first administrative user was created
	Token   string // the generated token, to show once ("" when supplied or not created)
	Ignored bool   // a supplied token was ignored: the store already has users
}

// FirstAdminName is the LogonName of the administrative user created on
// first start.
const FirstAdminName = "admin"

// Bootstrap readies a store to serve, in one transaction: it stores the
// built-in roles and scopes that are missing and, when the store has no
// administrative user, creates the first Full Administrator (all scopes)
// with an API token: the supplied one (TSPROV_ADMIN_TOKEN) or a new
// random one that is returned to be shown once. Either way only its hash
// is stored. Nothing is kept when it fails, so a first start that fails
// has spent no token. It is safe to call on every start and from several
// servers at once.
func (p *Provider) Bootstrap(ctx context.Context, supplied string) (BootstrapResult, error) {
	var res BootstrapResult
	if supplied != "" && len(supplied) < auth.MinSuppliedToken {
		return res, errs.E(errs.Invalid, "TSPROV_ADMIN_TOKEN is %d characters; it must have at least %d (use 'openssl rand -hex 32')", len(supplied), auth.MinSuppliedToken)
	}
	ctx = auth.WithPrincipal(ctx, auth.System())
	// the common case, a store seeded before and with users, needs only a read
	ready := false
	err := p.st.Read(ctx, func(tx store.ReadTx) error {
		missing, err := p.missingBuiltIns(ctx, tx)
		if err != nil || missing {
			return err
		}
		n, err := tx.Count(ctx, p.sec.admin, nil)
		if err != nil || n == 0 {
			return err
		}
		ready = true
		res.Ignored, err = p.unknownToken(ctx, tx, supplied)
		return err
	})
	if err != nil || ready {
		return res, err
	}
	for attempt := 0; attempt < 3; attempt++ {
		// a server starting at the same time on the same database may
		// have stored the same rows: the retry sees them
		if res, err = p.bootstrap(ctx, supplied); err == nil || !errs.Is(err, errs.Conflict) {
			break
		}
	}
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("create the first administrator: %w", err)
	}
	return res, nil
}

// unknownToken reports whether supplied is set and names no stored token.
func (p *Provider) unknownToken(ctx context.Context, tx store.ReadTx, supplied string) (bool, error) {
	if supplied == "" {
		return false, nil
	}
	_, err := tx.Get(ctx, p.sec.token, auth.HashToken(supplied), false)
	if errs.Is(err, errs.NotFound) {
		return true, nil
	}
	return false, err
}

func (p *Provider) bootstrap(ctx context.Context, supplied string) (BootstrapResult, error) {
	var res BootstrapResult
	sys := auth.System()
	err := p.write(ctx, func(tx store.Tx) error {
		res = BootstrapResult{}
		if err := p.seedTx(ctx, tx, sys); err != nil {
			return err
		}
		n, err := tx.Count(ctx, p.sec.admin, nil)
		if err != nil {
			return err
		}
		if n > 0 {
			res.Ignored, err = p.unknownToken(ctx, tx, supplied)
			return err
		}
		// the first user has a fixed AdminID (later ones are drawn from
		// a counter above it), so that two servers racing to create it
		// conflict instead of making two
		inst := withValues(defaults(p.sec.admin), map[string]any{
			"AdminID": int64(firstAdminID + 1), "LogonName": FirstAdminName, "DisplayName": "First Full Administrator",
			"Roles": []any{auth.FullAdministrator}, "Categories": []any{auth.AllScopes},
			"RoleNames": []any{"Full Administrator"}, "CategoryNames": []any{"All"},
		})
		p.stamp(inst, sys.User, cim.Now())
		if err := p.insertAudited(ctx, tx, sys, inst); err != nil {
			return err
		}
		token, hash := supplied, ""
		if token == "" {
			if token, hash, err = auth.NewToken(); err != nil {
				return err
			}
			res.Token = token
		} else {
			hash = auth.HashToken(token)
		}
		res.Created = true
		return p.storeToken(ctx, tx, sys, "TokenCreated", hash, inst.Int("AdminID"), "created on first start", nil)
	})
	return res, err
}

// builtIns returns the built-in scopes and roles.
func (p *Provider) builtIns() []*cim.Instance {
	var insts []*cim.Instance
	for _, s := range builtInScopes {
		insts = append(insts, withValues(cim.NewInstance(p.sec.scope), map[string]any{
			"CategoryID": s.id, "CategoryName": s.name, "CategoryDescription": s.description, "IsBuiltIn": true,
			"NumberOfAdmins": int64(0), "NumberOfObjects": int64(0),
		}))
	}
	return append(insts, p.builtInRoles()...)
}
