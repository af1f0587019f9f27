// Package taskseqtest holds what the tests of the task sequence packages
// (diff, lint, plan) share: the codec of the embedded schema and the
// parsing of corpus and test files, failing the test on any error.
package taskseqtest

import (
	"os"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/schema"
)

// Corpus is the folder of real task sequences, from a package two levels
// below internal/taskseq (internal/taskseq/<pkg>).
const Corpus = "../../../testdata/ts-corpus/"

// Codec is the codec of the embedded schema (no custom actions).
func Codec(t testing.TB) *taskseq.Codec {
	t.Helper()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	c, err := taskseq.NewCodec(reg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Parse parses task sequence XML into the object model.
func Parse(t testing.TB, c *taskseq.Codec, data []byte) *cim.Instance {
	t.Helper()
	ts, _, err := c.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// ParseFile reads and parses a task sequence file.
func ParseFile(t testing.TB, c *taskseq.Codec, path string) *cim.Instance {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(t, c, data)
}
