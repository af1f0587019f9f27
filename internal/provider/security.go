package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// firstAdminID is the AdminID of the first administrative user, as in
// ConfigMgr (16777217); later ones follow it.
const firstAdminID = 16777216

// securityRules are the rules of SMS_Admin, SMS_Role, SMS_SecuredCategory
// and SMS_SecuredCategoryMembership: ids, who and when, built-in objects
// that cannot change, and the SecuredScopeNames of member objects.
type securityRules struct{ p *Provider }

func (r securityRules) appliesTo(c *cim.Class) bool {
	s := r.p.sec
	return c == s.admin || c == s.role || c == s.scope || c == s.membership
}

func (r securityRules) beforeCreate(ctx context.Context, tx store.Tx, inst *cim.Instance) error {
	p := r.p
	var err error
	switch inst.Class {
	case p.sec.admin:
		var n int64
		if n, err = tx.NextSequence(ctx, "AdminID"); err == nil {
			inst.Set("AdminID", firstAdminID+1+n) // the first user is firstAdminID+1 (Bootstrap)
		}
	case p.sec.role:
		var id string
		if id, err = p.siteID(ctx, tx, "RoleID"); err == nil {
			inst.Set("RoleID", id)
		}
	case p.sec.scope:
		var id string
		if id, err = p.siteID(ctx, tx, "CategoryID"); err == nil {
			inst.Set("CategoryID", id)
		}
	case p.sec.membership:
		return nil
	}
	if err != nil {
		return err
	}
	p.stamp(inst, changedBy(ctx), cim.Now())
	return nil
}

// changedBy names the caller in CreatedBy and LastModifiedBy.
func changedBy(ctx context.Context) string {
	if pr, ok := auth.FromContext(ctx); ok {
		return pr.User
	}
	return "tsprov"
}

// stamp records who made a new object of role-based administration, when
// and on which site.
func (p *Provider) stamp(inst *cim.Instance, by string, now cim.DateTimeValue) {
	inst.Set("CreatedBy", by)
	inst.Set("CreatedDate", now)
	inst.Set("LastModifiedBy", by)
	inst.Set("LastModifiedDate", now)
	inst.Set("SourceSite", p.site)
}

// builtIn reports a built-in role or scope, which cannot change.
func builtIn(inst *cim.Instance) bool {
	v, _ := inst.Get("IsBuiltIn")
	return v == true
}

// siteID draws <SiteCode><5 hex digits> from the named counter.
func (p *Provider) siteID(ctx context.Context, tx store.Tx, counter string) (string, error) {
	n, err := tx.NextSequence(ctx, counter+"."+p.site)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%05X", p.site, n), nil
}

func (r securityRules) beforeUpdate(ctx context.Context, tx store.Tx, cur, next, sent *cim.Instance) error {
	if next.Class == r.p.sec.membership {
		return nil
	}
	if builtIn(cur) {
		return errs.E(errs.Invalid, "%s %s is built in and cannot be changed; copy it instead", next.Class.Name, cur.Key())
	}
	next.Set("LastModifiedBy", changedBy(ctx))
	next.Set("LastModifiedDate", cim.Now())
	return nil
}

func (securityRules) settle(context.Context, store.Tx, *cim.Instance, *cim.Instance) error {
	return nil
}

func (r securityRules) afterWrite(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
	p := r.p
	p.tokens.invalidate()
	inst := either(next, old)
	switch inst.Class {
	case p.sec.membership:
		return p.refreshScopeNames(ctx, tx, inst.Int("ObjectTypeID"), inst.String("ObjectKey"))
	case p.sec.admin:
		if next == nil { // the user's tokens and password go with it
			return p.dropCredentials(ctx, tx, old.Int("AdminID"))
		}
	case p.sec.scope:
		if next != nil && old != nil && old.String("CategoryName") != next.String("CategoryName") {
			return p.refreshScopeMembers(ctx, tx, next.String("CategoryID"))
		}
	}
	return nil
}

