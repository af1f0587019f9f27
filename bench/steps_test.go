package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/schema"
)

// BenchmarkSetSequenceSteps times, each on its own, the steps that a
// SetSequence of the 1.9 MB sequence takes on the server, so that
// -benchmem gives the allocations of each: the JSON decode of the
// TaskSequence parameter, validation, references, the XML encode and the
// store write of the package (SQLite, one durable transaction). HTTP, the
// strict check of the body and the answer are left out (see
// BenchmarkSetSequence2MB for the whole).
//
//	go test -run '^$' -bench SetSequenceSteps -benchmem ./bench/
func BenchmarkSetSequenceSteps(b *testing.B) {
	_, data := bigSequence(b)
	reg, err := schema.Registry()
	if err != nil {
		b.Fatal(err)
	}
	codec, err := taskseq.NewCodec(reg)
	if err != nil {
		b.Fatal(err)
	}
	ts, _, err := codec.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	tsJSON, err := cim.EmbeddedJSON(ts).MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	tsType := cim.Type{Kind: cim.Object, Class: ts.Class.Name}
	decoded, err := reg.DecodeValue(tsType, tsJSON, "TaskSequence")
	if err != nil {
		b.Fatal(err)
	}
	sent := decoded.(*cim.Instance) // as the server has it after decoding
	refs := taskseq.References(sent)
	xml, err := codec.Marshal(sent, taskseq.WriteOptions{References: refs})
	if err != nil {
		b.Fatal(err)
	}

	b.Run("JSONDecode", func(b *testing.B) {
		b.SetBytes(int64(len(tsJSON)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := reg.DecodeValue(tsType, tsJSON, "TaskSequence"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Validate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if errs := taskseq.Errors(taskseq.Validate(sent)); len(errs) > 0 {
				b.Fatal(errs[0])
			}
		}
	})
	b.Run("References", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			taskseq.References(sent)
		}
	})
	b.Run("XMLEncode", func(b *testing.B) {
		b.SetBytes(int64(len(xml)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := codec.Marshal(sent, taskseq.WriteOptions{References: refs}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("StoreWrite", func(b *testing.B) {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "steps.db"), reg)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		c, _ := reg.Class("SMS_TaskSequencePackage")
		b.SetBytes(int64(len(xml)))
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			in := cim.NewInstance(c)
			for _, p := range c.Properties {
				if p.Default != nil {
					in.Values[p.Name] = cim.CloneValue(p.Default)
				}
			}
			in.Set("PackageID", fmt.Sprintf("PS1%05X", n))
			in.Set("Name", "big")
			in.Set("Sequence", string(xml))
			err := st.Write(ctx, func(tx store.Tx) error { return tx.Insert(ctx, &store.Record{Instance: in}) })
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
