package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

// writerEnv, when set, makes TestKilledWriter the writer child: it opens
// the store at the path the variable holds and writes until killed.
const writerEnv = "TSPROV_SQLITE_TEST_WRITER"

// TestKilledWriter: every Write acknowledged before the process is killed
// with SIGKILL is in the file when it is opened again.
func TestKilledWriter(t *testing.T) {
	if path := os.Getenv(writerEnv); path != "" {
		writeUntilKilled(path)
		return
	}
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), dbFile)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKilledWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), writerEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const acks = 60
	var acked []int64
	lines := bufio.NewScanner(out)
	for len(acked) < acks && lines.Scan() {
		if n, err := strconv.ParseInt(lines.Text(), 10, 64); err == nil {
			acked = append(acked, n)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if len(acked) < acks {
		t.Fatalf("the writer acknowledged %d writes before it stopped, want %d", len(acked), acks)
	}

	s := open(t, filepath.Dir(path), reg)
	pkg := class(t, reg, "SMS_TaskSequencePackage")
	for _, n := range acked {
		rec := get(t, s, pkg, fmt.Sprintf("PS%06d", n))
		if v, _ := rec.Instance.Get("Sequence"); v != fmt.Sprintf("<sequence n='%d'/>", n) {
			t.Errorf("PS%06d: Sequence %v", n, v)
		}
	}
	err = s.Write(t.Context(), func(tx store.Tx) error {
		n, err := tx.NextSequence(t.Context(), "PackageID")
		if err == nil && n <= acked[len(acked)-1] {
			t.Errorf("NextSequence after the kill: %d, already drawn", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeUntilKilled inserts packages, one Write each, and prints the
// counter value of each Write that returned nil.
func writeUntilKilled(path string) {
	ctx := context.Background()
	reg, err := schema.Registry()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := Open(ctx, path, reg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	pkg, _ := reg.Class("SMS_TaskSequencePackage")
	for range 100000 {
		var n int64
		err := s.Write(ctx, func(tx store.Tx) error {
			var err error
			if n, err = tx.NextSequence(ctx, "PackageID"); err != nil {
				return err
			}
			in := cim.NewInstance(pkg)
			in.Set("PackageID", fmt.Sprintf("PS%06d", n))
			in.Set("Sequence", fmt.Sprintf("<sequence n='%d'/>", n))
			return tx.Insert(ctx, &store.Record{Instance: in})
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(n)
	}
	os.Exit(0)
}
