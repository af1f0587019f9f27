package server

import (
	"errors"
	"net/http"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/kerberos"
	"github.com/tsprov/tsprov/internal/provider"
)

// negotiator loads the keytab of Windows-integrated sign-in (nil without
// one).
func negotiator(cfg Config) (*kerberos.Acceptor, error) {
	if cfg.Keytab == "" {
		if cfg.SPN != "" {
			return nil, errors.New("--spn needs --keytab")
		}
		return nil, nil
	}
	a, err := kerberos.Load(cfg.Keytab, cfg.SPN)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("Kerberos sign-in (Negotiate) enabled", "keytab", cfg.Keytab, "principals", a.Principals())
	return a, nil
}

// signInKerberos verifies a Negotiate token and maps its client principal
// to an administrative user. A refused ticket is recorded in the audit
// trail and answered 401 with the reason, which concerns the client's own
// ticket only.
func signInKerberos(r *http.Request, prov *provider.Provider, kerb *kerberos.Acceptor, token, addr string) (*auth.Principal, error) {
	client, err := kerb.Accept(token, addr)
	if err != nil {
		prov.SignInFailed(r.Context(), auth.SignInNegotiate, "", addr, errs.Message(err))
		return nil, err
	}
	return prov.AuthenticateKerberos(r.Context(), client.String(), client.LogonNames(), addr)
}
