// Package auth holds what tsprov needs to know who a caller is and what
// that caller may do: the principal carried in a request's context, the
// operation bits of security roles, API tokens (random, stored only as a
// hash), passwords (argon2id), per-address throttling of failed sign-ins
// and per-credential request budgets. It does no I/O and knows nothing of HTTP
// handlers or of the store.
package auth

import (
	"context"
	"strings"
)

// Op is one operation bit of SMS_ARoleOperation.GrantedOperations.
type Op uint32

// The operations a security role grants on an object type (the bits
// declared on SMS_ARoleOperation.GrantedOperations in schema/security.mof).
const (
	Read             Op = 1 << 0
	Modify           Op = 1 << 1
	Delete           Op = 1 << 2
	Distribute       Op = 1 << 3
	ModifyFolder     Op = 1 << 4
	MoveObject       Op = 1 << 5
	SetSecurityScope Op = 1 << 6
	Create           Op = 1 << 10
	// CreateMedia is the right to create task sequence media other than
	// stand-alone (GetTsPolicies, GetClientConfigPolicies).
	CreateMedia Op = 1 << 11
	// CreateStandAloneMedia is the right to create stand-alone media
	// (GetTsPoliciesSaMedia).
	CreateStandAloneMedia Op = 1 << 12
	// AllOps is every operation.
	AllOps = Read | Modify | Delete | Distribute | ModifyFolder | MoveObject | SetSecurityScope | Create | CreateMedia | CreateStandAloneMedia
)

var opNames = []struct {
	op   Op
	name string
}{{Read, "Read"}, {Modify, "Modify"}, {Delete, "Delete"}, {Distribute, "Distribute"}, {ModifyFolder, "Modify Folder"},
	{MoveObject, "Move Object"}, {SetSecurityScope, "Set Security Scope"}, {Create, "Create"},
	{CreateMedia, "Create Task Sequence Media"}, {CreateStandAloneMedia, "Create Stand-alone Media"}}

func (o Op) String() string {
	var names []string
	for _, n := range opNames {
		if o&n.op != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Built-in identifiers.
const (
	// AllScopes is the CategoryID of the built-in scope "All": an
	// administrative user assigned it sees every object of every scope.
	AllScopes = "SMS00ALL"
	// DefaultScope is the CategoryID of the built-in scope "Default".
	DefaultScope = "SMS00UNA"
	// FullAdministrator is the RoleID of the built-in Full Administrator.
	FullAdministrator = "SMS0001R"
)

// Principal is an authenticated caller: who, from where, and what the
// caller's roles and scopes allow.
type Principal struct {
	AdminID uint32
	User    string // LogonName
	Addr    string // client address (host only)
	// SignIn is how the caller proved who it is: one of the SignIn…
	// schemes ("" for the server's own work).
	SignIn string
	Roles  []string
	// Perms maps an ObjectTypeID to the operations the caller's roles
	// grant on it (the union over the roles).
	Perms map[int64]Op
	// Scopes holds the CategoryIDs assigned to the caller.
	Scopes []string
	// All: the caller holds every operation on every object type and the
	// All scope, so nothing needs to be filtered (Full Administrator with
	// all scopes).
	All bool
}

// Can reports whether p may perform op on objects of the given type.
func (p *Principal) Can(objectType int64, op Op) bool {
	if p.All {
		return true
	}
	return p.Perms[objectType]&op == op
}

// AllInstances reports whether p sees every object regardless of scope.
func (p *Principal) AllInstances() bool {
	if p.All {
		return true
	}
	for _, s := range p.Scopes {
		if s == AllScopes {
			return true
		}
	}
	return false
}

// InScope reports whether an object that belongs to the given scopes
// (CategoryIDs) is visible to p.
func (p *Principal) InScope(objectScopes []string) bool {
	if p.AllInstances() {
		return true
	}
	for _, s := range objectScopes {
		for _, mine := range p.Scopes {
			if strings.EqualFold(s, mine) {
				return true
			}
		}
	}
	return false
}

// CreationScopes are the scopes a new object created by p lands in: p's
// scopes, or Default when p holds only All (or none).
func (p *Principal) CreationScopes() []string {
	var out []string
	for _, s := range p.Scopes {
		if s != AllScopes {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		out = []string{DefaultScope}
	}
	return out
}

// The ways a caller signs in: the HTTP authentication schemes, as the
// audit trail records them.
const (
	SignInBearer    = "Bearer"    // an API token
	SignInBasic     = "Basic"     // a user name and password
	SignInNegotiate = "Negotiate" // a Kerberos ticket (Windows-integrated)
)

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal ctx carries.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// System is the principal of the server's own work (seeding the built-in
// roles and scopes, bootstrapping the first administrator).
func System() *Principal {
	return &Principal{User: "tsprov (system)", Addr: "local", All: true, Scopes: []string{AllScopes}, Roles: []string{FullAdministrator}}
}
