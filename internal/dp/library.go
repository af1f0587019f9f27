package dp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Manifest is a content as the site describes it
// (GET /tsprov/v1/content/{id}/manifest).
type Manifest struct {
	ContentID     string   `json:"contentId"`
	ContentNumber int64    `json:"contentNumber"`
	PackageID     string   `json:"packageId"`
	SourceVersion int64    `json:"sourceVersion"`
	Hash          string   `json:"hash"`
	Size          int64    `json:"size"`
	Files         []File   `json:"files"`
	Folders       []string `json:"folders,omitempty"`

	indexOnce sync.Once
	index     *index // the files and folders by path, for serving
}

// File is one file of a content.
type File struct {
	Path   string `json:"path"` // slash-separated, relative to the content root
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // lower-case hex
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// check refuses a manifest a DP must not act on: a content id that is not
// <PackageID>.<SourceVersion>, a path that leaves the content folder or
// is not a plain relative path, a hash that is not SHA-256 hex, a
// negative size, the same path twice (without regard to case, as clients
// on Windows see it).
func (m *Manifest) check(contentID string) error {
	if !strings.EqualFold(m.ContentID, contentID) {
		return fmt.Errorf("manifest of %s names content %q", contentID, m.ContentID)
	}
	if !strings.EqualFold(fmt.Sprintf("%s.%d", m.PackageID, m.SourceVersion), m.ContentID) {
		return fmt.Errorf("manifest of %s: package %q version %d do not make its id", contentID, m.PackageID, m.SourceVersion)
	}
	seen := map[string]bool{}
	for i := range m.Files {
		f := &m.Files[i]
		f.SHA256 = strings.ToLower(f.SHA256)
		if err := checkRel(f.Path); err != nil {
			return fmt.Errorf("manifest of %s: %w", contentID, err)
		}
		if !sha256Hex.MatchString(f.SHA256) {
			return fmt.Errorf("manifest of %s: %s: hash %q is not SHA-256", contentID, f.Path, f.SHA256)
		}
		if f.Size < 0 {
			return fmt.Errorf("manifest of %s: %s: negative size", contentID, f.Path)
		}
		k := strings.ToLower(f.Path)
		if seen[k] {
			return fmt.Errorf("manifest of %s: %s listed twice", contentID, f.Path)
		}
		seen[k] = true
	}
	for _, d := range m.Folders {
		if err := checkRel(d); err != nil {
			return fmt.Errorf("manifest of %s: %w", contentID, err)
		}
	}
	return nil
}

// checkRel accepts a slash-separated relative path without empty, . or
// .. segments, backslashes, colons or NUL characters.
func checkRel(p string) error {
	if p == "" || strings.ContainsAny(p, "\\:\x00") || strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return fmt.Errorf("path %q is not a plain relative path", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("path %q leaves the content folder", p)
		}
	}
	return nil
}

// library is the DP's store: verified blobs named by their SHA-256, the
// manifests of the contents installed, and which content of each package
// is installed. A blob is in blobs/ only once its hash was verified; a
// download under way is in partial/; a content is installed once its
// manifest is in contents/ and the package names it in packages.json.
type library struct {
	dir string

	mu        sync.RWMutex
	installed map[string]string    // PackageID (upper case) → content id
	manifests map[string]*Manifest // content id (upper case) → manifest
	// verified are the blobs whose SHA-256 was checked in this run of the
	// agent, with their size and modification time then: one that
	// changed since is checked again before it is served.
	verified map[string]proof
	// checking serialises the checks of one blob (striped by the first
	// byte of its hash), so that clients asking at once for a file not
	// checked yet wait for one check instead of each reading it.
	checking [256]sync.Mutex
}

// proof is what a blob's file was when its hash was checked.
type proof struct {
	size int64
	mod  time.Time
}

