package adminservice

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tsprov/tsprov/internal/byterange"
	"github.com/tsprov/tsprov/internal/errs"
)

// ContentPath is where distribution point agents read the content
// library: GET …/{ContentID}/manifest (e.g. PS100004.2), GET
// …/blobs/{sha256} (Range and ETag), GET …/packages/{PackageID} (the
// package's newest content id), GET …/packages/{PackageID}/snapshot (how
// far the snapshot of its source under way on this server has come).
const ContentPath = "/tsprov/v1/content"

// manifestFile is one file of a manifest answer.
type manifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// manifestBody is the answer of GET …/content/{ContentID}/manifest.
type manifestBody struct {
	ContentID     string         `json:"contentId"`
	ContentNumber int64          `json:"contentNumber"`
	PackageID     string         `json:"packageId"`
	SourceVersion int64          `json:"sourceVersion"`
	Hash          string         `json:"hash"`
	Size          int64          `json:"size"`
	Folders       []string       `json:"folders"`
	Files         []manifestFile `json:"files"`
}

// content serves GET /tsprov/v1/content/{seg}/{leaf}: a manifest, a blob
// or a package's current content.
func (h *Handler) content(w http.ResponseWriter, r *http.Request) {
	seg, leaf := r.PathValue("seg"), r.PathValue("leaf")
	switch {
	case seg == "blobs":
		h.contentBlob(w, r, leaf)
	case seg == "packages":
		h.currentContent(w, r, leaf)
	case leaf == "manifest":
		h.contentManifest(w, r, seg)
	default:
		h.notFound(w, r)
	}
}

func (h *Handler) contentManifest(w http.ResponseWriter, r *http.Request, id string) {
	c, err := h.prov.Content(r.Context(), id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body := manifestBody{
		ContentID:     c.ContentID,
		ContentNumber: c.Number,
		PackageID:     c.PackageID,
		SourceVersion: c.SourceVersion,
		Hash:          c.Hash,
		Size:          c.Manifest.Size,
		Folders:       c.Manifest.Folders,
		Files:         make([]manifestFile, len(c.Manifest.Files)),
	}
	if body.Folders == nil {
		body.Folders = []string{}
	}
	for i, f := range c.Manifest.Files {
		body.Files[i] = manifestFile(f)
	}
	writeJSON(w, http.StatusOK, body)
}

func (h *Handler) currentContent(w http.ResponseWriter, r *http.Request, packageID string) {
	c, err := h.prov.CurrentContent(r.Context(), packageID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"packageId":     c.PackageID,
		"current":       c.ContentID,
		"contentNumber": c.Number,
		"sourceVersion": c.SourceVersion,
		"hash":          c.Hash,
	})
}

// snapshotProgress serves GET …/packages/{PackageID}/snapshot.
func (h *Handler) snapshotProgress(w http.ResponseWriter, r *http.Request) {
	sp, err := h.prov.Snapshot(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body := map[string]any{
		"packageId":  sp.PackageID,
		"done":       sp.Done,
		"started":    sp.Started.UTC().Format(time.RFC3339Nano),
		"files":      sp.Files,
		"totalFiles": sp.TotalFiles,
		"bytes":      sp.Bytes,
		"totalBytes": sp.TotalBytes,
		"path":       sp.Path,
	}
	if sp.Done {
		body["ended"] = sp.Ended.UTC().Format(time.RFC3339Nano)
	}
	writeJSON(w, http.StatusOK, body)
}

// contentBlob serves a file of the library by its SHA-256, with Range
// (206), If-None-Match and If-Range on its ETag (the hash); a name that
// is no SHA-256 is 404, as an absent one.
func (h *Handler) contentBlob(w http.ResponseWriter, r *http.Request, hash string) {
	f, err := h.prov.ContentBlob(r.Context(), hash)
	if errs.Is(err, errs.Invalid) {
		err = errs.Target(errs.NotFound, hash, "the content library holds no file %q: a file is named by its SHA-256 (64 lower-case hex digits)", hash)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer f.Close()
	if rg := r.Header.Get("Range"); rg != "" {
		info, err := f.Stat()
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if !byterange.Satisfiable(rg, info.Size()) {
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(info.Size(), 10))
			h.writeError(w, r, errs.Target(errs.RangeNotSatisfiable, "Range", "range %q is outside the file, which has %d bytes", rg, info.Size()))
			return
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+hash+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, f)
}
