package content

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
)

// Progress is how far a snapshot or a hash has come.
type Progress struct {
	Files, TotalFiles int
	Bytes, TotalBytes int64
	// Path is the file being read (relative, "/" separators).
	Path string
}

// bufSize is the size of the one buffer a snapshot reads through.
const bufSize = 1 << 20

// reader hashes source files through one buffer.
type reader struct {
	ctx      context.Context
	buf      []byte
	sum      hash.Hash
	progress func(Progress)
	p        Progress
}

func newReader(ctx context.Context, l *listing, progress func(Progress)) *reader {
	return &reader{
		ctx:      ctx,
		buf:      make([]byte, bufSize),
		sum:      sha256.New(),
		progress: progress,
		p:        Progress{TotalFiles: len(l.files), TotalBytes: l.bytes},
	}
}

func (r *reader) report() {
	if r.progress != nil {
		r.progress(r.p)
	}
}

// read copies the file f to w (nil: nowhere) and returns its SHA-256.
// Outcomes: the hash; errs.Invalid when the file cannot be read;
// errs.Conflict when it changed while it was read (its size, its
// modification time, or the file at its path).
func (r *reader) read(f sourceFile, w io.Writer) (string, error) {
	r.p.Path = f.rel
	in, err := os.Open(f.abs)
	if err != nil {
		return "", errs.Target(errs.Invalid, "PkgSourcePath", "%s cannot be read: %w", f.abs, unwrapPath(err))
	}
	defer in.Close()
	before, err := in.Stat()
	if err != nil {
		return "", errs.Target(errs.Invalid, "PkgSourcePath", "%s cannot be read: %w", f.abs, unwrapPath(err))
	}
	if before.Size() != f.size || !before.ModTime().Equal(f.modTime) {
		return "", changed(f.abs)
	}
	r.sum.Reset()
	var n int64
	for {
		if err := r.ctx.Err(); err != nil {
			return "", err
		}
		k, rerr := in.Read(r.buf)
		if k > 0 {
			r.sum.Write(r.buf[:k])
			if w != nil {
				if _, err := w.Write(r.buf[:k]); err != nil {
					return "", fmt.Errorf("content library: %w", err)
				}
			}
			n += int64(k)
			r.p.Bytes += int64(k)
			r.report()
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", errs.Target(errs.Invalid, "PkgSourcePath", "%s cannot be read: %w", f.abs, unwrapPath(rerr))
		}
	}
	after, err := in.Stat()
	if err != nil {
		return "", errs.Target(errs.Invalid, "PkgSourcePath", "%s cannot be read: %w", f.abs, unwrapPath(err))
	}
	if n != f.size || after.Size() != f.size || !after.ModTime().Equal(f.modTime) {
		return "", changed(f.abs)
	}
	if now, err := os.Stat(f.abs); err != nil || !os.SameFile(now, after) {
		return "", changed(f.abs)
	}
	r.p.Files++
	r.report()
	return hex.EncodeToString(r.sum.Sum(nil)), nil
}

func changed(path string) error {
	return errs.Target(errs.Conflict, "PkgSourcePath", "%s changed while it was read; nothing was stored: try again once the source folder is no longer being written", path)
}

// HashDir computes the manifest of a folder without storing anything: the
// SHA-256 of every file and the content hash. It is what a client computes
// over a downloaded content folder to check it against the content's hash
// (Manifest.Hash), and what "tsprov content hash" prints. progress, when
// not nil, is called as the files are read. Outcomes are those of
// Snapshot.
func HashDir(ctx context.Context, dir string, progress func(Progress)) (*Manifest, error) {
	l, err := list(ctx, dir, nil)
	if err != nil {
		return nil, err
	}
	r := newReader(ctx, l, progress)
	m := &Manifest{Folders: l.folders, Files: make([]File, 0, len(l.files))}
	for _, f := range l.files {
		h, err := r.read(f, nil)
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, File{Path: f.rel, Size: f.size, SHA256: h})
	}
	m.seal()
	return m, nil
}

// Snapshot copies the source folder src into the library and returns its
// manifest, published under Manifest.ID. The files are read once, through
// one buffer, and written aside into the library's tmp folder; a file the
// library holds already is not stored again. Only once every new file is
// durably stored are they named by their hash, and the manifest is written
// last, in one rename: a snapshot that fails or is interrupted leaves no
// manifest, and the files it left behind are removed by Collect.
// progress, when not nil, is called as files are read.
// Outcomes: the manifest; errs.Invalid when src does not exist, is not a
// folder, cannot be read, is or holds or lies in a protected folder
// (Protect), or holds a symlink that leaves it (or loops, or
// points to nothing) or an entry that is neither a file nor a folder;
// errs.Conflict when a file changed while it was read; ctx's error when it
// ends first.
func (l *Library) Snapshot(ctx context.Context, src string, progress func(Progress)) (*Manifest, error) {
	return l.SnapshotSince(ctx, src, "", progress)
}

