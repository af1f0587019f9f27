package adminservice

import (
	"net/http"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
)

// LocksPath lists the SEDO locks held (GET) and force-releases one
// (DELETE ?ObjectRelPath=…): tsprov lock ls|release.
const LocksPath = "/tsprov/v1/locks"

// listLocks serves GET /tsprov/v1/locks.
func (h *Handler) listLocks(w http.ResponseWriter, r *http.Request) {
	locks, err := h.prov.ListLocks(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if locks == nil {
		locks = []provider.LockInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": locks})
}

// releaseLock serves DELETE /tsprov/v1/locks?ObjectRelPath=…: an
// administrator's release of whichever session holds the lock (audited).
func (h *Handler) releaseLock(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Query().Get("ObjectRelPath")
	if path == "" {
		h.writeError(w, r, errs.Target(errs.Invalid, "ObjectRelPath", "ObjectRelPath is required, e.g. ?ObjectRelPath=SMS_TaskSequencePackage.PackageID=\"PS100001\""))
		return
	}
	if err := h.prov.ForceReleaseLock(r.Context(), path); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
