package content

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/tsprov/tsprov/internal/errs"
)

// writeTree creates files (path → content) and folders (path ending "/")
// under dir.
func writeTree(t *testing.T, dir string, tree map[string]string) {
	t.Helper()
	for p, body := range tree {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func openLib(t *testing.T) *Library {
	t.Helper()
	l, err := Open(filepath.Join(t.TempDir(), "content"))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSnapshotStoresEachFileOnce(t *testing.T) {
	l := openLib(t)
	src1, src2 := t.TempDir(), t.TempDir()
	writeTree(t, src1, map[string]string{
		"setup.exe":         "installer bytes",
		"Drivers/net.inf":   "[Version]\nClass=Net",
		"Drivers/copy.inf":  "[Version]\nClass=Net", // same bytes as net.inf
		"Docs/readme.txt":   "read me",
		"Empty/":            "",
		"Drivers/x64/a.sys": "sys",
	})
	writeTree(t, src2, map[string]string{
		"setup.exe":   "installer bytes", // shared with src1
		"new/one.txt": "only here",
	})
	m1, err := l.Snapshot(context.Background(), src1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := countFiles(t, filepath.Join(l.Dir(), blobsDir)); got != 4 {
		t.Errorf("blobs after the first snapshot = %d, want 4 (5 files, two with the same bytes)", got)
	}
	wantFiles := map[string]string{
		"setup.exe": sha("installer bytes"), "Drivers/net.inf": sha("[Version]\nClass=Net"),
		"Drivers/copy.inf": sha("[Version]\nClass=Net"), "Docs/readme.txt": sha("read me"), "Drivers/x64/a.sys": sha("sys"),
	}
	if len(m1.Files) != len(wantFiles) {
		t.Fatalf("manifest lists %d files, want %d: %+v", len(m1.Files), len(wantFiles), m1.Files)
	}
	for _, f := range m1.Files {
		if wantFiles[f.Path] != f.SHA256 {
			t.Errorf("file %s: sha256 %s, want %s", f.Path, f.SHA256, wantFiles[f.Path])
		}
		b, err := l.Blob(f.SHA256)
		if err != nil {
			t.Fatalf("blob of %s: %v", f.Path, err)
		}
		got, _ := io.ReadAll(b)
		b.Close()
		if sha(string(got)) != f.SHA256 || int64(len(got)) != f.Size {
			t.Errorf("blob of %s holds other bytes", f.Path)
		}
	}
	wantOrder := []string{"Docs/readme.txt", "Drivers/copy.inf", "Drivers/net.inf", "Drivers/x64/a.sys", "setup.exe"}
	for i, f := range m1.Files {
		if f.Path != wantOrder[i] {
			t.Errorf("file %d = %s, want %s (sorted case-insensitively)", i, f.Path, wantOrder[i])
		}
	}
	if want := []string{"Docs", "Drivers", "Drivers/x64", "Empty"}; strings.Join(m1.Folders, ",") != strings.Join(want, ",") {
		t.Errorf("folders = %v, want %v", m1.Folders, want)
	}
	if _, err := l.Snapshot(context.Background(), src2, nil); err != nil {
		t.Fatal(err)
	}
	if got := countFiles(t, filepath.Join(l.Dir(), blobsDir)); got != 5 {
		t.Errorf("blobs after the second snapshot = %d, want 5 (only new/one.txt is new)", got)
	}
	back, err := l.Manifest(m1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash != m1.Hash || len(back.Files) != len(m1.Files) {
		t.Errorf("stored manifest differs from the returned one")
	}
	if err := back.Check(); err != nil {
		t.Errorf("stored manifest does not check: %v", err)
	}
	if countFiles(t, filepath.Join(l.Dir(), tmpDir)) != 0 {
		t.Errorf("snapshot left temporary files")
	}
}

func TestSnapshotIDFollowsContent(t *testing.T) {
	l := openLib(t)
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a.txt": "one", "b/c.txt": "two"})
	m1, err := l.Snapshot(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := l.Snapshot(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != m1.ID || again.Hash != m1.Hash {
		t.Errorf("an unchanged folder gave a new manifest: %s/%s, then %s/%s", m1.ID, m1.Hash, again.ID, again.Hash)
	}
	// Touching a file without changing its bytes changes nothing.
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(src, "a.txt"), future, future); err != nil {
		t.Fatal(err)
	}
	touched, err := l.Snapshot(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if touched.ID != m1.ID {
		t.Errorf("touching a file changed the manifest ID")
	}
	writeTree(t, src, map[string]string{"b/c.txt": "twO"})
	m2, err := l.Snapshot(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m2.ID == m1.ID || m2.Hash == m1.Hash {
		t.Errorf("a changed byte kept the manifest ID or hash")
	}
}

// utf16le is the test's own spelling of a string in the hash stream.
func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestContentHashDefinition(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{
		"Zeta.txt":          "z",
		"alpha.TXT":         "a",
		"Sub/Inner.bin":     "inner",
		"Sub/deep/leaf.dat": "leaf",
		"Sub/Empty/":        "",
		"b/":                "",
	})
	m, err := HashDir(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	up := func(s string) string { return strings.ToUpper(sha(s)) }
	// The stream spelled out: each folder in pre-order, ascending; its
	// subfolders, its files, its files' SHA-256 values.
	stream := []string{
		`b`, `sub`, `alpha.txt`, `zeta.txt`, up("a"), up("z"), // root
		// b: nothing
		`sub\deep`, `sub\empty`, `sub\inner.bin`, up("inner"), // Sub
		`sub\deep\leaf.dat`, up("leaf"), // Sub/deep
		// Sub/Empty: nothing
	}
	for _, tc := range []struct {
		alg uint32
		sum func([]byte) []byte
	}{
		{AlgSHA256, func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
		{AlgSHA1, func(b []byte) []byte { s := sha1.Sum(b); return s[:] }},
		{AlgMD5, func(b []byte) []byte { s := md5.Sum(b); return s[:] }},
	} {
		var b []byte
		for _, s := range stream {
			b = append(b, utf16le(s)...)
		}
		want := strings.ToUpper(hex.EncodeToString(tc.sum(b)))
		got, err := m.ContentHash(tc.alg)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("ContentHash(%d) = %s, want %s", tc.alg, got, want)
		}
	}
	if m.Hash != mustHash(t, m, AlgSHA256) {
		t.Errorf("Manifest.Hash is not the SHA-256 content hash")
	}
	for _, alg := range []uint32{0, 32769, 32781, 1} {
		if _, err := m.ContentHash(alg); !errs.Is(err, errs.Invalid) {
			t.Errorf("ContentHash(%d): %v, want Invalid", alg, err)
		}
	}
}

func mustHash(t *testing.T, m *Manifest, alg uint32) string {
	t.Helper()
	h, err := m.ContentHash(alg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// The blob name of a single-file content and its content hash follow from
// what the sha256sum binary prints for that file.
func TestSingleFileAgainstSha256sum(t *testing.T) {
	bin, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("sha256sum is not installed")
	}
	src := t.TempDir()
	body := bytes.Repeat([]byte("tsprov content\n"), 70000) // about 1 MB, several buffers
	if err := os.WriteFile(filepath.Join(src, "Install.WIM"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, filepath.Join(src, "Install.WIM")).Output()
	if err != nil {
		t.Fatal(err)
	}
	fileSum := strings.Fields(string(out))[0]
	l := openLib(t)
	m, err := l.Snapshot(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 1 || m.Files[0].SHA256 != fileSum {
		t.Fatalf("manifest %+v, want the one file with sha256sum %s", m.Files, fileSum)
	}
	if !l.HasBlob(fileSum) {
		t.Errorf("the library holds no blob named %s", fileSum)
	}
	stream := append(utf16le("install.wim"), utf16le(strings.ToUpper(fileSum))...)
	s := sha256.Sum256(stream)
	if want := strings.ToUpper(hex.EncodeToString(s[:])); m.Hash != want {
		t.Errorf("content hash %s, want %s", m.Hash, want)
	}
}

func TestHashDirAgreesWithSnapshot(t *testing.T) {
	l := openLib(t)
	src := t.TempDir()
	writeTree(t, src, map[string]string{"x/y/z.txt": "1", "x/Y2.txt": "2", "top.cmd": "3", "e/": ""})
	var last Progress
	m, err := l.Snapshot(context.Background(), src, func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if last.Files != 3 || last.TotalFiles != 3 || last.Bytes != 3 || last.TotalBytes != 3 {
		t.Errorf("last progress %+v, want 3 of 3 files and 3 of 3 bytes", last)
	}
	h, err := HashDir(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.Hash != m.Hash || h.ID != m.ID {
		t.Errorf("HashDir %s/%s, Snapshot %s/%s", h.Hash, h.ID, m.Hash, m.ID)
	}
}

func TestSnapshotFollowsSymlinksInside(t *testing.T) {
	l := openLib(t)
	src := t.TempDir()
	writeTree(t, src, map[string]string{"real/file.txt": "data"})
	if err := os.Symlink("real/file.txt", filepath.Join(src, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(src, "linkdir")); err != nil {
		t.Fatal(err)
	}
	m, err := l.Snapshot(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	if got := strings.Join(paths, ","); got != "link.txt,linkdir/file.txt,real/file.txt" {
		t.Errorf("files %s", got)
	}
}

// assertNothingWritten checks that a failed snapshot left no manifest and
// no temporary file.
func assertNothingWritten(t *testing.T, l *Library) {
	t.Helper()
	if n := countFiles(t, filepath.Join(l.Dir(), manifestsDir)); n != 0 {
		t.Errorf("%d manifests after a failed snapshot", n)
	}
	if n := countFiles(t, filepath.Join(l.Dir(), tmpDir)); n != 0 {
		t.Errorf("%d temporary files after a failed snapshot", n)
	}
}

func TestSnapshotBadInput(t *testing.T) {
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"secret.txt": "not yours"})
	cases := []struct {
		name  string
		setup func(t *testing.T) string
		kind  errs.Kind
		msg   string
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, errs.Invalid, "does not exist"},
		{"a file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "f")
			writeTree(t, filepath.Dir(p), map[string]string{"f": "x"})
			return p
		}, errs.Invalid, "is not a folder"},
		{"symlink leaving", func(t *testing.T) string {
			src := t.TempDir()
			writeTree(t, src, map[string]string{"ok.txt": "ok"})
			if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(src, "escape.txt")); err != nil {
				t.Fatal(err)
			}
			return src
		}, errs.Invalid, "leaves the source folder"},
		{"symlink leaving by ..", func(t *testing.T) string {
			src := t.TempDir()
			if err := os.Symlink("..", filepath.Join(src, "up")); err != nil {
				t.Fatal(err)
			}
			return src
		}, errs.Invalid, "leaves the source folder"},
		{"symlink loop", func(t *testing.T) string {
			src := t.TempDir()
			writeTree(t, src, map[string]string{"d/f.txt": "x"})
			if err := os.Symlink("..", filepath.Join(src, "d", "again")); err != nil {
				t.Fatal(err)
			}
			return src
		}, errs.Invalid, "loop"},
		{"dangling symlink", func(t *testing.T) string {
			src := t.TempDir()
			if err := os.Symlink("gone.txt", filepath.Join(src, "x.txt")); err != nil {
				t.Fatal(err)
			}
			return src
		}, errs.Invalid, "points to nothing"},
		{"fifo", func(t *testing.T) string {
			src := t.TempDir()
			if err := syscall.Mkfifo(filepath.Join(src, "pipe"), 0o644); err != nil {
				t.Skip("no fifo here:", err)
			}
			return src
		}, errs.Invalid, "neither a file nor a folder"},
		{"unreadable file", func(t *testing.T) string {
			if os.Geteuid() == 0 {
				t.Skip("root reads every file")
			}
			src := t.TempDir()
			writeTree(t, src, map[string]string{"locked.txt": "x"})
			if err := os.Chmod(filepath.Join(src, "locked.txt"), 0); err != nil {
				t.Fatal(err)
			}
			return src
		}, errs.Invalid, "cannot be read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := openLib(t)
			src := tc.setup(t)
			_, err := l.Snapshot(context.Background(), src, nil)
			if !errs.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Snapshot: %v, want %v containing %q", err, tc.kind, tc.msg)
			}
			assertNothingWritten(t, l)
			if n := countFiles(t, filepath.Join(l.Dir(), blobsDir)); n != 0 {
				t.Errorf("%d blobs after a refused snapshot", n)
			}
			if _, err := HashDir(context.Background(), src, nil); !errs.Is(err, tc.kind) {
				t.Errorf("HashDir: %v, want %v", err, tc.kind)
			}
		})
	}
}

func TestSnapshotFileChangedWhileRead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(path string) error
	}{
		{"appended", func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteString("more")
			return err
		}},
		{"rewritten in place", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte("X"), 10); err != nil {
				return err
			}
			later := time.Now().Add(2 * time.Second)
			return os.Chtimes(p, later, later)
		}},
		{"replaced", func(p string) error {
			tmp := p + ".new"
			if err := os.WriteFile(tmp, bytes.Repeat([]byte("b"), 3<<20), 0o644); err != nil {
				return err
			}
			return os.Rename(tmp, p)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := openLib(t)
			src := t.TempDir()
			big := filepath.Join(src, "big.bin")
			if err := os.WriteFile(big, bytes.Repeat([]byte("a"), 3<<20), 0o644); err != nil {
				t.Fatal(err)
			}
			writeTree(t, src, map[string]string{"a-small.txt": "small"})
			changedOnce := false
			_, err := l.Snapshot(context.Background(), src, func(p Progress) {
				if p.Path == "big.bin" && !changedOnce {
					changedOnce = true
					if err := tc.change(big); err != nil {
						t.Error(err)
					}
				}
			})
			if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "changed while it was read") {
				t.Fatalf("Snapshot: %v, want a Conflict saying big.bin changed", err)
			}
			assertNothingWritten(t, l)
		})
	}
}

func TestSnapshotCancelledLeavesNoManifest(t *testing.T) {
	l := openLib(t)
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a.txt": "a", "b.txt": "b", "c.txt": "c"})
	ctx, cancel := context.WithCancel(context.Background())
	_, err := l.Snapshot(ctx, src, func(p Progress) {
		if p.Files == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Snapshot: %v, want context.Canceled", err)
	}
	assertNothingWritten(t, l)
}

func TestCollect(t *testing.T) {
	l := openLib(t)
	a, b := t.TempDir(), t.TempDir()
	writeTree(t, a, map[string]string{"shared.txt": "shared", "only-a.txt": "a"})
	writeTree(t, b, map[string]string{"shared.txt": "shared", "only-b.txt": "b"})
	ma, err := l.Snapshot(context.Background(), a, nil)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := l.Snapshot(context.Background(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Within the grace period nothing goes, even unreferenced.
	st, err := l.Collect(context.Background(), []string{mb.ID}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if st.Blobs != 0 || st.Manifests != 0 {
		t.Errorf("young files removed: %+v", st)
	}
	st, err = l.Collect(context.Background(), []string{mb.ID}, time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	if st.Manifests != 1 || st.Blobs != 1 || st.Bytes != 1 {
		t.Errorf("Collect removed %+v, want a's manifest and its one-byte only-a.txt blob", st)
	}
	if _, err := l.Manifest(ma.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("a's manifest after Collect: %v, want NotFound", err)
	}
	if _, err := l.Blob(sha("a")); !errs.Is(err, errs.NotFound) {
		t.Errorf("only-a blob after Collect: %v, want NotFound", err)
	}
	for _, s := range []string{"shared", "b"} {
		if !l.HasBlob(sha(s)) {
			t.Errorf("blob %q, held by b, was removed", s)
		}
	}
	if _, err := l.Collect(context.Background(), []string{sha("no such manifest")}, time.Nanosecond); err == nil {
		t.Errorf("Collect with a live manifest that is absent succeeded")
	}
	if !l.HasBlob(sha("b")) {
		t.Errorf("a failed Collect removed blobs")
	}
}

// A Collect that decided to remove a blob just before a snapshot reused
// it (it removes the blob after the snapshot marked it used) leaves no
// manifest listing a blob the library lacks: the snapshot stores it again.
func TestSnapshotRestoresABlobCollectedUnderIt(t *testing.T) {
	l := openLib(t)
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a-reused.txt": "reused bytes"})
	if _, err := l.Snapshot(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	writeTree(t, src, map[string]string{"b-new.txt": "new"})
	m, err := l.Snapshot(context.Background(), src, func(p Progress) {
		if p.Path == "b-new.txt" && l.HasBlob(sha("reused bytes")) {
			// a-reused.txt was read and its blob marked used: the
			// collection that looked at it earlier removes it now.
			if err := os.Remove(l.blobPath(sha("reused bytes"))); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		b, err := l.Blob(f.SHA256)
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		got, _ := io.ReadAll(b)
		b.Close()
		if sha(string(got)) != f.SHA256 {
			t.Fatalf("%s: the blob holds %q", f.Path, got)
		}
	}
}

// A snapshot since the previous one copies only the files whose bytes
// changed: an unchanged file is hashed without a copy into tmp/, a file
// rewritten with the same size is copied, and the result is the
// manifest a full snapshot makes.
func TestSnapshotSinceCopiesOnlyChangedFiles(t *testing.T) {
	l := openLib(t)
	src := t.TempDir()
	writeTree(t, src, map[string]string{"big.bin": strings.Repeat("a", 3<<20), "same-size.txt": "version 1", "Sub/new-later/": ""})
	first, err := l.Snapshot(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, src, map[string]string{"same-size.txt": "version 2", "Sub/new-later/added.txt": "added"})
	copied := map[string]bool{} // files whose reading wrote into tmp/
	sizes := map[string]int64{}
	m, err := l.SnapshotSince(context.Background(), src, first.ID, func(p Progress) {
		entries, _ := os.ReadDir(filepath.Join(l.Dir(), tmpDir))
		for _, e := range entries {
			if info, err := e.Info(); err == nil && info.Size() > sizes[e.Name()] {
				copied[p.Path] = true
				sizes[e.Name()] = info.Size()
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if copied["big.bin"] || !copied["same-size.txt"] || !copied["Sub/new-later/added.txt"] {
		t.Errorf("files copied while read: %v; want same-size.txt and added.txt, not big.bin", copied)
	}
	full, err := HashDir(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != full.ID || m.Hash != full.Hash {
		t.Fatalf("snapshot since: %s %s; the folder: %s %s", m.ID, m.Hash, full.ID, full.Hash)
	}
	for _, f := range m.Files {
		if !l.HasBlob(f.SHA256) {
			t.Errorf("%s: no blob", f.Path)
		}
	}
	// A previous manifest the library lacks is no hint: a full snapshot.
	if m2, err := l.SnapshotSince(context.Background(), src, sha("gone"), nil); err != nil || m2.ID != m.ID {
		t.Fatalf("snapshot since an absent manifest: %v", err)
	}
}

func TestBlobBadNames(t *testing.T) {
	l := openLib(t)
	for _, h := range []string{"", "../../etc/passwd", strings.ToUpper(sha("x")), sha("x")[:63]} {
		if _, err := l.Blob(h); !errs.Is(err, errs.Invalid) {
			t.Errorf("Blob(%q): %v, want Invalid", h, err)
		}
	}
	if _, err := l.Blob(sha("absent")); !errs.Is(err, errs.NotFound) {
		t.Errorf("Blob of an absent hash: %v, want NotFound", err)
	}
}

// TestCrashMidSnapshot kills a process in the middle of a snapshot: the
// library shows no content from it, and Collect clears what it left.
func TestCrashMidSnapshot(t *testing.T) {
	if dir := os.Getenv("TSPROV_CONTENT_CRASH_LIB"); dir != "" {
		l, err := Open(dir)
		if err != nil {
			os.Exit(3)
		}
		started := false
		_, _ = l.Snapshot(context.Background(), os.Getenv("TSPROV_CONTENT_CRASH_SRC"), func(p Progress) {
			if p.Files >= 2 && !started {
				started = true
				os.Stdout.WriteString("started\n")
				time.Sleep(time.Minute) // killed here
			}
		})
		os.Exit(4)
	}
	src := t.TempDir()
	for _, name := range []string{"a.bin", "b.bin", "c.bin", "d.bin"} {
		if err := os.WriteFile(filepath.Join(src, name), bytes.Repeat([]byte(name), 1<<18), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lib := filepath.Join(t.TempDir(), "content")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidSnapshot$")
	cmd.Env = append(os.Environ(), "TSPROV_CONTENT_CRASH_LIB="+lib, "TSPROV_CONTENT_CRASH_SRC="+src)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 8)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "started\n" {
		_ = cmd.Process.Kill()
		t.Fatalf("child did not start its snapshot: %q %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := Open(lib)
	if err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, filepath.Join(lib, manifestsDir)); n != 0 {
		t.Fatalf("%d manifests after a crash mid-snapshot", n)
	}
	if n := countFiles(t, filepath.Join(lib, tmpDir)); n == 0 {
		t.Errorf("the killed snapshot left no temporary file: it was not under way")
	}
	if _, err := l.Collect(context.Background(), nil, time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, lib); n != 0 {
		t.Errorf("%d files left after Collect", n)
	}
	m, err := l.Snapshot(context.Background(), src, nil)
	if err != nil || len(m.Files) != 4 {
		t.Fatalf("snapshot after the crash: %v", err)
	}
}

// A snapshot's memory does not grow with the size of the files: what it
// allocates for a 64 MiB file is within 1 MiB of what it allocates for a
// 1 MiB one (one buffer, whatever the size).
func TestSnapshotMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 65 MiB")
	}
	allocated := func(size int) uint64 {
		l := openLib(t)
		src := t.TempDir()
		f, err := os.Create(filepath.Join(src, "big.bin"))
		if err != nil {
			t.Fatal(err)
		}
		chunk := bytes.Repeat([]byte{byte(size)}, 1<<20)
		for i := 0; i < size>>20; i++ {
			if _, err := f.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := l.Snapshot(context.Background(), src, nil); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := allocated(1<<20), allocated(64<<20)
	t.Logf("allocated: %d bytes for 1 MiB, %d for 64 MiB", small, large)
	if large > small+1<<20 {
		t.Errorf("a snapshot of 64 MiB allocated %d bytes, of 1 MiB %d: memory grows with the file", large, small)
	}
}

// The library's folder and the folders it protects are no source: not
// themselves, nothing inside them, nothing that holds them.
func TestSnapshotRefusesProtectedFolders(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	writeTree(t, data, map[string]string{"secret.key": "key", "tsprov.db": "db"})
	l, err := Open(filepath.Join(data, "content"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Protect(data); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "lib2")
	other, err := Open(elsewhere)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		lib  *Library
		src  string
	}{
		{"the data folder", l, data},
		{"inside it", l, filepath.Join(data, "content")},
		{"a folder that holds it", l, base},
		{"a symlink to it", l, link},
		{"the library itself", other, elsewhere},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.lib.Snapshot(context.Background(), tc.src, nil)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "a folder of the server") {
				t.Fatalf("Snapshot(%s): %v, want a refusal", tc.src, err)
			}
		})
	}
	src := t.TempDir()
	writeTree(t, src, map[string]string{"ok.txt": "fine"})
	if _, err := l.Snapshot(context.Background(), src, nil); err != nil {
		t.Errorf("a folder beside the data folder: %v", err)
	}
}