// checkSecurity applies the rules that need the client's values and the
// caller: references to roles and scopes must exist, callers cannot hand
// out roles or scopes they do not hold, built-in objects stay, and scope
// memberships change only on objects the caller sees, in scopes the
// caller holds, with Set Security Scope on the object's type. next is nil
// for a delete, old nil for a create.
func (p *Provider) checkSecurity(ctx context.Context, tx store.Tx, pr *auth.Principal, old, next *cim.Instance) error {
	inst := either(next, old)
	switch inst.Class {
	case p.sec.admin:
		if next == nil {
			if uint32(old.Int("AdminID")) == pr.AdminID {
				return errs.E(errs.Invalid, "you cannot delete your own administrative user")
			}
			return nil
		}
		return p.checkAdmin(ctx, tx, pr, old, next)
	case p.sec.role:
		if next == nil {
			if builtIn(old) {
				return errs.E(errs.Invalid, "security role %s is built in and cannot be deleted", old.String("RoleName"))
			}
			n, err := p.countWith(ctx, tx, p.sec.admin, "Roles", old.String("RoleID"))
			if err != nil {
				return err
			}
			if n > 0 {
				return errs.E(errs.Conflict, "security role %s is assigned to %d administrative user(s); remove it from them first", old.String("RoleName"), n)
			}
			return nil
		}
		for i, o := range arrayOf(next, "Operations") {
			op := o.(*cim.Instance)
			if op.Int("ObjectTypeID") <= 0 {
				return errs.Target(errs.Invalid, fmt.Sprintf("Operations[%d].ObjectTypeID", i), "Operations[%d].ObjectTypeID must name a secured object type", i)
			}
		}
	case p.sec.scope:
		if next == nil {
			if builtIn(old) {
				return errs.E(errs.Invalid, "security scope %s is built in and cannot be deleted", old.String("CategoryName"))
			}
			n, err := p.countWhere(ctx, tx, p.sec.membership, "CategoryID eq "+odataString(old.String("CategoryID")))
			if err != nil {
				return err
			}
			if n > 0 {
				return errs.E(errs.Conflict, "security scope %s holds %d object(s); move them to other scopes first", old.String("CategoryName"), n)
			}
			users, err := p.countWith(ctx, tx, p.sec.admin, "Categories", old.String("CategoryID"))
			if err != nil {
				return err
			}
			if users > 0 {
				return errs.E(errs.Conflict, "security scope %s is assigned to %d administrative user(s); remove it from them first", old.String("CategoryName"), users)
			}
		}
	case p.sec.membership:
		return p.checkMembership(ctx, tx, pr, old, next)
	}
	return nil
}

// checkAdmin checks the roles and scopes of an administrative user and
// derives RoleNames and CategoryNames.
func (p *Provider) checkAdmin(ctx context.Context, tx store.Tx, pr *auth.Principal, old, next *cim.Instance) error {
	name := strings.TrimSpace(next.String("LogonName"))
	if name == "" || strings.ContainsAny(name, ":\r\n") {
		return errs.Target(errs.Invalid, "LogonName", "LogonName must be a non-empty name without ':' or line breaks")
	}
	if err := cim.CheckText(name); err != nil {
		return errs.Target(errs.Invalid, "LogonName", "LogonName: %w", err)
	}
	if old == nil || old.String("LogonName") != name {
		n, err := p.countWhere(ctx, tx, p.sec.admin, "LogonName eq "+odataString(name))
		if err != nil {
			return err
		}
		if n > 0 {
			return errs.Target(errs.Conflict, "LogonName", "an administrative user named %q exists", name)
		}
	}
	if len(arrayOf(next, "Categories")) == 0 {
		return errs.Target(errs.Invalid, "Categories", "an administrative user needs at least one security scope (Categories)")
	}
	roleNames, err := p.assigned(ctx, tx, next, "Roles", p.sec.role, "RoleName", "security role", func(id string) bool { return mayAssignRole(pr, id) })
	if err != nil {
		return err
	}
	scopeNames, err := p.assigned(ctx, tx, next, "Categories", p.sec.scope, "CategoryName", "security scope", func(id string) bool { return mayAssignScope(pr, id) })
	if err != nil {
		return err
	}
	next.Set("RoleNames", roleNames)
	next.Set("CategoryNames", scopeNames)
	return nil
}

// mayAssignRole reports whether pr may give the security role id to an
// administrative user: a Full Administrator any, others only the roles
// they hold (no escalation).
func mayAssignRole(pr *auth.Principal, id string) bool {
	return pr.All || slices.Contains(pr.Roles, auth.FullAdministrator) || slices.Contains(pr.Roles, id)
}

// mayAssignScope reports whether pr may give the security scope id to an
// administrative user: a holder of All any, others only the scopes they
// hold.
func mayAssignScope(pr *auth.Principal, id string) bool {
	return pr.AllInstances() || slices.Contains(pr.Scopes, id)
}

// holdsAllOf reports whether pr may assign every role and scope of the
// administrative user admin, so that acting with admin's credentials
// would give pr nothing more than it has.
func holdsAllOf(pr *auth.Principal, admin *cim.Instance) bool {
	for _, x := range []struct {
		prop string
		may  func(*auth.Principal, string) bool
	}{{"Roles", mayAssignRole}, {"Categories", mayAssignScope}} {
		for _, v := range arrayOf(admin, x.prop) {
			if id, _ := v.(string); !x.may(pr, id) {
				return false
			}
		}
	}
	return true
}

