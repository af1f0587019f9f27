package taskseq

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/tsprov/tsprov/internal/cim"
)

// decodeResidue reads the JSON form of a residue (the @tsprov.xml
// annotation a client sent back) as encoding/json reads it into the
// struct: members matched to the fields' JSON names in any case, unknown
// members skipped, a null leaving a field as it is (a pointer or a list
// nil), a pair of more than two strings cut to two. It reads each byte
// once, where encoding/json's reflection would cost as much as the rest
// of a sequence's encoding.
func decodeResidue(raw []byte) (*residue, error) {
	jr := cim.NewJSONReaderShared(raw) // the strings read share one copy of raw
	r, err := readResidue(jr)
	if err != nil {
		return nil, residueError(err)
	}
	if err := jr.End(); err != nil {
		return nil, residueError(err)
	}
	return r, nil
}

// The JSON decoders read a residue while they read its object (one pass
// over a method call's body), into the form getResidue takes as it is;
// a residue they cannot read is kept as its text, and getResidue reports
// it as before.
func init() {
	cim.RegisterAnnotation(residueKey, func(jr *cim.JSONReader) (any, error) { return readResidue(jr) })
}

// readResidue reads the residue that comes next in jr.
func readResidue(jr *cim.JSONReader) (*residue, error) {
	r := &residue{}
	if !jr.Null() {
		err := jr.Object(func(name []byte) error {
			switch {
			case field(name, "element"):
				return readString(jr, &r.Element)
			case field(name, "attrs"):
				return readPairs(jr, &r.Attrs)
			case field(name, "children"):
				return readStrings(jr, &r.Children)
			case field(name, "action"):
				return readOptional(jr, &r.Action)
			case field(name, "derived"):
				return readOptional(jr, &r.Derived)
			case field(name, "actionBound"):
				return readString(jr, &r.ActionBound)
			case field(name, "vars"):
				return readList(jr, &r.Vars, readVar, &variableLists)
			case field(name, "varListAttrs"):
				return readPairs(jr, &r.VarListAttrs)
			case field(name, "other"):
				return readStrings(jr, &r.Other)
			case field(name, "platformKey"):
				return readPairs(jr, &r.PlatformKey)
			case field(name, "references"):
				return readList(jr, &r.References, readPairs, &pairListLists)
			case field(name, "packageType"):
				return readString(jr, &r.PackageType)
			}
			return jr.Skip()
		})
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

func residueError(err error) error {
	return fmt.Errorf("not the JSON form of what was read from XML: %w", err)
}

// field reports whether a member name names the field of that JSON name.
func field(name []byte, json string) bool {
	return string(name) == json || bytes.EqualFold(name, []byte(json))
}

func readVar(jr *cim.JSONReader, v *resVar) error {
	if jr.Null() {
		return nil
	}
	return jr.Object(func(name []byte) error {
		switch {
		case field(name, "attrs"):
			return readPairs(jr, &v.Attrs)
		case field(name, "bound"):
			return readString(jr, &v.Bound)
		case field(name, "value"):
			return readOptional(jr, &v.Value)
		case field(name, "raw"):
			return readString(jr, &v.Raw)
		}
		return jr.Skip()
	})
}

func readString(jr *cim.JSONReader, s *string) error {
	if jr.Null() {
		return nil
	}
	v, err := jr.SharedString()
	if err == nil {
		*s = v
	}
	return err
}

// intern returns the string of b, the same string each time for the
// names, markers and values that every element's annotation repeats, so
// that reading an annotation does not allocate them again.
func intern(b []byte) string {
	if len(b) > maxInterned || len(b) == 0 {
		return string(b) // "" allocates nothing
	}
	for _, s := range commonByLength[len(b)] {
		if s[0] == b[0] && s == string(b) {
			return s
		}
	}
	return string(b)
}

// commonByLength holds commonStrings by their length (the empty string
// aside): a lookup compares the few of one length, first by their first
// byte, which for text that is none of them (most values) costs less than
// hashing it.
var commonByLength = func() (t [maxInterned + 1][]string) {
	for s := range commonStrings {
		if s != "" {
			t[len(s)] = append(t[len(s)], s)
		}
	}
	return t
}()

// maxInterned is the length of the longest of commonStrings, and more:
// longer text is not looked up.
const maxInterned = 24

var commonStrings = func() map[string]string {
	m := map[string]string{}
	for _, s := range []string{
		// element names and child markers
		"step", "group", "subtasksequence", "condition", "action", "defaultVarList",
		"operand", "platformKey", "referenceList", "globalVarList", "variable", "other",
		"expression", "operator", "sequence", "subtasksequence", "reference", "package",
		// attribute names
		"type", "name", "description", "disable", "continueOnError", "runIn",
		"timeout", "successCodeList", "retryCount", "runFromNet", "property",
		"hidden", "version",
		// attribute values ConfigMgr writes on most steps
		"", "0", "1", "true", "false", "0 3010", "WinPEandFullOS", "WinPE", "FullOS",
		"and", "or", "not", "equals",
	} {
		m[s] = s
	}
	return m
}()

func readOptional(jr *cim.JSONReader, s **string) error {
	if jr.Null() {
		*s = nil
		return nil
	}
	v, err := jr.SharedString()
	if err == nil {
		*s = &v
	}
	return err
}

func readStrings(jr *cim.JSONReader, list *[]string) error {
	return readList(jr, list, readString, &stringLists)
}

// readPairs reads a list of name and value pairs.
func readPairs(jr *cim.JSONReader, pairs *[][2]string) error {
	return readList(jr, pairs, readPair, &pairLists)
}

func readPair(jr *cim.JSONReader, p *[2]string) error {
	if jr.Null() {
		return nil
	}
	i := 0
	return jr.Array(func() error {
		i++
		if i > 2 {
			return jr.Skip()
		}
		return readString(jr, &p[i-1])
	})
}

// readList reads a list whose elements elem reads; null gives nil. The
// elements are read into a buffer of scratch and copied out at their
// number: an annotation's lists live as long as its step, and most hold
// two or three pairs.
func readList[T any](jr *cim.JSONReader, list *[]T, elem func(*cim.JSONReader, *T) error, scratch *listScratch[T]) error {
	if jr.Null() {
		*list = nil
		return nil
	}
	buf, _ := scratch.pool.Get().(*[]T)
	if buf == nil {
		buf = new([]T)
	}
	out := (*buf)[:0]
	err := jr.Array(func() error {
		var zero T
		out = append(out, zero)
		return elem(jr, &out[len(out)-1]) // read in place: no copy on the heap
	})
	if err == nil {
		*list = append(make([]T, 0, len(out)), out...)
	}
	clear(out)
	*buf = out[:0]
	scratch.pool.Put(buf)
	return err
}

// listScratch holds the buffers readList reads lists of T into.
type listScratch[T any] struct{ pool sync.Pool }

var (
	pairLists     listScratch[[2]string]
	pairListLists listScratch[[][2]string]
	stringLists   listScratch[string]
	variableLists listScratch[resVar]
)
