package media

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Dir is a Sink that writes a media folder: into a folder beside the
// target, renamed into place by Commit, so that a failure leaves nothing.
type Dir struct {
	out, tmp string
}

// NewDir prepares to write the media folder out, which must not exist or
// be empty.
func NewDir(out string) (*Dir, error) {
	if err := checkEmpty(out); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(out)), ".media-*")
	if err != nil {
		return nil, err
	}
	return &Dir{out: out, tmp: tmp}, nil
}

func checkEmpty(out string) error {
	entries, err := os.ReadDir(out)
	switch {
	case err == nil && len(entries) > 0:
		return fmt.Errorf("%s is not empty: media are written only into a new or empty folder", out)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return err
	}
	return nil
}

// Create creates the file rel (slash-separated) of the media.
func (d *Dir) Create(rel string) (io.WriteCloser, error) {
	p, err := d.path(rel)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return os.Create(p)
}

// path is rel under the folder being written; a path that would leave it
// is refused.
func (d *Dir) path(rel string) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("media file %q is outside the media folder", rel)
	}
	return filepath.Join(d.tmp, filepath.FromSlash(rel)), nil
}

// Commit moves the written folder into place.
func (d *Dir) Commit() error {
	if err := checkEmpty(d.out); err != nil {
		return err
	}
	if err := os.Remove(d.out); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.Rename(d.tmp, d.out)
}

// Discard removes what was written (after Commit, nothing).
func (d *Dir) Discard() { os.RemoveAll(d.tmp) }

// Zip is a Sink that writes the media as a zip: content files stored as
// they are (they are mostly compressed already), policies deflated.
type Zip struct {
	w   *zip.Writer
	now time.Time
}

// NewZip writes a zip into w; Close ends it.
func NewZip(w io.Writer, now time.Time) *Zip { return &Zip{w: zip.NewWriter(w), now: now} }

// Create adds the file rel to the zip.
func (z *Zip) Create(rel string) (io.WriteCloser, error) {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return nil, fmt.Errorf("media file %q is outside the media folder", rel)
	}
	method := zip.Deflate
	if strings.HasPrefix(rel, "SMS/PKG/") {
		method = zip.Store
	}
	w, err := z.w.CreateHeader(&zip.FileHeader{Name: rel, Method: method, Modified: z.now})
	if err != nil {
		return nil, err
	}
	return nopCloser{w}, nil
}

// Close writes the zip's directory.
func (z *Zip) Close() error { return z.w.Close() }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Verify checks every file the index of the media folder dir lists: that
// it is there, its size and its SHA-256. It names every file that differs
// and fails when one does.
func Verify(dir string) (*Index, error) {
	raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(IndexPath)))
	if err != nil {
		return nil, fmt.Errorf("%s is no media folder of tsprov: %w", dir, err)
	}
	var idx Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", IndexPath, err)
	}
	var bad []string
	for _, f := range idx.Files {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
			bad = append(bad, f.Path+": outside the media folder")
			continue
		}
		file, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			bad = append(bad, f.Path+": missing")
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, file)
		file.Close()
		switch got := hex.EncodeToString(h.Sum(nil)); {
		case err != nil:
			bad = append(bad, f.Path+": "+err.Error())
		case n != f.Size:
			bad = append(bad, fmt.Sprintf("%s: %d bytes, want %d", f.Path, n, f.Size))
		case !strings.EqualFold(got, f.SHA256):
			bad = append(bad, fmt.Sprintf("%s: SHA-256 %s, want %s", f.Path, got, f.SHA256))
		}
	}
	if len(bad) > 0 {
		return &idx, fmt.Errorf("%d of %d files differ: %s", len(bad), len(idx.Files), strings.Join(bad, "; "))
	}
	return &idx, nil
}
