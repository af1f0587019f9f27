package dp

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/byterange"
	"github.com/tsprov/tsprov/internal/distribution"
	"github.com/tsprov/tsprov/internal/errs"
)

// The virtual folders clients download from (content.md §6.2): plain, and
// the one clients without a certificate use.
var packageRoots = []string{"SMS_DP_SMSPKG$", "NOCERT_SMS_DP_SMSPKG$"}

// Handler serves the agent's routes: the dispatches of the site, its
// status, and the clients' content URLs:
//
//	/SMS_DP_SMSPKG$/<PackageID>              listing of the installed version
//	/SMS_DP_SMSPKG$/<PackageID>.<ver>/       listing of that version, when installed
//	/SMS_DP_SMSPKG$/<PackageID>.<ver>/<path> a file (HEAD, GET, Range)
//	/SMS_DP_SMSPKG$/<PackageID>.<ver>/sccm?/<path>  a file, as BITS asks for it
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(distribution.NotifyPath, a.notify)
	mux.HandleFunc(StatusPath, a.status)
	mux.HandleFunc("/", a.serveContent)
	return mux
}

// writeError answers err with the OData error envelope and the status of
// its kind, as every tsprov route does.
func (a *Agent) writeError(w http.ResponseWriter, r *http.Request, err error) {
	adminservice.WriteError(w, r, a.log, err)
}

// index is a content's files and folders by lower-case path.
type index struct {
	files    map[string]File
	children map[string][]entry // folder ("" for the root) → its entries, sorted
}

type entry struct {
	name string
	dir  bool
	size int64
}

// indexOf returns the index of m, built at its first use and kept with
// it (so it goes when the content goes).
func indexOf(m *Manifest) *index {
	m.indexOnce.Do(func() { m.index = buildIndex(m) })
	return m.index
}

func buildIndex(m *Manifest) *index {
	ix := &index{files: map[string]File{}, children: map[string][]entry{"": nil}}
	known := map[string]bool{"": true} // folders listed in their parent
	addDir := func(p string) {
		for p != "" && p != "." {
			k := strings.ToLower(p)
			if known[k] {
				return
			}
			known[k] = true
			if _, ok := ix.children[k]; !ok {
				ix.children[k] = nil
			}
			parent := path.Dir(p)
			if parent == "." {
				parent = ""
			}
			ix.children[strings.ToLower(parent)] = append(ix.children[strings.ToLower(parent)], entry{name: path.Base(p), dir: true})
			p = parent
		}
	}
	for _, d := range m.Folders {
		addDir(d)
	}
	for _, f := range m.Files {
		ix.files[strings.ToLower(f.Path)] = f
		parent := path.Dir(f.Path)
		if parent == "." {
			parent = ""
		}
		addDir(parent)
		ix.children[strings.ToLower(parent)] = append(ix.children[strings.ToLower(parent)], entry{name: path.Base(f.Path), size: f.Size})
	}
	for _, es := range ix.children {
		sort.Slice(es, func(i, j int) bool {
			if es[i].dir != es[j].dir {
				return es[i].dir
			}
			return strings.ToLower(es[i].name) < strings.ToLower(es[j].name)
		})
	}
	return ix
}

