package adminservice

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store"
)

// The security extensions AdminService lacks.
const (
	AuditPath  = "/tsprov/v1/audit"
	TokensPath = "/tsprov/v1/tokens"
	AdminsPath = "/tsprov/v1/admins"
)

// maxTokenDays bounds the lifetime asked for a token.
const maxTokenDays = 3650

// audit serves GET /tsprov/v1/audit: the audit trail as a collection,
// oldest first unless $orderby says otherwise; $filter, $select, $top,
// $skip and $count work as on any class.
func (h *Handler) audit(w http.ResponseWriter, r *http.Request) {
	c := h.prov.AuditClass()
	o, err := parseQueryOptions(r.URL.Query(), c)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if len(o.orderBy) == 0 {
		o.orderBy = []store.Order{{Property: "AuditID"}}
	}
	h.writeCollection(w, r, c, o, func(opts provider.ListOptions) (*provider.ListResult, error) {
		return h.prov.ListAudit(r.Context(), opts)
	})
}

// createToken serves POST /tsprov/v1/tokens {"AdminID": n, "Description":
// "…", "ExpiresInDays": n}: a new API token, whose text this answer holds
// once. AdminID 0 or absent: the caller.
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request) {
	raw, err := h.readJSON(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req struct {
		AdminID       int64  `json:"AdminID"`
		Description   string `json:"Description"`
		ExpiresInDays int    `json:"ExpiresInDays"`
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &req); err != nil {
			h.writeError(w, r, errs.E(errs.Invalid, `the body of a token request is {"AdminID": n, "Description": "…", "ExpiresInDays": n}: %w`, err))
			return
		}
	}
	if req.ExpiresInDays < 0 || req.ExpiresInDays > maxTokenDays {
		h.writeError(w, r, errs.Target(errs.Invalid, "ExpiresInDays", "ExpiresInDays must be between 0 (never) and %d", maxTokenDays))
		return
	}
	if len(req.Description) > 256 {
		h.writeError(w, r, errs.Target(errs.Invalid, "Description", "Description has at most 256 characters"))
		return
	}
	token, info, err := h.prov.CreateToken(r.Context(), req.AdminID, req.Description, time.Duration(req.ExpiresInDays)*24*time.Hour)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{
		"Token": token, "TokenID": info.TokenID, "AdminID": info.AdminID, "Description": info.Description,
		"Created": info.Created, "Expires": info.Expires,
	})
}

// listTokens serves GET /tsprov/v1/tokens (the caller's; ?AdminID=n for
// another user's, ?all=true for everyone's).
func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request) {
	var id int64
	q := r.URL.Query()
	if q.Get("all") == "true" {
		id = -1
	} else if s := q.Get("AdminID"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			h.writeError(w, r, errs.Target(errs.Invalid, "AdminID", "AdminID must be a positive whole number"))
			return
		}
		id = n
	}
	infos, err := h.prov.ListTokens(r.Context(), id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if infos == nil {
		infos = []provider.TokenInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": infos})
}

// revokeToken serves DELETE /tsprov/v1/tokens/{id}.
func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := h.prov.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// setPassword serves PUT /tsprov/v1/admins/{id}/password {"Password":
// "…"}; id "me" is the caller.
func (h *Handler) setPassword(w http.ResponseWriter, r *http.Request) {
	var id int64
	if s := r.PathValue("id"); s != "me" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			h.writeError(w, r, errs.Target(errs.Invalid, "AdminID", "the path names AdminID %q; expected a positive whole number or me", s))
			return
		}
		id = n
	}
	raw, err := h.readJSON(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req struct {
		Password string `json:"Password"`
	}
	if raw == nil || json.Unmarshal(raw, &req) != nil {
		h.writeError(w, r, errs.E(errs.Invalid, `the body of a password request is {"Password": "…"}`))
		return
	}
	if err := h.prov.SetPassword(r.Context(), id, req.Password); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
