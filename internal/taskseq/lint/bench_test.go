package lint

import (
	"testing"

	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/internal/taskseq/taskseqtest"
)

// BenchmarkRun2MB: every rule on a sequence over 2 MB as stored (for
// -benchmem and profiles; the timed comparison is bench/).
func BenchmarkRun2MB(b *testing.B) {
	c := taskseqtest.Codec(b)
	data := bigSequence(b, 3<<20)
	ts, _, err := c.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	xml, err := c.Marshal(ts, taskseq.WriteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := Run(Input{Sequence: ts, Source: data, SequenceXML: xml}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
