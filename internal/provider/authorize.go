package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
)

// The classes of role-based administration (schema/security.mof).
const (
	adminClass         = "SMS_Admin"
	roleClass          = "SMS_Role"
	scopeClass         = "SMS_SecuredCategory"
	membershipClass    = "SMS_SecuredCategoryMembership"
	auditClass         = "TSP_AuditRecord"
	tokenClass         = "TSP_ApiToken"
	passwordClass      = "TSP_AdminPassword"
	scopeNamesProperty = "SecuredScopeNames"
)

// securityClasses are the classes of role-based administration, looked up
// once.
type securityClasses struct {
	admin, role, scope, membership, audit, token, password *cim.Class
}

func lookupSecurityClasses(reg *cim.Registry) (securityClasses, error) {
	var s securityClasses
	for _, x := range []struct {
		dst  **cim.Class
		name string
	}{{&s.admin, adminClass}, {&s.role, roleClass}, {&s.scope, scopeClass}, {&s.membership, membershipClass},
		{&s.audit, auditClass}, {&s.token, tokenClass}, {&s.password, passwordClass}} {
		c, ok := reg.Class(x.name)
		if !ok {
			return s, fmt.Errorf("provider: the schema lacks class %s", x.name)
		}
		*x.dst = c
	}
	return s, nil
}

// caller returns the principal the context carries. A context without one
// is refused: no principal never means full access.
func caller(ctx context.Context) (*auth.Principal, error) {
	pr, ok := auth.FromContext(ctx)
	if !ok {
		return nil, errs.E(errs.Unauthenticated, "no credentials: sign in with a bearer token (Authorization: Bearer …) or HTTP Basic")
	}
	return pr, nil
}

// deniedError is a permission denial; the public entry points record it
// in the audit trail in a transaction of its own (the one the denial
// happened in is rolled back).
type deniedError struct {
	err    error
	pr     *auth.Principal
	class  string
	key    string
	op     auth.Op
	method string
}

func (e *deniedError) Error() string { return e.err.Error() }
func (e *deniedError) Unwrap() error { return e.err }

// authorize checks that the caller may perform op on instances of c.
// Classes with an ObjectTypeID follow the caller's roles. Other classes
// (views such as SMS_TaskSequencePackageReference, the task sequence
// object model) may be read by every administrative user and changed only
// by a Full Administrator.
func (p *Provider) authorize(ctx context.Context, c *cim.Class, key string, op auth.Op) (*auth.Principal, error) {
	pr, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if p.Permits(pr, c, op) {
		return pr, nil
	}
	return nil, &deniedError{
		err:   errs.E(errs.Forbidden, "%s may not %s %s: none of the security roles assigned grants it", pr.User, opVerb(op), c.Name),
		pr:    pr,
		class: c.Name,
		key:   key,
		op:    op,
	}
}

// Permits reports whether pr's roles let it perform op on instances of c
// (its security scopes aside): the rule authorize applies, for clients
// that offer only what the API allows (GET /tsprov/v1/me).
func (p *Provider) Permits(pr *auth.Principal, c *cim.Class, op auth.Op) bool {
	if pr.All || (c == p.sec.membership && op != auth.Read) { // memberships: checkMembership
		return true
	}
	if t, ok := c.ObjectTypeID(); ok {
		return pr.Can(t, op)
	}
	return op == auth.Read || slices.Contains(pr.Roles, auth.FullAdministrator)
}

func opVerb(op auth.Op) string {
	switch op {
	case auth.Read:
		return "read"
	case auth.Modify:
		return "modify"
	case auth.Delete:
		return "delete"
	case auth.Create:
		return "create"
	case auth.SetSecurityScope:
		return "set the security scopes of"
	}
	return "perform " + op.String() + " on"
}

// audited records a permission denial carried by err (in its own
// transaction) and returns err.
func (p *Provider) audited(ctx context.Context, err error) error {
	var d *deniedError
	if err == nil || !errors.As(err, &d) {
		return err
	}
	m, _ := ctx.Value(methodKey{}).(string)
	if d.method == "" {
		d.method = m
	}
	werr := p.write(context.WithoutCancel(ctx), func(tx store.Tx) error {
		return p.audit(ctx, tx, auditEntry{pr: d.pr, action: "Denied", class: d.class, key: d.key, method: d.method, detail: "missing permission: " + d.op.String()})
	})
	if werr != nil {
		p.log.Error("audit a permission denial", "err", werr)
	}
	return err
}

// scopedType returns the object type of c when instances of c belong to
// security scopes (Secured classes with an ObjectTypeID).
func scopedType(c *cim.Class) (int64, bool) {
	if !c.Qualifiers.Has("Secured") {
		return 0, false
	}
	return c.ObjectTypeID()
}

