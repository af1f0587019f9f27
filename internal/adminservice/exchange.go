package adminservice

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/cmexport"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
)

// ExportPath answers the Export-CMTaskSequence zip of task sequence
// packages; ImportPath takes one in.
const (
	ExportPath = "/tsprov/v1/export"
	ImportPath = "/tsprov/v1/import"
)

// MaxImportZip bounds the zip an import uploads (the zip holds objects
// only: content travels beside it). The body is spooled to a temporary
// file, so memory does not grow with it.
const MaxImportZip = 64 << 20

// maxMapFile bounds the map file part of an import; maxFormField each
// other form field.
const (
	maxMapFile   = 1 << 20
	maxFormField = 4 << 10
)

// export serves POST /tsprov/v1/export {"PackageIDs": ["PS100001"],
// "WithDependence": true, "WithContent": false, "Comment": "…"}: the zip,
// streamed as application/zip. WithDependence defaults to true, as the
// console's wizard.
func (h *Handler) export(w http.ResponseWriter, r *http.Request) {
	raw, err := h.readJSON(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	req := struct {
		PackageIDs     []string `json:"PackageIDs"`
		WithDependence *bool    `json:"WithDependence"`
		WithContent    bool     `json:"WithContent"`
		Comment        string   `json:"Comment"`
	}{}
	if raw != nil {
		if err := json.Unmarshal(raw, &req); err != nil {
			h.writeError(w, r, errs.E(errs.Invalid, `the body of an export is {"PackageIDs": ["…"], "WithDependence": true, "WithContent": false, "Comment": "…"}: %w`, err))
			return
		}
	}
	opts := provider.ExportOptions{WithDependence: req.WithDependence == nil || *req.WithDependence, WithContent: req.WithContent, Comment: req.Comment}
	a, err := h.prov.Export(r.Context(), req.PackageIDs, opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	name := "export.zip"
	if len(req.PackageIDs) == 1 {
		name = req.PackageIDs[0] + ".zip"
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	sw := &statusWriter{w: w, status: http.StatusOK}
	if err := cmexport.Write(sw, a, time.Now()); err != nil {
		if !sw.started {
			h.writeError(w, r, errs.E(errs.Internal, "write the export: %w", err))
			return
		}
		panic(http.ErrAbortHandler) // half a zip must not pass for a whole one
	}
}

// importZip serves POST /tsprov/v1/import: the zip as the body
// (Content-Type application/zip) with the options in the query, or
// multipart/form-data with the zip in the part "file", a map file in the
// part "map", and the options as form fields. Options: dryRun=true,
// partial=true, action=<ImportActionType> or action=<Class>=<Action>
// (repeatable), map=SRC=DST (repeatable), contentPath=<folder the server
// can read holding the content exported beside the zip>. The answer is the
// provider.ImportResult: each object's outcome and the plan of
// references; a refused import is 400 with one detail per problem.
func (h *Handler) importZip(w http.ResponseWriter, r *http.Request) {
	file, size, form, mapData, err := h.spoolImport(w, r)
	if file != nil {
		defer func() { file.Close(); os.Remove(file.Name()) }()
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	opts, err := importOptions(form, mapData)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	a, err := cmexport.Read(file, size, cmexport.DefaultLimits)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	res, err := h.prov.Import(r.Context(), a, opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// spoolImport copies the uploaded zip to a temporary file (at most
// MaxImportZip bytes) and returns it with the options sent with it. The
// caller removes the file.
func (h *Handler) spoolImport(w http.ResponseWriter, r *http.Request) (*os.File, int64, url.Values, []byte, error) {
	form := r.URL.Query()
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body := http.MaxBytesReader(w, r.Body, MaxImportZip+maxMapFile) // room for the map and the fields
	switch ct {
	case "application/zip", "application/x-zip-compressed", "application/octet-stream":
		f, n, err := spool(body)
		return f, n, form, nil, err
	case "multipart/form-data":
	default:
		return nil, 0, nil, nil, errs.E(errs.UnsupportedMediaType, "send the zip as the body with Content-Type: application/zip, or as the part \"file\" of multipart/form-data")
	}
	var zipFile *os.File
	var size int64
	var mapData []byte
	fail := func(err error) (*os.File, int64, url.Values, []byte, error) { return zipFile, 0, nil, nil, err }
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(uploadError(err, "the multipart body"))
		}
		switch part.FormName() {
		case "file":
			if zipFile != nil {
				return fail(errs.Target(errs.Invalid, "file", "the multipart body holds two zip files"))
			}
			if zipFile, size, err = spool(part); err != nil {
				return fail(err)
			}
		case "map":
			data, err := io.ReadAll(io.LimitReader(part, maxMapFile+1))
			if err != nil {
				return fail(uploadError(err, "the map part"))
			}
			if len(data) > maxMapFile {
				return fail(errs.Target(errs.TooLarge, "map", "the map file is larger than %d bytes", maxMapFile))
			}
			mapData = data
		default:
			v, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
			if err != nil {
				return fail(uploadError(err, "form field "+part.FormName()))
			}
			if len(v) > maxFormField {
				return fail(errs.Target(errs.TooLarge, part.FormName(), "the form field %s is longer than %d bytes", part.FormName(), maxFormField))
			}
			form.Add(part.FormName(), string(v))
		}
	}
	if zipFile == nil {
		return fail(errs.Target(errs.Invalid, "file", "the multipart body has no part named \"file\" holding the zip"))
	}
	return zipFile, size, form, mapData, nil
}

// spool copies r to a temporary file, at most MaxImportZip bytes.
func spool(r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "tsprov-import-*.zip")
	if err != nil {
		return nil, 0, errs.E(errs.Internal, "spool the upload: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(r, MaxImportZip+1))
	if err != nil {
		return f, 0, uploadError(err, "the zip")
	}
	if n > MaxImportZip {
		return f, 0, errs.Target(errs.TooLarge, "file", "the zip is larger than %d bytes", MaxImportZip)
	}
	return f, n, nil
}

func uploadError(err error, what string) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errs.E(errs.TooLarge, "the upload is larger than %d bytes", tooBig.Limit)
	}
	return errs.E(errs.Invalid, "cannot read %s: %w", what, err)
}

// importOptions reads the options of an import from the query or form.
func importOptions(form url.Values, mapData []byte) (provider.ImportOptions, error) {
	var opts provider.ImportOptions
	for name, vals := range form {
		switch strings.ToLower(name) {
		case "dryrun", "partial":
			b, err := strconv.ParseBool(vals[len(vals)-1])
			if err != nil {
				return opts, errs.Target(errs.Invalid, name, "%s is true or false, not %q", name, vals[len(vals)-1])
			}
			if strings.EqualFold(name, "dryrun") {
				opts.DryRun = b
			} else {
				opts.Partial = b
			}
		case "action":
			for _, v := range vals {
				class, act, found := strings.Cut(v, "=")
				if !found {
					class, act = "", v
				}
				a, err := provider.ParseImportAction(act)
				if err != nil {
					return opts, err
				}
				if opts.Actions == nil {
					opts.Actions = map[string]provider.ImportAction{}
				}
				opts.Actions[class] = a
			}
		case "contentpath":
			opts.ContentPath = vals[len(vals)-1]
		case "map":
			for _, v := range vals {
				from, to, ok := strings.Cut(v, "=")
				if !ok || from == "" || to == "" {
					return opts, errs.Target(errs.Invalid, "map", "map=%q is not SOURCEID=TARGETID", v)
				}
				if opts.Map == nil {
					opts.Map = map[string]string{}
				}
				opts.Map[from] = to
			}
		default:
			return opts, errs.Target(errs.Invalid, name, "unknown import option %s; the options are dryRun, partial, action, map, contentPath", name)
		}
	}
	if mapData != nil {
		m, err := cmexport.ParseMap(mapData)
		if err != nil {
			return opts, err
		}
		if opts.Map == nil {
			opts.Map = map[string]string{}
		}
		for k, v := range m {
			if _, dup := opts.Map[k]; dup {
				return opts, errs.Target(errs.Invalid, "map", "%s is mapped both in the map file and in a map option", k)
			}
			opts.Map[k] = v
		}
	}
	return opts, nil
}
