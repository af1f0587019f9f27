package provider

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// ResetResult is what ResetToken made.
type ResetResult struct {
	Token     string // the new API token, to show once
	TokenID   string
	AdminID   int64
	LogonName string
}

// ResetToken gives an administrative user a new API token, without
// credentials: it is how someone who holds the data folder (or the
// database) recovers access when every token is lost (tsprov admin
// reset-token). user names the user by LogonName or AdminID; empty means
// the first Full Administrator (the lowest AdminID that holds the role).
// operator names who asked, for the audit trail, where the token is
// recorded with the action TokenReset. The token never expires; other
// tokens are left as they are.
// Outcomes: the token; errs.NotFound when no such user exists (or, for an
// empty user, when the store has no Full Administrator yet: the first
// start makes one); another error when the store fails.
func (p *Provider) ResetToken(ctx context.Context, user, operator string) (ResetResult, error) {
	pr := auth.System()
	pr.User = operator
	ctx = auth.WithPrincipal(ctx, pr)
	var res ResetResult
	err := p.write(ctx, func(tx store.Tx) error {
		admin, err := p.resetTarget(ctx, tx, user)
		if err != nil {
			return err
		}
		token, hash, err := auth.NewToken()
		if err != nil {
			return err
		}
		res = ResetResult{Token: token, TokenID: auth.TokenID(hash), AdminID: admin.Int("AdminID"), LogonName: admin.String("LogonName")}
		return p.storeToken(ctx, tx, pr, "TokenReset", hash, res.AdminID, "reset from the data folder by "+operator, nil)
	})
	if err != nil {
		return ResetResult{}, fmt.Errorf("reset token: %w", err)
	}
	return res, nil
}

// resetTarget finds the user ResetToken gives a token to.
func (p *Provider) resetTarget(ctx context.Context, tx store.ReadTx, user string) (*cim.Instance, error) {
	recs, err := tx.List(ctx, p.sec.admin, store.ListOptions{OrderBy: []store.Order{{Property: "AdminID"}}})
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		a := r.Instance
		switch {
		case user == "":
			if slices.Contains(arrayOf(a, "Roles"), any(auth.FullAdministrator)) {
				return a, nil
			}
		case strings.EqualFold(a.String("LogonName"), user) || strconv.FormatInt(a.Int("AdminID"), 10) == user:
			return a, nil
		}
	}
	if user == "" {
		return nil, errs.E(errs.NotFound, "the store has no Full Administrator: start the server once, it creates the first")
	}
	return nil, errs.E(errs.NotFound, "no administrative user %q (give a LogonName or AdminID)", user)
}
