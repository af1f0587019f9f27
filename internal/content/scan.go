package content

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
)

// sourceFile is a file found in a source folder, with what its metadata
// said when the folder was listed.
type sourceFile struct {
	rel     string // slash-separated, relative to the root
	abs     string // the path to open (a symlink's target)
	size    int64
	modTime time.Time
}

// listing is a source folder listed: every folder and file.
type listing struct {
	folders []string
	files   []sourceFile
	bytes   int64
}

// list walks the source folder root. Outcomes: the listing; errs.Invalid
// when root does not exist, is not a folder or cannot be read, when it is,
// holds or lies in one of the protected folders, when a
// symlink leaves it, loops or dangles, when an entry is neither a file
// nor a folder, or when a name holds a "\" (Windows cannot hold it).
func list(ctx context.Context, root string, protected []string) (*listing, error) {
	fi, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errs.Target(errs.Invalid, "PkgSourcePath", "source folder %s does not exist", root)
	case err != nil:
		return nil, errs.Target(errs.Invalid, "PkgSourcePath", "source folder %s cannot be read: %w", root, unwrapPath(err))
	case !fi.IsDir():
		return nil, errs.Target(errs.Invalid, "PkgSourcePath", "source %s is not a folder", root)
	}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, errs.Target(errs.Invalid, "PkgSourcePath", "source folder %s cannot be resolved: %w", root, unwrapPath(err))
	}
	if real, err = filepath.Abs(real); err != nil {
		return nil, fmt.Errorf("source folder %s: %w", root, err)
	}
	for _, p := range protected {
		if within(real, p) || within(p, real) {
			return nil, errs.Target(errs.Invalid, "PkgSourcePath", "source folder %s is refused: it is, holds or lies in %s, a folder of the server (its data or its content library)", root, p)
		}
	}
	w := &walker{ctx: ctx, root: root, realRoot: real, l: &listing{}}
	if err := w.dir(root, real, "", map[string]bool{real: true}); err != nil {
		return nil, err
	}
	return w.l, nil
}

type walker struct {
	ctx      context.Context
	root     string
	realRoot string
	l        *listing
}

// dir lists the folder at path (real is its resolved path, rel its path
// in the content; open holds the resolved folders being walked, to refuse
// loops).
func (w *walker) dir(path, real, rel string, open map[string]bool) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return errs.Target(errs.Invalid, "PkgSourcePath", "folder %s of the source cannot be read: %w", path, unwrapPath(err))
	}
	for _, e := range entries {
		name := e.Name()
		if strings.Contains(name, `\`) {
			return errs.Target(errs.Invalid, "PkgSourcePath", "%s: a name with \"\\\" cannot be a Windows file name", filepath.Join(path, name))
		}
		abs := filepath.Join(path, name)
		childRel := name
		if rel != "" {
			childRel = rel + "/" + name
		}
		childReal := filepath.Join(real, name)
		info, err := os.Lstat(abs)
		if err != nil {
			return errs.Target(errs.Invalid, "PkgSourcePath", "%s cannot be read: %w", abs, unwrapPath(err))
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(abs)
			if err != nil {
				return errs.Target(errs.Invalid, "PkgSourcePath", "symlink %s points to nothing that can be read: %w", abs, unwrapPath(err))
			}
			if target, err = filepath.Abs(target); err != nil {
				return fmt.Errorf("symlink %s: %w", abs, err)
			}
			if !within(w.realRoot, target) {
				return errs.Target(errs.Invalid, "PkgSourcePath", "symlink %s leaves the source folder %s (it points to %s)", abs, w.root, target)
			}
			if info, err = os.Stat(target); err != nil {
				return errs.Target(errs.Invalid, "PkgSourcePath", "%s cannot be read: %w", target, unwrapPath(err))
			}
			childReal = target
			if info.IsDir() && open[target] {
				return errs.Target(errs.Invalid, "PkgSourcePath", "symlink %s makes a loop (it points to %s, a folder that holds it)", abs, target)
			}
		}
		switch {
		case info.IsDir():
			w.l.folders = append(w.l.folders, childRel)
			open[childReal] = true
			err := w.dir(abs, childReal, childRel, open)
			delete(open, childReal)
			if err != nil {
				return err
			}
		case info.Mode().IsRegular():
			w.l.files = append(w.l.files, sourceFile{rel: childRel, abs: childReal, size: info.Size(), modTime: info.ModTime()})
			w.l.bytes += info.Size()
		default:
			return errs.Target(errs.Invalid, "PkgSourcePath", "%s is neither a file nor a folder (%s)", abs, info.Mode().Type())
		}
	}
	return nil
}

// within reports whether p is root or below it (both resolved, absolute).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// unwrapPath drops the *fs.PathError around a cause whose message names
// the path already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
