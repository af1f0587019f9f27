package adminservice

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/taskseq/diff"
)

// The history and diff of task sequence packages
// (docs/history-diff-lint-plan.md).
const (
	HistoryPath = "/tsprov/v1/history"
	DiffPath    = "/tsprov/v1/diff"
	// CommentHeader carries the comment a change records in its revision.
	CommentHeader = "X-Tsprov-Comment"
)

const historyClass = "SMS_TaskSequencePackage"

// Comments gives the changes of a request the comment its
// X-Tsprov-Comment header holds (provider.WithComment); a comment the
// history cannot keep is refused before anything changes.
func Comments(next http.Handler, writeErr func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.Header.Get(CommentHeader)
		if c == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, err := provider.WithComment(r.Context(), c)
		if err != nil {
			writeErr(w, r, errs.Target(errs.Invalid, CommentHeader, "%s: %w", CommentHeader, err))
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// revisionJSON renders a revision's record.
func revisionJSON(r *provider.Revision) *cim.JSONObject {
	o := cim.NewObject()
	o.Set("PackageID", r.Key)
	o.Set("Revision", r.Rev)
	o.Set("Time", r.Time.UTC().Format("2006-01-02T15:04:05.000000Z"))
	o.Set("Operation", string(r.Op))
	o.Set("Method", nullIfEmpty(r.Method))
	o.Set("User", nullIfEmpty(r.User))
	o.Set("Server", nullIfEmpty(r.Server))
	o.Set("Comment", nullIfEmpty(r.Comment))
	if r.RestoredFrom > 0 {
		o.Set("RestoredFrom", r.RestoredFrom)
	} else {
		o.Set("RestoredFrom", nil)
	}
	o.Set("Size", r.Size)
	return o
}

// history serves GET /tsprov/v1/history/{id}: the package's revisions,
// oldest first, paged with @odata.nextLink ($top, $skiptoken: the last
// revision served).
func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	top, err := wholeParam(q, "$top", math.MaxInt)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	after, err := wholeParam(q, "$skiptoken", 0)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	limit := min(top, h.pageSize)
	var revs []provider.Revision
	if limit > 0 {
		revs, err = h.prov.History(r.Context(), historyClass, id, int64(after), limit)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	values := make([]any, len(revs))
	for i := range revs {
		values[i] = revisionJSON(&revs[i])
	}
	body := cim.NewObject()
	body.Set("@odata.context", h.origin.base(r)+HistoryPath+"/$metadata#Revisions")
	body.Set("value", values)
	if len(revs) > 0 && len(revs) == limit && top > limit {
		next := url.Values{"$skiptoken": {strconv.FormatInt(revs[len(revs)-1].Rev, 10)}}
		if q.Get("$top") != "" {
			next.Set("$top", strconv.Itoa(top-limit))
		}
		body.Set("@odata.nextLink", h.origin.base(r)+HistoryPath+"/"+url.PathEscape(id)+"?"+next.Encode())
	}
	writeJSON(w, http.StatusOK, body)
}

// wholeParam reads a whole number of 0 or more from the query.
func wholeParam(q url.Values, name string, def int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errs.Target(errs.Invalid, name, "%s must be a whole number of 0 or more", name)
	}
	return n, nil
}

// revisionNumber reads the {rev} segment.
func revisionNumber(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, errs.Target(errs.Invalid, s, "revision %q must be a whole number of 1 or more", s)
	}
	return n, nil
}