// assigned checks the roles or scopes (class c) whose ids an
// administrative user's array property prop holds: each must exist, and
// the caller must hold it (mayAssign), so that nobody hands out more than
// it has. It returns their names (property nameProp).
func (p *Provider) assigned(ctx context.Context, tx store.ReadTx, admin *cim.Instance, prop string, c *cim.Class, nameProp, what string, mayAssign func(id string) bool) ([]any, error) {
	names := []any{}
	for _, v := range arrayOf(admin, prop) {
		id, _ := v.(string)
		rec, err := tx.Get(ctx, c, id, false)
		if errs.Is(err, errs.NotFound) {
			return nil, errs.Target(errs.Invalid, prop, "no %s %q", what, id)
		}
		if err != nil {
			return nil, err
		}
		if !mayAssign(id) {
			return nil, errs.Target(errs.Forbidden, prop, "you cannot assign %s %s: you do not hold it", what, rec.Instance.String(nameProp))
		}
		names = append(names, rec.Instance.String(nameProp))
	}
	return names, nil
}

// checkMembership checks a change of an object's security scopes.
func (p *Provider) checkMembership(ctx context.Context, tx store.Tx, pr *auth.Principal, old, next *cim.Instance) error {
	m := either(next, old)
	if old != nil && next != nil {
		return errs.E(errs.Invalid, "a scope membership has only key properties: create or delete one instead of changing it")
	}
	t := m.Int("ObjectTypeID")
	c, ok := p.typeClass[t]
	if !ok {
		return errs.Target(errs.Invalid, "ObjectTypeID", "ObjectTypeID %d is not a secured object type tsprov stores", t)
	}
	key := m.String("ObjectKey")
	if _, err := p.getVisible(ctx, tx, pr, c, key, false); err != nil {
		return err
	}
	if !pr.Can(t, auth.SetSecurityScope) {
		return &deniedError{err: errs.E(errs.Forbidden, "%s may not set the security scopes of %s: none of the security roles assigned grants it", pr.User, c.Name),
			pr: pr, class: m.Class.Name, key: m.Key(), op: auth.SetSecurityScope}
	}
	id := m.String("CategoryID")
	if _, err := tx.Get(ctx, p.sec.scope, id, false); err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.Target(errs.Invalid, "CategoryID", "no security scope %q", id)
		}
		return err
	}
	if id == auth.AllScopes {
		return errs.Target(errs.Invalid, "CategoryID", "objects cannot be members of the scope All; it stands for every scope")
	}
	if !pr.AllInstances() && !slices.Contains(pr.Scopes, id) {
		return errs.Target(errs.Forbidden, "CategoryID", "you cannot use security scope %s: it is not assigned to you", id)
	}
	if next == nil {
		scopes, err := p.objectScopes(ctx, tx, t, key)
		if err != nil {
			return err
		}
		if len(scopes) <= 1 {
			return errs.E(errs.Invalid, "%s(%q) must stay in at least one security scope; add it to another scope first", c.Name, key)
		}
	}
	return nil
}

// placeInScopes gives a new secured object the scopes of its creator and
// the matching SecuredScopeNames; it returns the scopes.
func (p *Provider) placeInScopes(ctx context.Context, tx store.Tx, pr *auth.Principal, inst *cim.Instance) ([]string, error) {
	if _, ok := scopedType(inst.Class); !ok {
		return nil, nil
	}
	scopes := pr.CreationScopes()
	if _, ok := inst.Class.Property(scopeNamesProperty); ok {
		names, err := p.scopeNames(ctx, tx, scopes)
		if err != nil {
			return nil, err
		}
		inst.Set(scopeNamesProperty, names)
	}
	return scopes, nil
}

// addMemberships stores the scope memberships of a new object.
func (p *Provider) addMemberships(ctx context.Context, tx store.Tx, inst *cim.Instance, scopes []string) error {
	t, ok := scopedType(inst.Class)
	if !ok {
		return nil
	}
	for _, s := range scopes {
		m := cim.NewInstance(p.sec.membership)
		m.Set("CategoryID", s)
		m.Set("ObjectKey", inst.Key())
		m.Set("ObjectTypeID", t)
		if err := tx.Insert(ctx, &store.Record{Instance: m}); err != nil {
			return fmt.Errorf("add %s to scope %s: %w", inst.Key(), s, err)
		}
	}
	return nil
}

