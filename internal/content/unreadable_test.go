//go:build linux

package content

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tsprov/tsprov/internal/errs"
)

// unreadableChild names, in a child process of TestSnapshotUnreadable,
// the library and the sources to snapshot: "LIB|SRC|SRC…".
const unreadableChild = "TSPROV_CONTENT_UNREADABLE_CHILD"

// A source folder, a folder in it or a file in it that the server may not
// read: a clear Invalid error naming it, and nothing in the library. Root
// reads every file, so as root the snapshots run in a child process of
// this test with the rights of nobody (65534).
func TestSnapshotUnreadable(t *testing.T) {
	if spec := os.Getenv(unreadableChild); spec != "" {
		parts := strings.Split(spec, "|")
		l, err := Open(parts[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range parts[1:] {
			_, err := l.Snapshot(context.Background(), src, nil)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "cannot be read") {
				t.Errorf("Snapshot(%s) = %v, want Invalid saying it cannot be read", src, err)
			}
			if _, err := HashDir(context.Background(), src, nil); !errs.Is(err, errs.Invalid) {
				t.Errorf("HashDir(%s) = %v, want Invalid", src, err)
			}
			fmt.Printf("refused: %v\n", err)
		}
		assertNothingWritten(t, l)
		if n := countFiles(t, filepath.Join(l.Dir(), blobsDir)); n != 0 {
			t.Errorf("%d blobs after refused snapshots", n)
		}
		return
	}

	// Everything lives in one folder others may enter; only the three
	// entries below are closed to them.
	work := t.TempDir()
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(work, "library")
	mk := func(name string, tree map[string]string, closed string) string {
		src := filepath.Join(work, name)
		writeTree(t, src, tree)
		p := filepath.Join(src, closed)
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(p, 0o755) }) // so that the folder can be removed
		return src
	}
	fileSrc := mk("file", map[string]string{"a.txt": "a", "locked.txt": "secret"}, "locked.txt")
	dirSrc := mk("dir", map[string]string{"a.txt": "a", "Locked/b.txt": "b"}, "Locked")
	rootSrc := mk("root", map[string]string{"a.txt": "a"}, ".")
	spec := strings.Join([]string{lib, fileSrc, dirSrc, rootSrc}, "|")

	if os.Geteuid() != 0 {
		t.Setenv(unreadableChild, spec)
		TestSnapshotUnreadable(t)
		return
	}
	if err := os.Mkdir(lib, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(lib, 0o777); err != nil {
		t.Fatal(err)
	}
	// The test binary, where nobody may run it.
	bin := filepath.Join(work, "content.test")
	in, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err == nil {
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	in.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The test's own temporary folders are opened to others; a folder above
	// them that is closed skips the test rather than being changed.
	if err := os.Chmod(filepath.Dir(work), 0o755); err != nil {
		t.Fatal(err)
	}
	for dir := filepath.Dir(filepath.Dir(work)); dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm()&0o001 == 0 {
			t.Skipf("%s is closed to other users: nobody could run the test binary", dir)
		}
	}
	cmd := exec.Command(bin, "-test.run", "^TestSnapshotUnreadable$", "-test.v")
	cmd.Env = append(os.Environ(), unreadableChild+"="+spec, "HOME="+work, "GOCOVERDIR=")
	cmd.Dir = work
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	got, err := cmd.CombinedOutput()
	t.Logf("as nobody:\n%s", got)
	if err != nil {
		t.Fatalf("the snapshots as nobody: %v", err)
	}
	if n := strings.Count(string(got), "refused:"); n != 3 {
		t.Fatalf("%d refusals, want 3", n)
	}
}