// SnapshotSince is Snapshot for a source whose previous snapshot is the
// manifest prev ("": none, or not in the library any more): a file that
// has the path and size it had there is read once without being copied,
// and copied (read again) only when its bytes turn out to have changed;
// so a refresh of a large, mostly unchanged folder writes little.
func (l *Library) SnapshotSince(ctx context.Context, src, prev string, progress func(Progress)) (*Manifest, error) {
	ls, err := list(ctx, src, l.protected)
	if err != nil {
		return nil, err
	}
	before := map[string]File{}
	if prev != "" {
		if pm, err := l.Manifest(prev); err == nil {
			for _, f := range pm.Files {
				before[f.Path] = f
			}
		}
	}
	r := newReader(ctx, ls, progress)
	type pending struct{ tmp, hash string }
	var todo []pending
	var reused []sourceFile // files the library held already
	var reusedHash []string
	seen := map[string]bool{}
	defer func() {
		for _, p := range todo {
			_ = os.Remove(p.tmp) // no-op for those renamed into place
		}
	}()
	m := &Manifest{Folders: ls.folders, Files: make([]File, 0, len(ls.files))}
	for _, f := range ls.files {
		if old, ok := before[f.rel]; ok && old.Size == f.size && l.HasBlob(old.SHA256) {
			// Probably unchanged: hashed without a copy.
			h, err := r.read(f, nil)
			if err != nil {
				return nil, err
			}
			if h == old.SHA256 && l.keepBlob(h) {
				m.Files = append(m.Files, File{Path: f.rel, Size: f.size, SHA256: h})
				if !seen[h] {
					seen[h] = true
					reused = append(reused, f)
					reusedHash = append(reusedHash, h)
				}
				continue
			}
			r.p.Files-- // read again below, with its copy
			r.p.Bytes -= f.size
		}
		tmp, err := os.CreateTemp(filepath.Join(l.dir, tmpDir), "blob-*")
		if err != nil {
			return nil, fmt.Errorf("content library: %w", err)
		}
		h, err := r.read(f, tmp)
		if cerr := tmp.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("content library: %w", cerr)
		}
		if err != nil {
			_ = os.Remove(tmp.Name())
			return nil, err
		}
		m.Files = append(m.Files, File{Path: f.rel, Size: f.size, SHA256: h})
		if seen[h] {
			_ = os.Remove(tmp.Name())
			continue
		}
		if l.keepBlob(h) {
			_ = os.Remove(tmp.Name())
			reused = append(reused, f)
			reusedHash = append(reusedHash, h)
			seen[h] = true
			continue
		}
		seen[h] = true
		todo = append(todo, pending{tmp.Name(), h})
	}
	// Durable first, then named: a blob is never visible before its bytes
	// are on disk.
	for _, p := range todo {
		if err := syncFile(p.tmp); err != nil {
			return nil, err
		}
	}
	dirs := map[string]bool{}
	for _, p := range todo {
		dst := l.blobPath(p.hash)
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return nil, fmt.Errorf("content library: %w", err)
		}
		if err := os.Rename(p.tmp, dst); err != nil {
			return nil, fmt.Errorf("content library: %w", err)
		}
		dirs[filepath.Dir(dst)] = true
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return nil, err
		}
	}
	m.seal()
	if err := l.publishManifest(m); err != nil {
		return nil, err
	}
	// A Collect that looked at a reused blob just before the snapshot
	// marked it used may have removed it since: such a blob is stored
	// again from the source (its bytes checked against the hash).
	for i, f := range reused {
		if err := l.restoreBlob(r, f, reusedHash[i]); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// restoreBlob stores the source file f again as blob hash when the
// library no longer holds it.
func (l *Library) restoreBlob(r *reader, f sourceFile, hash string) error {
	if l.HasBlob(hash) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Join(l.dir, tmpDir), "blob-*")
	if err != nil {
		return fmt.Errorf("content library: %w", err)
	}
	defer os.Remove(tmp.Name())
	got, err := r.read(f, tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("content library: %w", cerr)
	}
	if err != nil {
		return err
	}
	if got != hash {
		return changed(f.abs)
	}
	if err := syncFile(tmp.Name()); err != nil {
		return err
	}
	dst := l.blobPath(hash)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("content library: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("content library: %w", err)
	}
	return syncDir(filepath.Dir(dst))
}

// keepBlob reports whether the library holds the blob already and, if so,
// marks it as just used so that a concurrent Collect spares it.
func (l *Library) keepBlob(hash string) bool {
	now := time.Now()
	err := os.Chtimes(l.blobPath(hash), now, now)
	return err == nil
}

func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("content library: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("content library: sync: %w", err)
	}
	return nil
}
