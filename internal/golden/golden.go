// Package golden serves tests that compare what they produce with a golden
// file in testdata/: `go test -update` rewrites the files instead.
package golden

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Want returns the golden file's content. With -update it first writes got
// there, and the test then compares got with itself.
func Want(t testing.TB, path string, got []byte) []byte {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return got
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (rewrite it with go test -update)", err)
	}
	return want
}