// dropMemberships removes the scope memberships of a deleted object.
func (p *Provider) dropMemberships(ctx context.Context, tx store.Tx, inst *cim.Instance) error {
	t, ok := scopedType(inst.Class)
	if !ok {
		return nil
	}
	scopes, err := p.objectScopes(ctx, tx, t, inst.Key())
	if err != nil {
		return err
	}
	for _, s := range scopes {
		if err := tx.Delete(ctx, p.sec.membership, cim.JoinKey([]string{s, inst.Key(), fmt.Sprint(t)})); err != nil {
			return err
		}
	}
	return nil
}

// scopeNames returns the names of the scopes with the given ids.
func (p *Provider) scopeNames(ctx context.Context, tx store.ReadTx, ids []string) ([]any, error) {
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		rec, err := tx.Get(ctx, p.sec.scope, id, false)
		switch {
		case err == nil:
			out = append(out, rec.Instance.String("CategoryName"))
		case errs.Is(err, errs.NotFound):
			out = append(out, builtInScopeName(id))
		default:
			return nil, err
		}
	}
	return out, nil
}

func builtInScopeName(id string) string {
	for _, s := range builtInScopes {
		if s.id == id {
			return s.name
		}
	}
	return id
}

// refreshScopeNames sets SecuredScopeNames of an object from its
// memberships.
func (p *Provider) refreshScopeNames(ctx context.Context, tx store.Tx, t int64, key string) error {
	c, ok := p.typeClass[t]
	if !ok {
		return nil
	}
	if _, ok := c.Property(scopeNamesProperty); !ok {
		return nil
	}
	rec, err := tx.Get(ctx, c, key, false)
	if errs.Is(err, errs.NotFound) {
		return nil // the object is being deleted
	}
	if err != nil {
		return err
	}
	ids, err := p.objectScopes(ctx, tx, t, key)
	if err != nil {
		return err
	}
	names, err := p.scopeNames(ctx, tx, ids)
	if err != nil {
		return err
	}
	if cim.Equal(rec.Instance.Values[scopeNamesProperty], names) {
		return nil
	}
	rec.Instance.Set(scopeNamesProperty, names)
	return tx.Update(ctx, rec)
}

// refreshScopeMembers refreshes SecuredScopeNames of every member of a
// renamed scope.
func (p *Provider) refreshScopeMembers(ctx context.Context, tx store.Tx, id string) error {
	recs, err := p.listWhere(ctx, tx, p.sec.membership, "CategoryID eq "+odataString(id))
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := p.refreshScopeNames(ctx, tx, r.Instance.Int("ObjectTypeID"), r.Instance.String("ObjectKey")); err != nil {
			return err
		}
	}
	return nil
}

// countWith counts the instances of c whose array property holds v.
func (p *Provider) countWith(ctx context.Context, tx store.ReadTx, c *cim.Class, prop, v string) (int, error) {
	recs, err := tx.List(ctx, c, store.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		for _, x := range arrayOf(r.Instance, prop) {
			if x == v {
				n++
				break
			}
		}
	}
	return n, nil
}

// dropCredentials removes the tokens and password of a deleted user.
func (p *Provider) dropCredentials(ctx context.Context, tx store.Tx, adminID int64) error {
	recs, err := p.listWhere(ctx, tx, p.sec.token, fmt.Sprintf("AdminID eq %d", adminID))
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := tx.Delete(ctx, p.sec.token, r.Instance.Key()); err != nil {
			return err
		}
	}
	err = tx.Delete(ctx, p.sec.password, fmt.Sprint(adminID))
	if err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	return nil
}

// either is next, or old when next is nil (a delete): the instance a
// change is about.
func either(next, old *cim.Instance) *cim.Instance {
	if next == nil {
		return old
	}
	return next
}

func arrayOf(in *cim.Instance, name string) []any {
	v, _ := in.Get(name)
	a, _ := v.([]any)
	return a
}

// countScope fills NumberOfObjects and NumberOfAdmins of a security scope
// as it is read (they are not stored, so that creating objects does not
// contend on the row of their scope).
func (p *Provider) countScope(ctx context.Context, tx store.ReadTx, scope *cim.Instance) error {
	id := scope.String("CategoryID")
	objects, err := p.countWhere(ctx, tx, p.sec.membership, "CategoryID eq "+odataString(id))
	if err != nil {
		return err
	}
	admins, err := p.countWith(ctx, tx, p.sec.admin, "Categories", id)
	if err != nil {
		return err
	}
	scope.Set("NumberOfObjects", objects)
	scope.Set("NumberOfAdmins", int64(admins))
	return nil
}