// revision serves GET /tsprov/v1/history/{id}/{rev}: the revision's
// record and the whole package as it was (Package, in the entity form of
// a GET by key, secrets emptied).
func (h *Handler) revision(w http.ResponseWriter, r *http.Request) {
	rev, err := revisionNumber(r.PathValue("rev"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	res, err := h.prov.GetRevision(r.Context(), historyClass, r.PathValue("id"), rev)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body := revisionJSON(res)
	body.Set("Package", h.encoder().entity(&provider.Object{Instance: res.Instance}, true, nil))
	writeJSON(w, http.StatusOK, body)
}

// restore serves POST /tsprov/v1/history/{id}/{rev}/restore: a new
// revision equal to rev; the answer is the package as stored.
func (h *Handler) restore(w http.ResponseWriter, r *http.Request) {
	rev, err := revisionNumber(r.PathValue("rev"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	obj, err := h.prov.RestoreRevision(r.Context(), historyClass, r.PathValue("id"), rev)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeEntity(w, r, http.StatusOK, obj)
}

// purgeHistory serves DELETE /tsprov/v1/history/{id}: the history of a
// deleted package is removed (administrators only).
func (h *Handler) purgeHistory(w http.ResponseWriter, r *http.Request) {
	n, err := h.prov.PurgeHistory(r.Context(), historyClass, r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body := cim.NewObject()
	body.Set("PackageID", r.PathValue("id"))
	body.Set("Purged", n)
	writeJSON(w, http.StatusOK, body)
}

// ParseVersion reads a side of a diff: "ID" (the package as it is) or
// "ID@REV" (a revision).
func ParseVersion(s string) (id string, rev int64, err error) {
	id, r, found := strings.Cut(strings.TrimSpace(s), "@")
	if id == "" {
		return "", 0, errs.E(errs.Invalid, "%q names no package: give PackageID or PackageID@revision", s)
	}
	if !found {
		return id, 0, nil
	}
	n, err := revisionNumber(r)
	return id, n, err
}

// diffVersions serves GET /tsprov/v1/diff?from=ID[@REV]&to=ID[@REV]: the
// semantic diff of two versions of packages, as JSON (format=text: as
// text).
func (h *Handler) diffVersions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var versions [2]provider.Version
	for i, name := range []string{"from", "to"} {
		v, err := versionParam(name, q.Get(name))
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		versions[i] = v
	}
	format, err := formatParam(q, "text")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	pkgs, seqs, err := h.prov.SequencesToCompare(r.Context(), versions[0], versions[1])
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	res := diff.Compare(diff.Input{Package: pkgs[0], Sequence: seqs[0], Label: q.Get("from")},
		diff.Input{Package: pkgs[1], Sequence: seqs[1], Label: q.Get("to")})
	writeDiff(w, format, res)
}

// writeDiff answers a diff as JSON, or as text (format "text").
func writeDiff(w http.ResponseWriter, format string, res *diff.Result) {
	if format == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_ = res.WriteText(w, false)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// diffDraft serves POST /tsprov/v1/diff {"From": "ID[@REV]", "Sequence":
// "<sequence …>"}: the semantic diff of a stored version and a draft of
// its sequence that is not saved (what a SetSequence of it would change),
// as JSON (?format=text: as text).
func (h *Handler) diffDraft(w http.ResponseWriter, r *http.Request) {
	format, err := formatParam(r.URL.Query(), "text")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	raw, err := h.readJSON(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req struct {
		From     string `json:"From"`
		Sequence string `json:"Sequence"`
	}
	usage := errs.E(errs.Invalid, `the body of a diff request is {"From": "PackageID[@revision]", "Sequence": "<sequence …>"}`)
	if raw == nil || json.Unmarshal(raw, &req) != nil || req.Sequence == "" {
		h.writeError(w, r, usage)
		return
	}
	from, err := versionParam("From", req.From)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	pkg, stored, draft, err := h.prov.DraftToCompare(r.Context(), from, req.Sequence)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeDiff(w, format, diff.Compare(diff.Input{Package: pkg, Sequence: stored, Label: req.From},
		diff.Input{Package: pkg, Sequence: draft, Label: "draft"}))
}

// versionParam reads the from or to parameter of a diff.
func versionParam(param, s string) (provider.Version, error) {
	if s == "" {
		return provider.Version{}, errs.Target(errs.Invalid, param, "%s is required: PackageID or PackageID@revision", param)
	}
	id, rev, err := ParseVersion(s)
	if err != nil {
		return provider.Version{}, errs.Target(errs.Invalid, param, "%s: %w", param, err)
	}
	return provider.Version{Key: id, Rev: rev}, nil
}