func openLibrary(dir string) (*library, error) {
	for _, sub := range []string{"blobs", "partial", "contents"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("DP store: %w", err)
		}
	}
	l := &library{dir: dir, installed: map[string]string{}, manifests: map[string]*Manifest{}, verified: map[string]proof{}}
	raw, err := os.ReadFile(filepath.Join(dir, "packages.json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("DP store: %w", err)
	}
	if err == nil {
		if err := json.Unmarshal(raw, &l.installed); err != nil {
			return nil, fmt.Errorf("DP store: packages.json: %w", err)
		}
	}
	for pkg, id := range l.installed {
		m, err := l.readManifest(id)
		if err != nil {
			delete(l.installed, pkg) // an install cut short: fetched again
			continue
		}
		l.manifests[strings.ToUpper(id)] = m
	}
	return l, nil
}

func (l *library) blobPath(hash string) string {
	return filepath.Join(l.dir, "blobs", hash[:2], hash)
}

func (l *library) partialPath(hash string) string {
	return filepath.Join(l.dir, "partial", hash)
}

func (l *library) has(hash string) bool {
	_, err := os.Stat(l.blobPath(hash))
	return err == nil
}

// markVerified records that the blob's hash was just checked.
func (l *library) markVerified(hash string) {
	st, err := os.Stat(l.blobPath(hash))
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		delete(l.verified, hash)
		return
	}
	l.verified[hash] = proof{st.Size(), st.ModTime()}
}

// unverify forgets the checks of the files of m: they are checked again
// before they are served or reported installed.
func (l *library) unverify(m *Manifest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range m.Files {
		delete(l.verified, f.SHA256)
	}
}

// isVerified reports whether the blob's hash was checked in this run and
// its file has not changed since.
func (l *library) isVerified(hash string) bool {
	l.mu.RLock()
	p, ok := l.verified[hash]
	l.mu.RUnlock()
	if !ok {
		return false
	}
	st, err := os.Stat(l.blobPath(hash))
	return err == nil && st.Size() == p.size && st.ModTime().Equal(p.mod)
}

// verify checks the blob's bytes against its name and size, reading it
// through buf. Outcomes: true when they match (the blob is then marked
// verified); false when the blob is missing or its bytes are not those
// the hash names, in which case it is deleted (it is fetched again); an
// error when it cannot be read.
func (l *library) verify(hash string, size int64, buf []byte) (bool, error) {
	if b, err := hex.DecodeString(hash[:2]); err == nil {
		mu := &l.checking[b[0]]
		mu.Lock()
		defer mu.Unlock()
		if l.isVerified(hash) { // checked meanwhile
			return true, nil
		}
	}
	f, err := os.Open(l.blobPath(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, buf)
	f.Close()
	if err != nil {
		return false, err
	}
	if n == size && hex.EncodeToString(h.Sum(nil)) == hash {
		l.markVerified(hash)
		return true, nil
	}
	l.mu.Lock()
	delete(l.verified, hash)
	l.mu.Unlock()
	if err := os.Remove(l.blobPath(hash)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return false, nil
}

func (l *library) readManifest(id string) (*Manifest, error) {
	raw, err := os.ReadFile(filepath.Join(l.dir, "contents", strings.ToUpper(id)+".json"))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// writeFile writes data to name through a file beside it, synced and
// renamed, so that a crash leaves the old file or the new one.
func writeFile(name string, data []byte) error {
	tmp := name + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// install records content m as the package's installed content (every
// blob verified before). The content it replaces goes, with the blobs no
// other content holds.
func (l *library) install(m *Manifest) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(l.dir, "contents", strings.ToUpper(m.ContentID)+".json"), raw); err != nil {
		return fmt.Errorf("DP store: %w", err)
	}
	l.mu.Lock()
	next := map[string]string{}
	for k, v := range l.installed {
		next[k] = v
	}
	pkg := strings.ToUpper(m.PackageID)
	old := next[pkg]
	next[pkg] = m.ContentID
	if err := l.saveLocked(next); err != nil {
		l.mu.Unlock()
		return err
	}
	l.manifests[strings.ToUpper(m.ContentID)] = m
	_ = os.Remove(l.pendingPath(m.ContentID))
	if old != "" && !strings.EqualFold(old, m.ContentID) {
		delete(l.manifests, strings.ToUpper(old))
		_ = os.Remove(filepath.Join(l.dir, "contents", strings.ToUpper(old)+".json"))
	}
	l.mu.Unlock()
	return l.collect()
}

// remove forgets the package's content, and the blobs no other content
// holds.
func (l *library) remove(packageID string) error {
	l.mu.Lock()
	pkg := strings.ToUpper(packageID)
	old, ok := l.installed[pkg]
	if !ok {
		l.mu.Unlock()
		return nil
	}
	next := map[string]string{}
	for k, v := range l.installed {
		if k != pkg {
			next[k] = v
		}
	}
	if err := l.saveLocked(next); err != nil {
		l.mu.Unlock()
		return err
	}
	delete(l.manifests, strings.ToUpper(old))
	_ = os.Remove(filepath.Join(l.dir, "contents", strings.ToUpper(old)+".json"))
	l.mu.Unlock()
	return l.collect()
}

func (l *library) saveLocked(next map[string]string) error {
	raw, err := json.Marshal(next)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(l.dir, "packages.json"), raw); err != nil {
		return fmt.Errorf("DP store: %w", err)
	}
	l.installed = next
	return nil
}

// pend records that content m is being fetched: its blobs, verified one
// by one, are kept by collect until it is installed or dropped (unpend),
// so that a fetch cut short (the agent killed) resumes without fetching
// them again.
func (l *library) pend(m *Manifest) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeFile(l.pendingPath(m.ContentID), raw)
}

