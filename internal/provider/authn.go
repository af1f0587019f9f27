package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// principalTTL bounds how long a resolved token is trusted without
// reading the store again: a change made through another server sharing
// the database (a revoked token, a removed role) takes effect within it.
// Changes made through this server take effect at once.
const principalTTL = 5 * time.Second

// principalCache remembers the principal of a token hash for a short
// while, so that each request costs no store reads.
type principalCache struct {
	gen atomic.Int64
	mu  sync.Mutex
	m   map[string]cachedPrincipal
}

type cachedPrincipal struct {
	pr      *auth.Principal
	until   time.Time
	gen     int64
	expires *time.Time
}

func newPrincipalCache() *principalCache { return &principalCache{m: map[string]cachedPrincipal{}} }

// invalidate forgets every cached principal (a security object changed).
func (c *principalCache) invalidate() { c.gen.Add(1) }

func (c *principalCache) get(hash string, now time.Time) (*auth.Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || now.After(e.until) || e.gen != c.gen.Load() || (e.expires != nil && !now.Before(*e.expires)) {
		delete(c.m, hash)
		return nil, false
	}
	return e.pr, true
}

func (c *principalCache) put(hash string, pr *auth.Principal, gen int64, expires *time.Time, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[hash] = cachedPrincipal{pr: pr, until: now.Add(principalTTL), gen: gen, expires: expires}
}

// write runs fn in a write transaction of the store. A transaction that
// invalidated the principal cache (it changed a security object or a
// credential) invalidates it again once it has committed or failed: a
// token another request resolved while the change was in flight, from
// the state before it, is not trusted after it.
func (p *Provider) write(ctx context.Context, fn func(store.Tx) error) error {
	before := p.tokens.gen.Load()
	err := p.st.Write(ctx, fn)
	if p.tokens.gen.Load() != before {
		p.tokens.invalidate()
	}
	return err
}

// errBadCredentials is all a failed sign-in learns: not whether the user
// exists, nor whether the token was revoked or expired.
func errBadCredentials() error {
	return errs.E(errs.Unauthenticated, "invalid credentials: the token or user name and password were not accepted")
}

// AuthenticateToken resolves an API token to its principal. A failure is
// recorded in the audit trail.
func (p *Provider) AuthenticateToken(ctx context.Context, token, addr string) (*auth.Principal, error) {
	hash := auth.HashToken(token)
	now := time.Now()
	if pr, ok := p.tokens.get(hash, now); ok {
		cp := *pr
		cp.Addr, cp.SignIn = addr, auth.SignInBearer
		return &cp, nil
	}
	gen := p.tokens.gen.Load()
	var pr *auth.Principal
	var expires *time.Time
	var detail string
	err := p.st.Read(ctx, func(tx store.ReadTx) error {
		rec, err := tx.Get(ctx, p.sec.token, hash, false)
		if errs.Is(err, errs.NotFound) {
			detail = "unknown token"
			return errBadCredentials()
		}
		if err != nil {
			return err
		}
		t := rec.Instance
		if v, _ := t.Get("Revoked"); v == true {
			detail = "revoked token " + t.String("TokenID")
			return errBadCredentials()
		}
		if v, ok := t.Values["Expires"].(cim.DateTimeValue); ok {
			if !now.Before(v.Time) {
				detail = "expired token " + t.String("TokenID")
				return errBadCredentials()
			}
			expires = &v.Time
		}
		pr, err = p.principalOf(ctx, tx, t.Int("AdminID"))
		if errs.Is(err, errs.NotFound) {
			detail = "token of a deleted user"
			return errBadCredentials()
		}
		return err
	})
	if err != nil {
		if errs.Is(err, errs.Unauthenticated) {
			p.loginFailed(ctx, auth.SignInBearer, "", addr, detail)
		}
		return nil, err
	}
	p.tokens.put(hash, pr, gen, expires, now)
	cp := *pr
	cp.Addr, cp.SignIn = addr, auth.SignInBearer
	return &cp, nil
}

