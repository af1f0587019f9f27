package adminservice

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/schema"
)

// TestWriteEntityWritesWhatEntityBuilds: for every class of the schema,
// an instance holding a value of its type in every property (strings
// that need escapes, arrays, embedded objects, dates, nulls, absent
// values), with and without its lazy values and with a $select,
// writeEntity writes the bytes entity's object writes.
func TestWriteEntityWritesWhatEntityBuilds(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	encoders := []encoder{
		{server: "SRV01", site: "PS1", classes: &sync.Map{}},
		{server: `odd"server\name`, site: "XY9"}, // nothing kept
	}
	n := 0
	for _, c := range reg.Classes() {
		for variant := range 3 {
			in := sampleInstance(reg, c, variant, 0)
			obj := &provider.Object{Instance: in, ETag: fmt.Sprintf("%d\"etag", variant)}
			selections := []map[string]bool{nil, {}}
			if len(c.Properties) > 0 {
				selections = append(selections, map[string]bool{strings.ToLower(c.Properties[len(c.Properties)-1].Name): true})
			}
			for _, e := range encoders {
				for _, lazyFilled := range []bool{true, false} {
					for _, selected := range selections {
						var want, got bytes.Buffer
						if err := e.entity(obj, lazyFilled, selected).WriteJSON(&want); err != nil {
							t.Fatalf("%s: entity: %v", c.Name, err)
						}
						for range 2 { // the second from what the encoder kept
							got.Reset()
							if err := e.writeEntity(&got, obj, lazyFilled, selected); err != nil {
								t.Fatalf("%s: writeEntity: %v", c.Name, err)
							}
							if !bytes.Equal(got.Bytes(), want.Bytes()) {
								t.Fatalf("%s (variant %d, lazy %v, $select %v):\n got %s\nwant %s", c.Name, variant, lazyFilled, selected, got.Bytes(), want.Bytes())
							}
						}
						n++
					}
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d cases compared", n)
	}
}

// sampleInstance fills in's properties by kind; variant 1 leaves every
// third absent and every fifth null, variant 2 puts characters that JSON
// escapes in strings.
func sampleInstance(reg *cim.Registry, c *cim.Class, variant, depth int) *cim.Instance {
	in := cim.NewInstance(c)
	text := "plain text"
	if variant == 2 {
		text = "quote \" backslash \\ tab \t newline \n <tag> & é \u2028 \x01"
	}
	for i, p := range c.Properties {
		if variant == 1 && i%3 == 0 {
			continue
		}
		if variant == 1 && i%5 == 0 {
			in.Values[p.Name] = nil
			continue
		}
		one := func() any {
			switch p.Type.Kind {
			case cim.Boolean:
				return i%2 == 0
			case cim.Real32, cim.Real64:
				return float64(i) + 0.25
			case cim.String, cim.Char16:
				return fmt.Sprintf("%s %d", text, i)
			case cim.DateTime:
				return cim.DateTimeValue{Time: time.Date(2026, 12, 7, 6, 30, i%60, 0, time.UTC)}
			case cim.Object:
				if ec, ok := reg.Class(p.Type.Class); ok && depth < 1 {
					return sampleInstance(reg, ec, variant, depth+1)
				}
				return nil
			}
			return int64(i * 1000)
		}
		switch {
		case p.Type.Kind == cim.UInt8 && p.Type.Array:
			in.Values[p.Name] = []byte(text)
		case p.Type.Array:
			in.Values[p.Name] = []any{one(), one()}
		default:
			in.Values[p.Name] = one()
		}
	}
	return in
}