// visibility returns the test that decides which instances of c the caller
// sees, or nil when the caller sees them all (and pays for no filtering).
func (p *Provider) visibility(ctx context.Context, tx store.ReadTx, pr *auth.Principal, c *cim.Class) (func(*cim.Instance) bool, error) {
	if pr.AllInstances() {
		return nil, nil
	}
	if c == p.sec.membership {
		return func(in *cim.Instance) bool { return pr.InScope([]string{in.String("CategoryID")}) }, nil
	}
	if c.Name == reverseRefClass { // a reverse reference shows what a task sequence uses
		if ts, ok := p.reg.Class(tsPackageClass); ok {
			if t, ok := scopedType(ts); ok {
				keys, err := p.keysInScopes(ctx, tx, t, pr.Scopes)
				if err != nil {
					return nil, err
				}
				return func(in *cim.Instance) bool { return keys[in.String(packageIDProperty)] }, nil
			}
		}
	}
	t, ok := scopedType(c)
	if !ok {
		return nil, nil
	}
	keys, err := p.keysInScopes(ctx, tx, t, pr.Scopes)
	if err != nil {
		return nil, err
	}
	return func(in *cim.Instance) bool { return keys[in.Key()] }, nil
}

// keysInScopes returns the keys of the objects of type t that belong to
// any of the scopes.
func (p *Provider) keysInScopes(ctx context.Context, tx store.ReadTx, t int64, scopes []string) (map[string]bool, error) {
	keys := map[string]bool{}
	if len(scopes) == 0 {
		return keys, nil
	}
	var alts []string
	for _, s := range scopes {
		alts = append(alts, "CategoryID eq "+odataString(s))
	}
	recs, err := p.listWhere(ctx, tx, p.sec.membership, fmt.Sprintf("ObjectTypeID eq %d and (%s)", t, strings.Join(alts, " or ")))
	if err != nil {
		return nil, fmt.Errorf("read scope memberships: %w", err)
	}
	for _, r := range recs {
		keys[r.Instance.String("ObjectKey")] = true
	}
	return keys, nil
}

// objectScopes returns the CategoryIDs the object of type t with the
// given key belongs to.
func (p *Provider) objectScopes(ctx context.Context, tx store.ReadTx, t int64, key string) ([]string, error) {
	if !keepable(key) {
		return nil, nil
	}
	recs, err := p.listWhere(ctx, tx, p.sec.membership, fmt.Sprintf("ObjectTypeID eq %d and ObjectKey eq %s", t, odataString(key)))
	if err != nil {
		return nil, fmt.Errorf("read scope memberships: %w", err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.Instance.String("CategoryID"))
	}
	return ids, nil
}

// filter parses and checks an OData filter the provider builds itself.
func (p *Provider) filter(c *cim.Class, src string) (query.Expr, error) {
	f, err := query.ParseFilter(src)
	if err != nil {
		return nil, errs.E(errs.Internal, "filter %q: %w", src, err)
	}
	if err := query.Check(f, c, nil); err != nil {
		return nil, errs.E(errs.Internal, "filter %q: %w", src, err)
	}
	return f, nil
}

// listWhere lists the instances of c that an OData filter the provider
// builds selects.
func (p *Provider) listWhere(ctx context.Context, tx store.ReadTx, c *cim.Class, src string) ([]*store.Record, error) {
	f, err := p.filter(c, src)
	if err != nil {
		return nil, err
	}
	return tx.List(ctx, c, store.ListOptions{Filter: f})
}

// countWhere counts the instances of c that an OData filter the provider
// builds selects.
func (p *Provider) countWhere(ctx context.Context, tx store.ReadTx, c *cim.Class, src string) (int64, error) {
	f, err := p.filter(c, src)
	if err != nil {
		return 0, err
	}
	return tx.Count(ctx, c, f)
}

func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// keepable reports whether s, a string a caller gave, is text a store
// keeps (cim.CheckText). One that is not equals no stored value, and a
// filter that compares with it is refused (query.Check): a lookup by it
// finds nothing without asking the store.
func keepable(s string) bool { return cim.CheckText(s) == nil }

// absent is the error for an instance that does not exist, or that the
// caller may not see: the two are indistinguishable.
func absent(c *cim.Class, key string) error {
	return errs.Target(errs.NotFound, key, "%s(%q) not found", c.Name, key)
}

// visible returns absent when the caller may not see inst.
func (p *Provider) visible(ctx context.Context, tx store.ReadTx, pr *auth.Principal, inst *cim.Instance, key string) error {
	if pr.AllInstances() {
		return nil
	}
	if inst.Class == p.sec.membership || inst.Class.Name == reverseRefClass {
		keep, err := p.visibility(ctx, tx, pr, inst.Class)
		if err != nil {
			return err
		}
		if keep != nil && !keep(inst) {
			return absent(inst.Class, key)
		}
		return nil
	}
	t, ok := scopedType(inst.Class)
	if !ok {
		return nil
	}
	scopes, err := p.objectScopes(ctx, tx, t, inst.Key())
	if err != nil {
		return err
	}
	if !pr.InScope(scopes) {
		return absent(inst.Class, key)
	}
	return nil
}

// notServed refuses the Private classes on the public entry points.
func notServed(c *cim.Class) error {
	if c.IsPrivate() {
		return errs.Target(errs.NotFound, c.Name, "unknown class %s", c.Name)
	}
	return nil
}

// methodKey carries the name of the method being invoked, for the audit
// trail of the changes it makes.
type methodKey struct{}
