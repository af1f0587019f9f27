package content

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
)

// File is one file of a content.
type File struct {
	// Path is relative to the content root, with "/" separators.
	Path string `json:"path"`
	// Size in bytes.
	Size int64 `json:"size"`
	// SHA256 is the lower-case hex SHA-256 of the bytes: the blob's name.
	SHA256 string `json:"sha256"`
}

// Manifest lists a content: every folder and every file with its size and
// SHA-256. Files and Folders are sorted with Less.
type Manifest struct {
	// ID names the manifest in the library: the lower-case hex SHA-256 of
	// its canonical listing (paths as spelled, sizes and file hashes), so
	// two snapshots of the same tree have the same ID.
	ID string `json:"id"`
	// Hash is the content hash (HashSHA256 of the listing, upper-case hex).
	Hash string `json:"hash"`
	// Size is the total of the file sizes in bytes.
	Size int64 `json:"size"`
	// Folders are every folder below the root (empty ones included).
	Folders []string `json:"folders"`
	Files   []File   `json:"files"`
}

// Less orders paths as manifests list them: ordinal and case-insensitive
// (upper-cased, as Windows' OrdinalIgnoreCase), ties broken ordinally.
func Less(a, b string) bool { return compareNames(a, b) < 0 }

func compareNames(a, b string) int {
	if c := strings.Compare(strings.ToUpper(a), strings.ToUpper(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// seal sorts the listing and sets Size, ID and Hash from it.
func (m *Manifest) seal() {
	slices.SortFunc(m.Folders, compareNames)
	slices.SortFunc(m.Files, func(a, b File) int { return compareNames(a.Path, b.Path) })
	m.Size = 0
	h := sha256.New()
	for _, d := range m.Folders {
		fmt.Fprintf(h, "d %s\n", strconv.Quote(d))
	}
	for _, f := range m.Files {
		m.Size += f.Size
		fmt.Fprintf(h, "f %s %d %s\n", strconv.Quote(f.Path), f.Size, f.SHA256)
	}
	m.ID = hex.EncodeToString(h.Sum(nil))
	m.Hash, _ = m.ContentHash(AlgSHA256)
}

// Check verifies that m is well formed: relative, clean paths; file
// hashes that name blobs; an ID that matches the listing.
func (m *Manifest) Check() error {
	for _, d := range m.Folders {
		if err := checkRel(d); err != nil {
			return err
		}
	}
	for _, f := range m.Files {
		if err := checkRel(f.Path); err != nil {
			return err
		}
		if !ValidHash(f.SHA256) || f.Size < 0 {
			return errs.E(errs.Invalid, "manifest: file %q has no valid SHA-256 or size", f.Path)
		}
	}
	c := Manifest{Folders: slices.Clone(m.Folders), Files: slices.Clone(m.Files)}
	c.seal()
	if c.ID != m.ID {
		return errs.E(errs.Invalid, "manifest %s: its listing does not match its ID", m.ID)
	}
	return nil
}

func checkRel(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || p != filepath.ToSlash(filepath.Clean(filepath.FromSlash(p))) || p == ".." || strings.HasPrefix(p, "../") {
		return errs.E(errs.Invalid, "manifest: %q is not a clean relative path", p)
	}
	return nil
}

// publishManifest writes m aside and renames it into place (durably).
// Publishing the same manifest twice is harmless: the name is its content.
func (l *Library) publishManifest(m *Manifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("content library: %w", err)
	}
	return l.writeAtomic(l.manifestPath(m.ID), b)
}

// Manifest returns the manifest named id. Outcomes: the manifest;
// errs.NotFound when the library holds none by that name (or id is not a
// manifest name); an error when the stored manifest is damaged.
func (l *Library) Manifest(id string) (*Manifest, error) {
	if !ValidHash(id) {
		return nil, errs.Target(errs.NotFound, id, "the content library holds no manifest %q", id)
	}
	b, err := os.ReadFile(l.manifestPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.Target(errs.NotFound, id, "the content library holds no manifest %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("content library: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("content library: manifest %s is damaged: %w", id, err)
	}
	if m.ID != id {
		return nil, fmt.Errorf("content library: manifest %s names itself %s", id, m.ID)
	}
	return &m, nil
}

// writeAtomic writes b to a temporary file in the library, syncs it and
// renames it to dst, then syncs dst's folder.
func (l *Library) writeAtomic(dst string, b []byte) error {
	f, err := os.CreateTemp(filepath.Join(l.dir, tmpDir), "write-*")
	if err != nil {
		return fmt.Errorf("content library: %w", err)
	}
	name := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, dst)
	}
	if err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("content library: %w", err)
	}
	return syncDir(filepath.Dir(dst))
}

// syncDir makes the names in dir durable. A folder cannot be opened for
// syncing on Windows, so there it does nothing.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("content library: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("content library: sync %s: %w", dir, err)
	}
	return nil
}
