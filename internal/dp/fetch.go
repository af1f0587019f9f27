package dp

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
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Progress is how far the agent has got with a content.
type Progress struct {
	ContentID             string
	Files, FilesTotal     int
	BytesDone, BytesTotal int64
	BytesPerSecond        int64
	Done                  bool
	Err                   error
}

// errHashMismatch marks a blob whose bytes do not have the hash that
// names it: it is thrown away, never installed.
var errHashMismatch = errors.New("hash mismatch")

// install brings the package to the content the site assigned: the
// manifest, then every blob the DP lacks (several at a time, each
// verified), then the content is installed and reported. Outcomes: nil
// when the content is installed (reported installed); the error that
// stopped it (reported failed), with the verified blobs kept for the
// next attempt.
func (a *Agent) install(ctx context.Context, as assignment) error {
	if m, ok := a.lib.current(as.PackageID); ok && strings.EqualFold(m.ContentID, as.ContentID) {
		// Held already. Its files are checked once per run of the agent
		// (validate); then it is said installed once per run (the site
		// may have lost track, after a restore), not at every poll.
		key := strings.ToUpper(m.ContentID)
		checked, whole, err := a.validate(ctx, m)
		if err != nil {
			return err
		}
		if whole {
			a.mu.Lock()
			done := a.confirmed[key]
			a.mu.Unlock()
			if done && checked == 0 {
				return nil
			}
			err := a.report(ctx, report{PackageID: as.PackageID, ContentID: m.ContentID, Kind: "installed", BytesTotal: m.Size})
			if err == nil {
				a.mu.Lock()
				a.confirmed[key] = true
				a.mu.Unlock()
			}
			return err
		}
		// A file was missing or damaged: fetched again below.
	}
	err := a.fetch(ctx, as)
	if err != nil && ctx.Err() == nil {
		a.log.Warn("DP: install failed", "content", as.ContentID, "err", err)
		_ = a.report(ctx, report{PackageID: as.PackageID, ContentID: as.ContentID, Kind: "failed", Error: err.Error()})
	}
	return err
}

// validate checks the files of an installed content whose hash was not
// checked in this run of the agent (after a restart: all of them), and
// deletes those whose bytes are not the ones their SHA-256 names; the site
// shows the package CONTENT_MONITORING meanwhile. Outcomes: how many blobs
// were checked; whether every file is there and verified; an error when
// a file cannot be read.
func (a *Agent) validate(ctx context.Context, m *Manifest) (int, bool, error) {
	var todo []File
	seen := map[string]bool{}
	for _, f := range m.Files {
		if !seen[f.SHA256] && !a.lib.isVerified(f.SHA256) {
			seen[f.SHA256] = true
			todo = append(todo, f)
		}
	}
	if len(todo) == 0 {
		return 0, true, nil
	}
	_ = a.report(ctx, report{PackageID: m.PackageID, ContentID: m.ContentID, Kind: "validating", BytesTotal: m.Size})
	buf := a.buffer()
	defer a.buffers.Put(buf)
	var bad []string
	for _, f := range todo {
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		ok, err := a.lib.verify(f.SHA256, f.Size, *buf)
		if err != nil {
			return 0, false, fmt.Errorf("validate %s: %s: %w", m.ContentID, f.Path, err)
		}
		if !ok {
			bad = append(bad, f.Path)
		}
	}
	if len(bad) > 0 {
		msg := fmt.Sprintf("%d file(s) missing or with a wrong SHA-256 on the distribution point (%s): fetched again", len(bad), strings.Join(bad[:min(len(bad), 5)], ", "))
		a.log.Warn("DP: content damaged", "content", m.ContentID, "files", len(bad), "first", bad[0])
		_ = a.report(ctx, report{PackageID: m.PackageID, ContentID: m.ContentID, Kind: "validating", BytesTotal: m.Size, Error: msg})
	}
	return len(todo), len(bad) == 0, nil
}

