package adminservice

import (
	"encoding/json"
	"net/http"

	"github.com/tsprov/tsprov/internal/errs"
)

// WebhooksPath manages outbound webhooks, an extension AdminService
// lacks: POST creates, GET lists, DELETE …/{id} deletes, POST
// …/{id}/enable takes one out of the dead-letter state.
const WebhooksPath = "/tsprov/v1/webhooks"

// createWebhook serves POST /tsprov/v1/webhooks {"URL", "Query",
// "Secret"}: a webhook of the caller, delivering from the feed's end on.
// The answer (201) never holds the secret.
func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	raw, err := h.readJSON(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req struct {
		URL    string `json:"URL"`
		Query  string `json:"Query"`
		Secret string `json:"Secret"`
	}
	if raw == nil {
		raw = []byte("{}")
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		h.writeError(w, r, errs.E(errs.Invalid, `the body of a webhook request is {"URL": "…", "Query": "<WQL event query>", "Secret": "…"}: %w`, err))
		return
	}
	hook, err := h.prov.CreateWebhook(r.Context(), req.URL, req.Query, req.Secret)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, hook)
}

// listWebhooks serves GET /tsprov/v1/webhooks: the caller's webhooks
// (everyone's for a Full Administrator of all instances) with their
// state, position and last error, without secrets.
func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) {
	hooks, err := h.prov.ListWebhooks(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": hooks})
}

// deleteWebhook serves DELETE /tsprov/v1/webhooks/{id} (204).
func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := h.prov.DeleteWebhook(r.Context(), r.PathValue("id")); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// enableWebhook serves POST /tsprov/v1/webhooks/{id}/enable: a
// dead-lettered webhook delivers again from where it stopped.
func (h *Handler) enableWebhook(w http.ResponseWriter, r *http.Request) {
	hook, err := h.prov.EnableWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, hook)
}