// AuthenticatePassword checks a user name and password (HTTP Basic). A
// failure is recorded in the audit trail.
func (p *Provider) AuthenticatePassword(ctx context.Context, user, password, addr string) (*auth.Principal, error) {
	var pr *auth.Principal
	var hash string
	err := p.st.Read(ctx, func(tx store.ReadTx) error {
		if !keepable(user) {
			return nil // no such user
		}
		f, err := p.filter(p.sec.admin, "LogonName eq "+odataString(user))
		if err != nil {
			return err
		}
		recs, err := tx.List(ctx, p.sec.admin, store.ListOptions{Filter: f, Limit: 1})
		if err != nil || len(recs) == 0 {
			return err
		}
		id := recs[0].Instance.Int("AdminID")
		rec, err := tx.Get(ctx, p.sec.password, fmt.Sprint(id), false)
		if errs.Is(err, errs.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		hash = rec.Instance.String("PasswordHash")
		pr, err = p.principalOf(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if hash == "" {
		// spend the same time as a real check, so that timing does not
		// tell which users exist
		_, _ = auth.VerifyPassword(dummyHash(), password)
		p.loginFailed(ctx, auth.SignInBasic, user, addr, "unknown user or no password set")
		return nil, errBadCredentials()
	}
	ok, err := auth.VerifyPassword(hash, password)
	if err != nil || !ok {
		p.loginFailed(ctx, auth.SignInBasic, user, addr, "wrong password")
		return nil, errBadCredentials()
	}
	cp := *pr
	cp.Addr, cp.SignIn = addr, auth.SignInBasic
	return &cp, nil
}

// AuthenticateKerberos maps a Kerberos client principal, whose ticket
// the caller has verified, to the administrative user whose LogonName is
// the first of logonNames that one has (compared without regard to
// case). Outcomes: the principal, signed in with Negotiate; an error of
// kind Unauthenticated naming the logon names tried when no user has any
// of them (recorded in the audit trail).
func (p *Provider) AuthenticateKerberos(ctx context.Context, client string, logonNames []string, addr string) (*auth.Principal, error) {
	var pr *auth.Principal
	err := p.st.Read(ctx, func(tx store.ReadTx) error {
		for _, name := range logonNames {
			f, err := p.filter(p.sec.admin, "LogonName eq "+odataString(name))
			if err != nil {
				return err
			}
			recs, err := tx.List(ctx, p.sec.admin, store.ListOptions{Filter: f, Limit: 1})
			if err != nil {
				return err
			}
			if len(recs) > 0 {
				pr, err = p.principalOf(ctx, tx, recs[0].Instance.Int("AdminID"))
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if pr == nil {
		tried := strings.Join(logonNames, " or ")
		p.loginFailed(ctx, auth.SignInNegotiate, client, addr, "no administrative user has the logon name "+tried)
		return nil, errs.E(errs.Unauthenticated, "Kerberos sign-in as %s: no administrative user has the logon name %s", client, tried)
	}
	cp := *pr
	cp.Addr, cp.SignIn = addr, auth.SignInNegotiate
	return &cp, nil
}

// SignInFailed records in the audit trail a sign-in that failed before
// the provider was asked (a Kerberos ticket the server refused): how the
// caller tried (one of the auth.SignIn… schemes), as whom when known, and
// why.
func (p *Provider) SignInFailed(ctx context.Context, method, user, addr, detail string) {
	p.loginFailed(ctx, method, user, addr, detail)
}

// dummyHash is verified against when the user does not exist; it is
// made on first use, not at start-up (argon2id is slow on purpose).
var dummyHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword("tsprov dummy password for timing")
	if err != nil {
		panic(err)
	}
	return h
})

// loginFailed records a failed sign-in in a transaction of its own.
func (p *Provider) loginFailed(ctx context.Context, method, user, addr, detail string) {
	err := p.write(context.WithoutCancel(ctx), func(tx store.Tx) error {
		return p.audit(ctx, tx, auditEntry{user: user, addr: addr, signIn: method, action: "LoginFailed", detail: detail})
	})
	if err != nil {
		p.log.Error("audit a failed sign-in", "err", err)
	}
}

// principalOf builds the principal of an administrative user: the union
// of the operations of the user's roles, and the user's scopes.
func (p *Provider) principalOf(ctx context.Context, tx store.ReadTx, adminID int64) (*auth.Principal, error) {
	rec, err := tx.Get(ctx, p.sec.admin, fmt.Sprint(adminID), false)
	if err != nil {
		return nil, err
	}
	a := rec.Instance
	pr := &auth.Principal{AdminID: uint32(adminID), User: a.String("LogonName"), Perms: map[int64]auth.Op{}}
	full := false
	for _, v := range arrayOf(a, "Roles") {
		id, _ := v.(string)
		role, err := tx.Get(ctx, p.sec.role, id, false)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		pr.Roles = append(pr.Roles, id)
		if id == auth.FullAdministrator {
			full = true
		}
		for _, o := range arrayOf(role.Instance, "Operations") {
			op := o.(*cim.Instance)
			pr.Perms[op.Int("ObjectTypeID")] |= auth.Op(op.Int("GrantedOperations"))
		}
	}
	for _, v := range arrayOf(a, "Categories") {
		if id, _ := v.(string); id != "" {
			pr.Scopes = append(pr.Scopes, id)
		}
	}
	pr.All = full && pr.AllInstances()
	return pr, nil
}

// storeToken stores a token's hash for an administrative user, recording
// action (TokenCreated, TokenReset) in the audit trail.
func (p *Provider) storeToken(ctx context.Context, tx store.Tx, pr *auth.Principal, action, hash string, adminID int64, description string, expires *time.Time) error {
	t := cim.NewInstance(p.sec.token)
	t.Set("TokenHash", hash)
	t.Set("TokenID", auth.TokenID(hash))
	t.Set("AdminID", adminID)
	t.Set("Description", description)
	t.Set("Created", cim.Now())
	if expires != nil {
		t.Set("Expires", cim.DateTimeValue{Time: expires.UTC().Truncate(time.Microsecond)})
	}
	t.Set("Revoked", false)
	if err := tx.Insert(ctx, &store.Record{Instance: t}); err != nil {
		return err
	}
	p.tokens.invalidate()
	return p.audit(ctx, tx, auditEntry{pr: pr, action: action, class: adminClass, key: fmt.Sprint(adminID), detail: "token " + auth.TokenID(hash) + ": " + description})
}

// TokenInfo describes a stored token (never its text or hash).
type TokenInfo struct {
	TokenID     string     `json:"TokenID"`
	AdminID     int64      `json:"AdminID"`
	Description string     `json:"Description"`
	Created     time.Time  `json:"Created"`
	Expires     *time.Time `json:"Expires"`
	Revoked     bool       `json:"Revoked"`
}

// forUser checks that the caller may see (op Read) or manage the
// credentials of adminID: its own, or, with op on administrative users,
// those of a user whose roles and scopes the caller could assign (no
// escalation: a token or password of a user who holds more would give the
// caller more, and so would the list of its tokens, whose ids revoke them
// and whose descriptions say where they are kept). adminID 0 means the
// caller.
func (p *Provider) forUser(ctx context.Context, tx store.ReadTx, adminID int64, op auth.Op) (*auth.Principal, int64, error) {
	pr, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	if adminID == 0 {
		adminID = int64(pr.AdminID)
	}
	key := fmt.Sprint(adminID)
	other := adminID != int64(pr.AdminID)
	if other {
		if _, err := p.authorize(ctx, p.sec.admin, key, op); err != nil {
			return nil, 0, err
		}
	}
	rec, err := tx.Get(ctx, p.sec.admin, key, false)
	if errs.Is(err, errs.NotFound) {
		return nil, 0, absent(p.sec.admin, key)
	}
	if err != nil {
		return nil, 0, err
	}
	if other && !holdsAllOf(pr, rec.Instance) {
		return nil, 0, errs.Target(errs.Forbidden, key, "you cannot manage the credentials of %s: it holds security roles or scopes you do not", rec.Instance.String("LogonName"))
	}
	return pr, adminID, nil
}

// CreateToken issues a new API token for an administrative user (0: the
// caller) and returns its text, to be shown once. ttl 0: no expiry.
func (p *Provider) CreateToken(ctx context.Context, adminID int64, description string, ttl time.Duration) (string, TokenInfo, error) {
	token, hash, err := auth.NewToken()
	if err != nil {
		return "", TokenInfo{}, err
	}
	var info TokenInfo
	err = p.write(ctx, func(tx store.Tx) error {
		pr, id, err := p.forUser(ctx, tx, adminID, auth.Modify)
		if err != nil {
			return err
		}
		var exp *time.Time
		if ttl > 0 {
			e := time.Now().Add(ttl).UTC().Truncate(time.Microsecond)
			exp = &e
		}
		info = TokenInfo{TokenID: auth.TokenID(hash), AdminID: id, Description: description, Created: time.Now().UTC(), Expires: exp}
		return p.storeToken(ctx, tx, pr, "TokenCreated", hash, id, description, exp)
	})
	if err != nil {
		return "", TokenInfo{}, p.audited(ctx, err)
	}
	return token, info, nil
}

// ListTokens lists the tokens of an administrative user (0: the caller),
// under forUser's rule; -1: those of every user whose tokens the caller
// may list by that same rule (its own, and with Read on administrative
// users those of users who hold nothing the caller could not assign).
func (p *Provider) ListTokens(ctx context.Context, adminID int64) ([]TokenInfo, error) {
	var out []TokenInfo
	err := p.st.Read(ctx, func(tx store.ReadTx) error {
		var opts store.ListOptions
		if adminID >= 0 {
			_, id, err := p.forUser(ctx, tx, adminID, auth.Read)
			if err != nil {
				return err
			}
			if opts.Filter, err = p.filter(p.sec.token, fmt.Sprintf("AdminID eq %d", id)); err != nil {
				return err
			}
		} else if _, err := p.authorize(ctx, p.sec.admin, "", auth.Read); err != nil {
			return err
		}
		recs, err := tx.List(ctx, p.sec.token, opts)
		if err != nil {
			return err
		}
		mayList := map[int64]bool{} // by AdminID
		for _, r := range recs {
			owner := r.Instance.Int("AdminID")
			ok, seen := mayList[owner]
			if !seen {
				_, _, err := p.forUser(ctx, tx, owner, auth.Read)
				if err != nil && !errs.Is(err, errs.Forbidden) && !errs.Is(err, errs.NotFound) {
					return err
				}
				ok = err == nil
				mayList[owner] = ok
			}
			if ok {
				out = append(out, tokenInfo(r.Instance))
			}
		}
		return nil
	})
	if err != nil {
		return nil, p.audited(ctx, err)
	}
	return out, nil
}

func tokenInfo(t *cim.Instance) TokenInfo {
	info := TokenInfo{TokenID: t.String("TokenID"), AdminID: t.Int("AdminID"), Description: t.String("Description")}
	if v, ok := t.Values["Created"].(cim.DateTimeValue); ok {
		info.Created = v.Time
	}
	if v, ok := t.Values["Expires"].(cim.DateTimeValue); ok {
		e := v.Time
		info.Expires = &e
	}
	info.Revoked = t.Values["Revoked"] == true
	return info
}

// RevokeToken revokes a token by its TokenID: the caller's own, or
// anyone's with Modify on administrative users.
func (p *Provider) RevokeToken(ctx context.Context, tokenID string) error {
	err := p.write(ctx, func(tx store.Tx) error {
		var recs []*store.Record
		var err error
		if keepable(tokenID) {
			if recs, err = p.listWhere(ctx, tx, p.sec.token, "TokenID eq "+odataString(tokenID)); err != nil {
				return err
			}
		}
		if len(recs) == 0 {
			return errs.Target(errs.NotFound, tokenID, "no token %q", tokenID)
		}
		t := recs[0]
		pr, _, err := p.forUser(ctx, tx, t.Instance.Int("AdminID"), auth.Modify)
		if err != nil {
			if errs.Is(err, errs.Forbidden) {
				return errs.Target(errs.NotFound, tokenID, "no token %q", tokenID)
			}
			return err
		}
		t.Instance.Set("Revoked", true)
		if err := tx.Update(ctx, t); err != nil {
			return err
		}
		p.tokens.invalidate()
		return p.audit(ctx, tx, auditEntry{pr: pr, action: "TokenRevoked", class: adminClass, key: fmt.Sprint(t.Instance.Int("AdminID")), detail: "token " + tokenID})
	})
	return p.audited(ctx, err)
}

// SetPassword sets the password of an administrative user (0: the
// caller), stored as an argon2id hash.
func (p *Provider) SetPassword(ctx context.Context, adminID int64, password string) error {
	// characters, not bytes: "éééééé" is six characters
	if utf8.RuneCountInString(password) < auth.MinPassword {
		return errs.Target(errs.Invalid, "Password", "a password needs at least %d characters", auth.MinPassword)
	}
	if len(password) > 1024 {
		return errs.Target(errs.Invalid, "Password", "a password has at most 1024 characters")
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	err = p.write(ctx, func(tx store.Tx) error {
		pr, id, err := p.forUser(ctx, tx, adminID, auth.Modify)
		if err != nil {
			return err
		}
		rec := &store.Record{Instance: cim.NewInstance(p.sec.password)}
		rec.Instance.Set("AdminID", id)
		rec.Instance.Set("PasswordHash", hash)
		if _, err := tx.Get(ctx, p.sec.password, fmt.Sprint(id), false); err == nil {
			err = tx.Update(ctx, rec)
			if err != nil {
				return err
			}
		} else if errs.Is(err, errs.NotFound) {
			if err := tx.Insert(ctx, rec); err != nil {
				return err
			}
		} else {
			return err
		}
		return p.audit(ctx, tx, auditEntry{pr: pr, action: "PasswordSet", class: adminClass, key: fmt.Sprint(id)})
	})
	return p.audited(ctx, err)
}