func (a *Agent) fetch(ctx context.Context, as assignment) error {
	m, err := a.site.manifest(ctx, as.ContentID)
	if err != nil {
		return fmt.Errorf("manifest of %s: %w", as.ContentID, err)
	}
	if err := m.check(as.ContentID); err != nil {
		return err
	}
	if !strings.EqualFold(m.PackageID, as.PackageID) {
		return fmt.Errorf("manifest of %s is of package %s", as.ContentID, m.PackageID)
	}
	if err := a.lib.pend(m); err != nil {
		return err
	}
	var need []File
	seen := map[string]bool{}
	var total, done int64
	for _, f := range m.Files {
		if seen[f.SHA256] {
			continue
		}
		seen[f.SHA256] = true
		if a.lib.has(f.SHA256) {
			continue
		}
		need = append(need, f)
		total += f.Size
	}
	var moved atomic.Int64 // bytes of need held: verified, or in partial/
	for _, f := range need {
		if st, err := os.Stat(a.lib.partialPath(f.SHA256)); err == nil && st.Size() <= f.Size {
			done += st.Size()
		}
	}
	moved.Store(done)
	var filesDone atomic.Int64
	start := time.Now()
	startDone := done
	progress := func(final bool, err error) Progress {
		n := moved.Load()
		p := Progress{ContentID: m.ContentID, Files: int(filesDone.Load()), FilesTotal: len(need), BytesDone: n, BytesTotal: total, Done: final, Err: err}
		if secs := time.Since(start).Seconds(); secs > 0 {
			p.BytesPerSecond = int64(float64(n-startDone) / secs)
		}
		return p
	}
	stop := make(chan struct{})
	var tick sync.WaitGroup
	tick.Add(1)
	go func() {
		defer tick.Done()
		t := time.NewTicker(a.cfg.ReportEvery)
		defer t.Stop()
		for {
			p := progress(false, nil)
			a.showProgress(p)
			_ = a.report(ctx, report{PackageID: m.PackageID, ContentID: m.ContentID, Kind: "progress",
				BytesDone: p.BytesDone, BytesTotal: p.BytesTotal, BytesPerSecond: p.BytesPerSecond})
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()

	work := make(chan File)
	errc := make(chan error, len(need))
	var wg sync.WaitGroup
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(a.cfg.Parallel, max(len(need), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				if err := a.fetchBlob(fctx, f, &moved); err != nil {
					errc <- fmt.Errorf("%s (%s): %w", f.Path, f.SHA256, err)
					cancel()
					continue
				}
				filesDone.Add(1)
			}
		}()
	}
feed:
	for _, f := range need {
		select {
		case work <- f:
		case <-fctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errc)
	close(stop)
	tick.Wait()
	if err := <-errc; err != nil {
		a.showProgress(progress(true, err))
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, f := range m.Files { // every file of the content held and verified
		if !a.lib.has(f.SHA256) {
			return fmt.Errorf("%s: blob %s missing after the fetch", f.Path, f.SHA256)
		}
	}
	if err := a.lib.install(m); err != nil {
		return err
	}
	p := progress(true, nil)
	a.showProgress(p)
	a.log.Info("DP: content installed", "content", m.ContentID, "files", len(m.Files), "fetched_bytes", p.BytesDone-startDone)
	return a.report(ctx, report{PackageID: m.PackageID, ContentID: m.ContentID, Kind: "installed", BytesDone: p.BytesDone, BytesTotal: p.BytesTotal, BytesPerSecond: p.BytesPerSecond})
}

// fetchBlob brings one blob into the library: it resumes the partial
// download it holds (hashing what it has, then asking the site for the
// rest with a Range), appends while hashing, and moves the file in place
// only when its size and SHA-256 are those of the manifest, synced. A file
// with another hash is deleted (errHashMismatch). moved counts the bytes
// held.
func (a *Agent) fetchBlob(ctx context.Context, f File, moved *atomic.Int64) error {
	part := a.lib.partialPath(f.SHA256)
	file, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return err
	}
	have := st.Size()
	h := sha256.New()
	if have > f.Size {
		moved.Add(-have)
		if err := file.Truncate(0); err != nil {
			return err
		}
		have = 0
	}
	if have > 0 {
		if _, err := io.Copy(h, io.NewSectionReader(file, 0, have)); err != nil {
			return err
		}
	}
	if have < f.Size {
		if have, err = a.download(ctx, f, file, part, have, h, moved); err != nil {
			return err
		}
	}
	if have != f.Size {
		return fmt.Errorf("the site sent %d bytes, the manifest says %d", have, f.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		file.Close()
		_ = os.Remove(part)
		moved.Add(-have)
		return fmt.Errorf("%w: the bytes the site sent have SHA-256 %s", errHashMismatch, got)
	}
	if err := file.Sync(); err != nil {
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	final := a.lib.blobPath(f.SHA256)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	if err := os.Rename(part, final); err != nil {
		return err
	}
	a.lib.markVerified(f.SHA256)
	return nil
}

// download appends the bytes of blob f from have on to file (at part),
// hashing them into h. Outcomes: the file's length; what stopped the
// download, with every byte received written for the next attempt.
func (a *Agent) download(ctx context.Context, f File, file *os.File, part string, have int64, h hash.Hash, moved *atomic.Int64) (int64, error) {
	body, ranged, err := a.site.blob(ctx, f.SHA256, have)
	if err != nil {
		return have, err
	}
	defer body.Close()
	if !ranged && have > 0 { // the site sent it all again
		moved.Add(-have)
		if err := file.Truncate(0); err != nil {
			return have, err
		}
		h.Reset()
		have = 0
	}
	buf := downloadBuffers.Get().(*[]byte)
	defer downloadBuffers.Put(buf)
	w, err := openBlobWriter(file, part, have, *buf)
	if err != nil {
		return have, err
	}
	defer w.close()
	limited := io.LimitReader(body, f.Size-have+1) // one byte too many shows a site sending more
	for {
		p, rerr := w.fill(limited)
		if len(p) > 0 {
			h.Write(p)
			have += int64(len(p))
			moved.Add(int64(len(p)))
			a.received.Add(int64(len(p)))
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			_ = w.flush() // kept for the next attempt
			return have, rerr
		}
	}
	return have, w.flush()
}
