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
// ticket only. A client that asked for mutual authentication gets the
// server's proof in WWW-Authenticate of the answer.
func signInKerberos(r *http.Request, h http.Header, prov *provider.Provider, kerb *kerberos.Acceptor, token, addr string) (*auth.Principal, error) {
	client, err := kerb.Accept(token, addr)
	if err != nil {
		prov.SignInFailed(r.Context(), auth.SignInNegotiate, "", addr, errs.Message(err))
		return nil, err
	}
	pr, err := prov.AuthenticateKerberos(r.Context(), client.String(), client.LogonNames(), addr)
	if err != nil {
		return nil, err
	}
	if client.Reply != "" {
		h.Set("WWW-Authenticate", client.Reply)
	}
	return pr, nil
}
