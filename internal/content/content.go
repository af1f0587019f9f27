// Package content is the content library: package source folders
// snapshotted into a content-addressed store. Every file is a blob named by
// the lower-case hex SHA-256 of its bytes and stored once however many
// contents hold it; a content version is a manifest that lists its files.
// A snapshot streams (memory does not grow with the size of the files), is
// written aside and becomes visible in one rename, and Collect removes what
// no content version holds.
//
// Layout of a library folder:
//
//	blobs/ab/abcd…    the bytes of one file, named by its SHA-256
//	manifests/<id>    one manifest (JSON), named by its ID
//	tmp/              files being written; never read, emptied by Collect
//
// The package knows nothing of packages, versions or the store: the
// provider records which manifest is which content version.
package content

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/tsprov/tsprov/internal/errs"
)

// Library is a content library in a folder. It is safe for concurrent use
// by several goroutines and by several processes that share the folder.
type Library struct {
	dir       string
	protected []string // resolved folders no snapshot may read (Protect)
}

// Open opens the library in dir, creating the folder and its layout when
// they do not exist yet.
func Open(dir string) (*Library, error) {
	if dir == "" {
		return nil, errs.E(errs.Invalid, "content library: no folder given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("content library %s: %w", dir, err)
	}
	for _, sub := range []string{blobsDir, manifestsDir, tmpDir} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o750); err != nil {
			return nil, fmt.Errorf("content library %s: %w", abs, err)
		}
	}
	l := &Library{dir: abs}
	if err := l.Protect(abs); err != nil {
		return nil, err
	}
	return l, nil
}

// Protect adds folders that no snapshot may read: a source folder that is
// one of them, lies inside one or holds one is refused. The library's own
// folder is protected from the start; a server adds its data folder (its
// database and secret key). Call it before the library is shared.
func (l *Library) Protect(dirs ...string) error {
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return fmt.Errorf("content library: %w", err)
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		l.protected = append(l.protected, abs)
	}
	return nil
}

// Dir returns the library's folder.
func (l *Library) Dir() string { return l.dir }

const (
	blobsDir     = "blobs"
	manifestsDir = "manifests"
	tmpDir       = "tmp"
)

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidHash reports whether h is a lower-case hex SHA-256, the name of a
// blob.
func ValidHash(h string) bool { return hexHash.MatchString(h) }

func (l *Library) blobPath(hash string) string {
	return filepath.Join(l.dir, blobsDir, hash[:2], hash)
}

func (l *Library) manifestPath(id string) string {
	return filepath.Join(l.dir, manifestsDir, id+".json")
}

// Blob opens the blob named hash (lower-case hex SHA-256) for reading.
// Outcomes: the open file; errs.Invalid when hash is not a lower-case hex
// SHA-256; errs.NotFound when the library does not hold it.
func (l *Library) Blob(hash string) (*os.File, error) {
	if !ValidHash(hash) {
		return nil, errs.Target(errs.Invalid, "sha256", "%q is not a SHA-256 (64 lower-case hex digits)", hash)
	}
	f, err := os.Open(l.blobPath(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.Target(errs.NotFound, hash, "the content library holds no file with SHA-256 %s", hash)
	}
	if err != nil {
		return nil, fmt.Errorf("content library: %w", err)
	}
	return f, nil
}

// HasBlob reports whether the library holds the blob named hash.
func (l *Library) HasBlob(hash string) bool {
	if !ValidHash(hash) {
		return false
	}
	_, err := os.Stat(l.blobPath(hash))
	return err == nil
}
