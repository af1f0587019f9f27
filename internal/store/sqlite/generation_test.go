package sqlite

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

// generationWriteEnv names the file TestGenerationHelperProcess writes
// to when the test binary runs as another process.
const generationWriteEnv = "TSPROV_TEST_GENERATION_WRITE"

// TestGeneration: the mark stays while nothing is written and moves with
// every commit: one of this store, one of another store on the same file
// (another server in this process) and one of another process.
func TestGeneration(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, other := open(t, dir, reg), open(t, dir, reg)
	mark := func() string {
		t.Helper()
		m, err := s.Generation(t.Context())
		if err != nil {
			t.Fatalf("Generation: %v", err)
		}
		return m
	}
	seen := map[string]string{}
	moved := func(what string) {
		t.Helper()
		m := mark()
		if before, ok := seen[m]; ok {
			t.Errorf("after %s the mark is %s, as it was %s", what, m, before)
		}
		seen[m] = what
		if again := mark(); again != m {
			t.Errorf("after %s, with nothing written, the mark went from %s to %s", what, m, again)
		}
	}
	moved("opening")
	if m := mark(); !strings.Contains(m, ".h") {
		t.Errorf("mark %s: not from the WAL-index header", m)
	}
	if err := insertPackage(t, s, reg, "PS100001"); err != nil {
		t.Fatal(err)
	}
	moved("a write of this store")
	if err := insertPackage(t, other, reg, "PS100002"); err != nil {
		t.Fatal(err)
	}
	moved("a write of another store on the file")
	cmd := exec.Command(os.Args[0], "-test.run=^TestGenerationHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), generationWriteEnv+"="+filepath.Join(dir, dbFile))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the writing process: %v\n%s", err, out)
	}
	moved("a write of another process")
	last := mark()
	if err := s.Read(t.Context(), func(tx store.ReadTx) error {
		_, err := tx.Get(t.Context(), pkgOf(t, reg), "PS100003", true)
		return err
	}); err != nil {
		t.Fatalf("the other process's write: %v", err)
	}
	if m := mark(); m != last {
		t.Errorf("a read moved the mark from %s to %s", last, m)
	}
	for m, what := range seen {
		if !strings.Contains(m, ".h") {
			t.Errorf("after %s, mark %s: not from the WAL-index header", what, m)
		}
	}
}

// TestGenerationHeaderChecked: a WAL-index header is taken only whole: a
// copy that differs from the other, or whose checksum is wrong (a commit
// writing it as it is read), is refused and the pragma decides.
func TestGenerationHeaderChecked(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := open(t, dir, reg)
	if err := insertPackage(t, s, reg, "PS100001"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Generation(t.Context()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, dbFile) + "-shm")
	if err != nil {
		t.Fatal(err)
	}
	h := b[:walHeaderBytes]
	if !walHeaderValid(h) {
		t.Fatalf("the header of the file is refused: % x", h)
	}
	for i := range walHeaderBytes {
		torn := bytes.Clone(h)
		torn[i] ^= 0x10
		if i == 4 || i == 13 {
			continue // unused, and the checksum's byte order (always the host's)
		}
		if walHeaderValid(torn) {
			t.Errorf("a header with byte %d changed is taken: % x", i, torn)
		}
	}
	// a copy being rewritten: the mark comes from the pragma
	g := s.gens
	torn := filepath.Join(dir, "torn-shm")
	b[walHeaderBytes+8]++ // iChange of the second copy
	if err := os.WriteFile(torn, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tornShm, err := openShm(torn)
	if err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	shm := g.shm
	g.shm = tornShm
	g.mu.Unlock()
	if m, ok := g.headerMark(); ok {
		t.Errorf("copies that differ gave the mark %s", m)
	}
	// a file cut short under the mapping: no mark, no crash
	if err := os.Truncate(torn, 0); err != nil {
		t.Fatal(err)
	}
	if m, ok := g.headerMark(); ok {
		t.Errorf("an empty file gave the mark %s", m)
	}
	g.mu.Lock()
	g.shm = shm
	g.mu.Unlock()
	tornShm.close()
	if m, ok := g.headerMark(); !ok {
		t.Errorf("the file's own header gave no mark")
	} else if !strings.Contains(m, ".h") {
		t.Errorf("mark %s", m)
	}
}

// TestGenerationHelperProcess writes one package to the file that
// generationWriteEnv names, as another process (TestGeneration).
func TestGenerationHelperProcess(t *testing.T) {
	path := os.Getenv(generationWriteEnv)
	if path == "" {
		t.Skip("runs as the writing process of TestGeneration")
	}
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := insertPackage(t, s, reg, "PS100003"); err != nil {
		t.Fatal(err)
	}
}

func pkgOf(t *testing.T, reg *cim.Registry) *cim.Class {
	t.Helper()
	c, ok := reg.Class("SMS_TaskSequencePackage")
	if !ok {
		t.Fatal("no class SMS_TaskSequencePackage")
	}
	return c
}

func insertPackage(t *testing.T, s *Store, reg *cim.Registry, id string) error {
	in := cim.NewInstance(pkgOf(t, reg))
	in.Set("PackageID", id)
	in.Set("Name", "package "+id)
	return s.Write(t.Context(), func(tx store.Tx) error {
		if err := tx.Insert(t.Context(), &store.Record{Instance: in}); err != nil {
			return fmt.Errorf("insert %s: %w", id, err)
		}
		return nil
	})
}
