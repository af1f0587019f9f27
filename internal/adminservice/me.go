package adminservice

import (
	"net/http"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/errs"
)

// MePath answers who the caller is and what its roles allow, so that a
// client (the web console) offers only what the API would accept.
const MePath = "/tsprov/v1/me"

// meOps are the operations /tsprov/v1/me reports per class.
var meOps = []struct {
	op   auth.Op
	name string
}{{auth.Read, "Read"}, {auth.Modify, "Modify"}, {auth.Delete, "Delete"}, {auth.Create, "Create"}, {auth.Distribute, "Distribute"}}

// me serves GET /tsprov/v1/me: the caller's AdminID, logon name, how it
// signed in, its roles and scopes, whether it sees every instance, and per
// served class the operations its roles grant (Read, Modify, Delete,
// Create, Distribute), decided by the rule every request is checked by.
func (h *Handler) me(w http.ResponseWriter, r *http.Request) {
	pr, ok := auth.FromContext(r.Context())
	if !ok {
		h.writeError(w, r, errs.E(errs.Unauthenticated, "no credentials"))
		return
	}
	perms := map[string][]string{}
	for _, c := range h.reg.Classes() {
		if c.IsPrivate() || !c.HasKey() {
			continue
		}
		ops := []string{}
		for _, o := range meOps {
			if h.prov.Permits(pr, c, o.op) {
				ops = append(ops, o.name)
			}
		}
		perms[c.Name] = ops
	}
	roles, scopes := pr.Roles, pr.Scopes
	if roles == nil {
		roles = []string{}
	}
	if scopes == nil {
		scopes = []string{}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"AdminID": pr.AdminID, "LogonName": pr.User, "SignIn": pr.SignIn, "Roles": roles, "Scopes": scopes,
		"AllInstances": pr.AllInstances(), "Permissions": perms,
	})
}
