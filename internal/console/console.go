// Package console serves tsprov's web console: the assets built from web/
// and committed under dist, embedded in the binary, so that `tsprov serve`
// serves the console at / on a machine without Node.js. It has one job:
// answering the GET and HEAD requests of the console's own paths; every
// other request goes to the API behind it.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// AssetsPrefix is where the built scripts and styles are served; their
// names carry a hash of their content, so they may be cached for good.
const AssetsPrefix = "/assets/"

// ClientRoutes are the paths the console's router shows (answered with
// index.html so that a reload or a bookmark opens the same screen): / and
// everything under /packages. No API route begins so.
var ClientRoutes = []string{"/", "/packages", "/packages/"}

// CSP allows the page to load scripts, styles, images and connections from
// its own origin only: no inline script, no other site, no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded file with what its answer needs.
type asset struct {
	body  []byte
	etag  string
	ctype string
}

// contentTypes of the files the build writes (not the system's MIME table,
// which differs between machines).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// Assets is the embedded console.
type Assets struct {
	index  *asset
	assets map[string]*asset // by name under assets/
}

// Load reads the embedded files. A build without index.html is an error:
// the console's assets were not built.
func Load() (*Assets, error) { return load(dist) }

func load(fsys fs.FS) (*Assets, error) {
	root, err := fs.Sub(fsys, "dist")
	if err != nil {
		return nil, err
	}
	a := &Assets{assets: map[string]*asset{}}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := contentTypes[path.Ext(name)]
		if ct == "" {
			ct = "application/octet-stream"
		}
		f := &asset{body: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: ct}
		switch {
		case name == "index.html":
			a.index = f
		case strings.HasPrefix(name, "assets/"):
			a.assets[strings.TrimPrefix(name, "assets/")] = f
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if a.index == nil {
		return nil, fs.ErrNotExist
	}
	return a, nil
}

// isClientRoute reports whether p is a path the console's router shows.
func isClientRoute(p string) bool {
	for _, r := range ClientRoutes {
		if p == r || (strings.HasSuffix(r, "/") && r != "/" && strings.HasPrefix(p, r)) {
			return true
		}
	}
	return false
}

// Handler answers GET and HEAD of the console's paths — its client routes
// with index.html, /assets/ with the built files — and passes every other
// request (other methods, other paths, unclean paths, a missing asset) to
// next, unchanged.
func (a *Assets) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !clean(p) {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case strings.HasPrefix(p, AssetsPrefix):
			f := a.assets[strings.TrimPrefix(p, AssetsPrefix)]
			if f == nil {
				next.ServeHTTP(w, r)
				return
			}
			serve(w, r, f, "public, max-age=31536000, immutable")
		case isClientRoute(p):
			serve(w, r, a.index, "no-cache")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// clean reports whether p is already in its clean form (no //, ., ..),
// a trailing slash allowed.
func clean(p string) bool {
	c := path.Clean(p)
	return c == p || c+"/" == p
}

func serve(w http.ResponseWriter, r *http.Request, f *asset, cache string) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", f.etag)
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
