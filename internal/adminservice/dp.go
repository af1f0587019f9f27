package adminservice

import (
	"encoding/json"
	"net/http"

	"github.com/tsprov/tsprov/internal/distribution"
	"github.com/tsprov/tsprov/internal/errs"
)

// DPPath is the root of the routes DP agents (tsprov dp serve) use:
//
//	POST {DPPath}/register      {"host","site","url","version"} → the DP and its NAL path
//	GET  {DPPath}/assignments?nal=…  → what the DP must hold
//	POST {DPPath}/report        {"nalPath","packageId","contentId","kind","bytesDone",…}
const DPPath = "/tsprov/v1/dp"

// dpJSON is a DP as the routes answer it.
type dpJSON struct {
	NALPath string `json:"nalPath"`
	Host    string `json:"host"`
	Site    string `json:"site"`
	URL     string `json:"url"`
}

// registerDP serves POST /tsprov/v1/dp/register.
func (h *Handler) registerDP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Host    string `json:"host"`
		Site    string `json:"site"`
		URL     string `json:"url"`
		Version string `json:"version"`
	}
	if err := h.decodeBody(w, r, &req, `{"host": "dp1.contoso.com", "site": "PS1", "url": "http://dp1.contoso.com:8080"}`); err != nil {
		h.writeError(w, r, err)
		return
	}
	dp, err := h.prov.RegisterDP(r.Context(), distribution.Agent{Host: req.Host, Site: req.Site, URL: req.URL, Version: req.Version})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, dpJSON{NALPath: dp.NALPath, Host: dp.Host, Site: dp.Site, URL: dp.URL})
}

// dpAssignments serves GET /tsprov/v1/dp/assignments?nal=….
func (h *Handler) dpAssignments(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Query().Get("nal")
	if path == "" {
		h.writeError(w, r, errs.Target(errs.Invalid, "nal", "nal is required: the DP's NAL path"))
		return
	}
	list, err := h.prov.DPAssignments(r.Context(), path)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"nalPath": path, "value": list})
}

// dpReport serves POST /tsprov/v1/dp/report.
func (h *Handler) dpReport(w http.ResponseWriter, r *http.Request) {
	var req struct {
		NALPath        string `json:"nalPath"`
		PackageID      string `json:"packageId"`
		ContentID      string `json:"contentId"`
		Kind           string `json:"kind"`
		BytesDone      int64  `json:"bytesDone"`
		BytesTotal     int64  `json:"bytesTotal"`
		BytesPerSecond int64  `json:"bytesPerSecond"`
		Error          string `json:"error"`
	}
	if err := h.decodeBody(w, r, &req, `{"nalPath": "…", "packageId": "PS100004", "contentId": "PS100004.2", "kind": "installed"}`); err != nil {
		h.writeError(w, r, err)
		return
	}
	err := h.prov.DPReport(r.Context(), distribution.Report{NALPath: req.NALPath, PackageID: req.PackageID, ContentID: req.ContentID, Kind: req.Kind,
		Progress: distribution.Progress{BytesDone: req.BytesDone, BytesTotal: req.BytesTotal, BytesPerSecond: req.BytesPerSecond}, Error: req.Error})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeBody decodes a JSON request body into v; example shows the shape
// in the error.
func (h *Handler) decodeBody(w http.ResponseWriter, r *http.Request, v any, example string) error {
	raw, err := h.readJSON(w, r)
	if err != nil {
		return err
	}
	if raw == nil {
		return errs.E(errs.Invalid, "a JSON body is required, e.g. %s", example)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errs.E(errs.Invalid, "the body must be JSON such as %s: %w", example, err)
	}
	return nil
}