// serveContent serves the clients' URLs.
func (a *Agent) serveContent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		a.writeError(w, r, errs.E(errs.MethodNotAllowed, "%s: content is read with GET or HEAD", r.Method))
		return
	}
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	root := ""
	for _, p := range packageRoots {
		if strings.EqualFold(segs[0], p) {
			root = p
		}
	}
	if root == "" || len(segs) < 2 || segs[1] == "" {
		a.writeError(w, r, errs.E(errs.NotFound, "no content at %s: a distribution point serves /SMS_DP_SMSPKG$/<PackageID>[.<version>]/…", r.URL.Path))
		return
	}
	id, rest := segs[1], segs[2:]
	var m *Manifest
	var ok bool
	if strings.Contains(id, ".") {
		m, ok = a.lib.content(id)
	} else {
		m, ok = a.lib.current(id)
	}
	if !ok {
		a.writeError(w, r, errs.Target(errs.NotFound, id, "%s is not installed on this distribution point", id))
		return
	}
	rel := strings.Join(rest, "/")
	// …/sccm?/<relative path>: the path is the query.
	if len(rest) > 0 && strings.EqualFold(rest[len(rest)-1], "sccm") && strings.HasPrefix(r.URL.RawQuery, "/") {
		q, err := url.PathUnescape(r.URL.RawQuery)
		if err != nil {
			a.writeError(w, r, errs.Wrap(errs.Invalid, err, "the path after sccm? is not URL-encoded"))
			return
		}
		rel = strings.Join(append(rest[:len(rest)-1:len(rest)-1], strings.Split(strings.TrimPrefix(q, "/"), "/")...), "/")
	}
	rel = strings.Trim(strings.ReplaceAll(rel, `\`, "/"), "/")
	ix := indexOf(m)
	k := strings.ToLower(rel)
	if f, ok := ix.files[k]; ok {
		a.serveFile(w, r, f)
		return
	}
	if _, ok := ix.children[k]; ok {
		a.list(w, r, root, m, rel, ix.children[k])
		return
	}
	a.writeError(w, r, errs.Target(errs.NotFound, rel, "%s has no file or folder %q", m.ContentID, rel))
}

// serveFile answers HEAD (Content-Length) and GET (Range: 206; a range
// outside the file: 416) from the verified blob.
func (a *Agent) serveFile(w http.ResponseWriter, r *http.Request, f File) {
	if !a.lib.isVerified(f.SHA256) {
		// Not checked in this run, or changed on disk since: checked now,
		// and never served with bytes other than the ones its hash names.
		buf := a.buffer()
		ok, err := a.lib.verify(f.SHA256, f.Size, *buf)
		a.buffers.Put(buf)
		if err != nil || !ok {
			a.log.Warn("DP: a file to serve is missing or damaged; fetching it again", "sha256", f.SHA256, "path", f.Path, "err", err)
			a.wakeUp()
			w.Header().Set("Retry-After", "10")
			a.writeError(w, r, errs.Target(errs.Unavailable, f.Path, "%s is missing or damaged on this distribution point and is being fetched again", f.Path))
			return
		}
	}
	file, err := os.Open(a.lib.blobPath(f.SHA256))
	if err != nil {
		a.wakeUp()
		w.Header().Set("Retry-After", "10")
		a.writeError(w, r, errs.Target(errs.Unavailable, f.Path, "%s is missing on this distribution point and is being fetched again", f.Path))
		return
	}
	defer file.Close()
	st, err := file.Stat()
	if err == nil && st.Size() != f.Size {
		err = fmt.Errorf("%s: %d bytes on disk, the manifest says %d", a.lib.blobPath(f.SHA256), st.Size(), f.Size)
	}
	if err != nil {
		a.writeError(w, r, errs.Wrap(errs.Internal, err, "serve %s", f.Path))
		return
	}
	if rg := r.Header.Get("Range"); rg != "" && !byterange.Satisfiable(rg, f.Size) {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(f.Size, 10))
		a.writeError(w, r, errs.Target(errs.RangeNotSatisfiable, "Range", "range %q is outside %s, which has %d bytes", rg, f.Path, f.Size))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, "", st.ModTime(), file)
}

// list writes an IIS-style listing: one line per entry, folders marked
// <dir>, links to the files under <PackageID>.<ver>/.
func (a *Agent) list(w http.ResponseWriter, r *http.Request, root string, m *Manifest, rel string, entries []entry) {
	base := "/" + root + "/" + m.ContentID
	if rel != "" {
		base += "/" + escapePath(rel)
	}
	title := html.EscapeString(r.Host + " - " + base + "/")
	var b strings.Builder
	fmt.Fprintf(&b, "<html><head><title>%s</title></head><body><H1>%s</H1><hr>\n\n<pre>", title, title)
	for _, e := range entries {
		href := html.EscapeString(base + "/" + url.PathEscape(e.name))
		if e.dir {
			fmt.Fprintf(&b, "%24s <A HREF=\"%s\">%s</A><br>", "&lt;dir&gt;", href, html.EscapeString(e.name))
		} else {
			fmt.Fprintf(&b, "%24d <A HREF=\"%s\">%s</A><br>", e.size, href, html.EscapeString(e.name))
		}
	}
	b.WriteString("</pre><hr></body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(b.Len()))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write([]byte(b.String()))
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
