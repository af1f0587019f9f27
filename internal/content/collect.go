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
)

// DefaultGrace is how old an unreferenced manifest, blob or temporary file
// must be before Collect removes it: younger ones may belong to a snapshot
// that is being written or whose manifest is not recorded yet.
const DefaultGrace = time.Hour

// CollectStats says what Collect removed.
type CollectStats struct {
	Manifests, Blobs, Temporary int
	Bytes                       int64 // of the blobs removed
}

// Collect removes what no live content holds: the manifests not named in
// live, the blobs that no live manifest lists, and abandoned temporary
// files. Anything modified less than grace ago is kept (0: DefaultGrace),
// so a snapshot under way, or published but not yet recorded, is safe.
// A manifest named in live but absent is an error and nothing is removed.
func (l *Library) Collect(ctx context.Context, live []string, grace time.Duration) (CollectStats, error) {
	var st CollectStats
	if grace <= 0 {
		grace = DefaultGrace
	}
	cutoff := time.Now().Add(-grace)
	keepManifest := map[string]bool{}
	for _, id := range live {
		keepManifest[id] = true
	}
	entries, err := os.ReadDir(filepath.Join(l.dir, manifestsDir))
	if err != nil {
		return st, fmt.Errorf("content library: %w", err)
	}
	var dead []string
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || keepManifest[id] {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().After(cutoff) {
			keepManifest[id] = true // young: may be about to be recorded
			continue
		}
		dead = append(dead, e.Name())
	}
	held := map[string]bool{}
	for id := range keepManifest {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		m, err := l.Manifest(id)
		if err != nil {
			return st, fmt.Errorf("content library: collect: live content %s: %w", id, err)
		}
		for _, f := range m.Files {
			held[f.SHA256] = true
		}
	}
	for _, name := range dead {
		if err := os.Remove(filepath.Join(l.dir, manifestsDir, name)); err == nil {
			st.Manifests++
		}
	}
	err = filepath.WalkDir(filepath.Join(l.dir, blobsDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || held[d.Name()] {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.ModTime().After(cutoff) {
			return nil
		}
		if os.Remove(p) == nil {
			st.Blobs++
			st.Bytes += info.Size()
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, fmt.Errorf("content library: collect: %w", err)
	}
	tmps, err := os.ReadDir(filepath.Join(l.dir, tmpDir))
	if err != nil {
		return st, fmt.Errorf("content library: %w", err)
	}
	for _, e := range tmps {
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			if os.Remove(filepath.Join(l.dir, tmpDir, e.Name())) == nil {
				st.Temporary++
			}
		}
	}
	return st, nil
}