func (l *library) pendingPath(contentID string) string {
	return filepath.Join(l.dir, "contents", strings.ToUpper(contentID)+".pending")
}

// unpend drops the pending contents but keep (content ids, upper case),
// and what was fetched of them.
func (l *library) unpend(keep map[string]bool) error {
	entries, err := os.ReadDir(filepath.Join(l.dir, "contents"))
	if err != nil {
		return err
	}
	dropped := false
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".pending")
		if ok && !keep[id] {
			if err := os.Remove(filepath.Join(l.dir, "contents", e.Name())); err != nil {
				return err
			}
			dropped = true
		}
	}
	if dropped {
		return l.collect()
	}
	return nil
}

// collect deletes the blobs, and the partial downloads, that no installed
// or pending content holds.
func (l *library) collect() error {
	l.mu.RLock()
	keep := map[string]bool{}
	for _, m := range l.manifests {
		for _, f := range m.Files {
			keep[f.SHA256] = true
		}
	}
	l.mu.RUnlock()
	entries, err := os.ReadDir(filepath.Join(l.dir, "contents"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".pending") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(l.dir, "contents", e.Name()))
		if err != nil {
			return err
		}
		var m Manifest
		if json.Unmarshal(raw, &m) == nil {
			for _, f := range m.Files {
				keep[f.SHA256] = true
			}
		}
	}
	// Downloads cut short of blobs no content wants any more go too.
	parts, err := os.ReadDir(filepath.Join(l.dir, "partial"))
	if err != nil {
		return err
	}
	for _, e := range parts {
		if !keep[e.Name()] {
			if err := os.Remove(filepath.Join(l.dir, "partial", e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	root := filepath.Join(l.dir, "blobs")
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !keep[d.Name()] {
			l.mu.Lock()
			delete(l.verified, d.Name())
			l.mu.Unlock()
			return os.Remove(p)
		}
		return nil
	})
}

// current returns the installed content of a package and its manifest.
func (l *library) current(packageID string) (*Manifest, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	id, ok := l.installed[strings.ToUpper(packageID)]
	if !ok {
		return nil, false
	}
	m, ok := l.manifests[strings.ToUpper(id)]
	return m, ok
}

// content returns an installed content by id.
func (l *library) content(contentID string) (*Manifest, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	m, ok := l.manifests[strings.ToUpper(contentID)]
	return m, ok
}

// packages lists the installed packages and contents, by package id.
func (l *library) packages() map[string]string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make(map[string]string, len(l.installed))
	for k, v := range l.installed {
		out[k] = v
	}
	return out
}

// sortedPackages is packages' keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
