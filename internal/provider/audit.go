package provider

import (
	"context"
	"sort"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// auditEntry is one record of the audit trail. It names properties, never
// their values.
type auditEntry struct {
	pr         *auth.Principal // nil: not authenticated
	user, addr string          // when pr is nil
	signIn     string          // when pr is nil: the scheme tried
	action     string
	class, key string
	method     string
	properties []string
	detail     string
}

// audit appends e to the audit trail within tx: the record commits or
// rolls back with the change it describes.
func (p *Provider) audit(ctx context.Context, tx store.Tx, e auditEntry) error {
	id, err := tx.NextSequence(ctx, "AuditID")
	if err != nil {
		return err
	}
	rec := cim.NewInstance(p.sec.audit)
	rec.Set("AuditID", id)
	rec.Set("Time", cim.Now())
	user, addr, signIn := e.user, e.addr, e.signIn
	if e.pr != nil {
		user, addr, signIn = e.pr.User, e.pr.Addr, e.pr.SignIn
	}
	if e.method == "" {
		e.method, _ = ctx.Value(methodKey{}).(string)
	}
	rec.Set("User", user)
	rec.Set("Address", addr)
	rec.Set("SignIn", signIn)
	rec.Set("Action", e.action)
	rec.Set("ClassName", e.class)
	rec.Set("ObjectKey", e.key)
	rec.Set("Method", e.method)
	props := make([]any, 0, len(e.properties))
	for _, n := range e.properties {
		props = append(props, n)
	}
	rec.Set("Properties", props)
	rec.Set("Detail", e.detail)
	return tx.Insert(ctx, &store.Record{Instance: rec})
}

// changedProperties names the properties whose values differ between old
// and next (every property with a value when old is nil).
func changedProperties(old, next *cim.Instance) []string {
	var names []string
	for _, p := range next.Class.Properties {
		v := next.Values[p.Name]
		if old == nil {
			if v != nil {
				names = append(names, p.Name)
			}
			continue
		}
		if _, loaded := next.Values[p.Name]; !loaded && p.IsLazy() {
			continue
		}
		if !cim.Equal(old.Values[p.Name], v) {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}

// ListAudit returns records of the audit trail (newest last), for callers
// whose roles grant Read on the audit trail.
func (p *Provider) ListAudit(ctx context.Context, opts ListOptions) (*ListResult, error) {
	if _, err := p.authorize(ctx, p.sec.audit, "", auth.Read); err != nil {
		return nil, p.audited(ctx, err)
	}
	return p.list(ctx, p.sec.audit, opts)
}

// AuditClass is the class of audit records.
func (p *Provider) AuditClass() *cim.Class { return p.sec.audit }
