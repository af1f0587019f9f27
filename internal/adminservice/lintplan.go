package adminservice

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/taskseq/lint"
	"github.com/tsprov/tsprov/internal/taskseq/plan"
)

// LintPath and PlanPath are tsprov's lint and offline simulation of a
// task sequence, extensions AdminService lacks.
const (
	LintPath = "/tsprov/v1/lint"
	PlanPath = "/tsprov/v1/plan"
)

// sequenceRequest is the body of a lint or plan request.
type sequenceRequest struct {
	PackageID string          `json:"PackageID"`
	Sequence  string          `json:"Sequence"`
	Config    json.RawMessage `json:"Config"`
	Variables json.RawMessage `json:"Variables"`
	Machine   json.RawMessage `json:"Machine"`
}

// readSequenceRequest decodes the body; members other than allowed are
// refused.
func (h *Handler) readSequenceRequest(w http.ResponseWriter, r *http.Request, what string, allowed ...string) (*sequenceRequest, error) {
	raw, err := h.readJSON(w, r)
	if err != nil {
		return nil, err
	}
	usage := errs.E(errs.Invalid, `the body of a %s request is {"PackageID": "…"} or {"Sequence": "<sequence …>"}, with %s`, what, strings.Join(allowed, ", "))
	if raw == nil {
		return nil, usage
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, usage
	}
	for name := range members {
		ok := name == "PackageID" || name == "Sequence"
		for _, a := range allowed {
			ok = ok || name == a
		}
		if !ok {
			return nil, errs.Target(errs.Invalid, name, "%s: unknown member %q (%s)", what, name, errs.Message(usage))
		}
	}
	var req sequenceRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, usage
	}
	return &req, nil
}

// formatParam reads the format query parameter of an extension that
// answers JSON by default ("" or "json") or one of the other forms.
func formatParam(q url.Values, others ...string) (string, error) {
	f := q.Get("format")
	if f == "" || f == "json" || slices.Contains(others, f) {
		return f, nil
	}
	return "", errs.Target(errs.Invalid, "format", "format %q is not json or %s", f, strings.Join(others, " or "))
}

// lint serves POST /tsprov/v1/lint {"PackageID"|"Sequence", "Config"}:
// the findings as JSON ({"artifact", "result"}), or as a SARIF 2.1.0 log
// with ?format=sarif.
func (h *Handler) lint(w http.ResponseWriter, r *http.Request) {
	format, err := formatParam(r.URL.Query(), "sarif")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	req, err := h.readSequenceRequest(w, r, "lint", "Config")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var cfg *lint.Config
	if len(req.Config) > 0 && string(req.Config) != "null" {
		if cfg, err = lint.ParseConfig(req.Config); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	res, err := h.prov.Lint(r.Context(), provider.SequenceSource{PackageID: req.PackageID, Sequence: req.Sequence}, cfg)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	artifact := req.PackageID
	if artifact == "" {
		artifact = "Sequence"
	}
	reports := []lint.Report{{Artifact: artifact, Result: res}}
	var b bytes.Buffer
	if format == "sarif" {
		err = lint.WriteSARIF(&b, lint.Tool{Name: "tsprov"}, cfg, reports)
	} else {
		err = json.NewEncoder(&b).Encode(reports[0])
	}
	if err != nil {
		h.writeError(w, r, errs.Wrap(errs.Internal, err, "lint output"))
		return
	}
	writeJSON(w, http.StatusOK, json.RawMessage(bytes.TrimSpace(b.Bytes())))
}

// plan serves POST /tsprov/v1/plan {"PackageID"|"Sequence", "Variables":
// {name: value}, "Machine": {…}}: the plan as JSON.
func (h *Handler) plan(w http.ResponseWriter, r *http.Request) {
	req, err := h.readSequenceRequest(w, r, "plan", "Variables", "Machine")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var vars map[string]string
	if len(req.Variables) > 0 && string(req.Variables) != "null" {
		if vars, err = plan.ParseVariables(req.Variables); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	var machine []byte
	if len(req.Machine) > 0 && string(req.Machine) != "null" {
		machine = req.Machine
	}
	p, err := h.prov.Plan(r.Context(), provider.SequenceSource{PackageID: req.PackageID, Sequence: req.Sequence}, provider.PlanRequest{Variables: vars, Machine: machine})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
