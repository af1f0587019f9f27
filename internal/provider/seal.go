package provider

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store"
)

// isSecret reports the Secret and QuasiSecret qualifiers.
func isSecret(p *cim.Property) bool { return p.IsSecret() }

// stripSealed empties every sealed value held in the string properties of
// a stored instance (the Sequence XML of a task sequence package): secrets
// are never returned.
func stripSealed(in *cim.Instance) {
	for _, p := range sealableOf(in.Class) {
		if s, ok := in.Values[p.Name].(string); ok && strings.Contains(s, secrets.Prefix) {
			in.Values[p.Name] = secrets.Strip(s)
		}
	}
}

// classSealable holds sealableProperties' answer by class.
var classSealable = cim.NewClassMemo(sealableProperties)

// sealableOf returns sealableProperties(c), derived once per class; none
// for no class.
func sealableOf(c *cim.Class) []*cim.Property {
	if c == nil {
		return nil
	}
	return classSealable.Of(c)
}

// sealableProperties returns the string properties of c in which the server
// stores sealed values, in class order: a Secret or QuasiSecret string
// (NetworkAccessPassword); a lazy or large string, stored text that may
// carry objects with sealed secrets (the Sequence XML of a task sequence
// package); and every string of a Private class (a webhook's signing
// Secret). Any other string holds what a client wrote, never a value the
// server sealed, so a page of instances is not walked value by value.
func sealableProperties(c *cim.Class) []*cim.Property {
	var out []*cim.Property
	for _, p := range c.Properties {
		if p.Type.Kind != cim.String || p.Type.Array {
			continue
		}
		if p.IsSecret() || p.IsLazy() || p.IsLarge() || c.IsPrivate() {
			out = append(out, p)
		}
	}
	return out
}

// stripTree empties every sealed value in an object tree (a task sequence
// parsed from stored XML).
func stripTree(in *cim.Instance) {
	for name, v := range in.Values {
		switch x := v.(type) {
		case string:
			if strings.Contains(x, secrets.Prefix) {
				in.Values[name] = secrets.Strip(x)
			}
		case *cim.Instance:
			stripTree(x)
		case []any:
			for i, e := range x {
				switch y := e.(type) {
				case *cim.Instance:
					stripTree(y)
				case string:
					if strings.Contains(y, secrets.Prefix) {
						x[i] = secrets.Strip(y)
					}
				}
			}
		}
	}
}

// secretSlots calls fn for every Secret or QuasiSecret property of the
// objects in the tree, with a path that names it by the Name of each
// object on the way (or its position when it has none), so that the same
// step is found again after a client moved or added others. The path
// starts at up (nil: the top); fn is given one that holds only while it
// runs, and its text is made when fn asks for it (slotPath.appendTo,
// slotPath.String).
func secretSlots(in *cim.Instance, up *slotPath, fn func(path *slotPath, owner *cim.Instance, p *cim.Property)) {
	path := &slotPath{}
	if up != nil {
		path.frames = append(path.frames, up.frames...)
	}
	path.walk(in, fn)
}

// walk calls fn for the secrets of in and of the objects it holds, with
// their slots pushed on s and taken off again.
func (s *slotPath) walk(in *cim.Instance, fn func(path *slotPath, owner *cim.Instance, p *cim.Property)) {
	for _, sl := range classSlots.Of(in.Class) {
		p := sl.prop
		if sl.secret {
			s.push(p.Name, -1, nil)
			fn(s, in, p)
			s.pop()
			continue
		}
		switch x := in.Values[p.Name].(type) {
		case *cim.Instance:
			s.push(p.Name, -1, x)
			s.walk(x, fn)
			s.pop()
		case []any:
			for i, e := range x {
				sub, ok := e.(*cim.Instance)
				if !ok {
					continue
				}
				s.push(p.Name, i, sub)
				s.walk(sub, fn)
				s.pop()
			}
		}
	}
}

// slot is a property secretSlots looks at; secret tells a secret string
// (a Secret or QuasiSecret scalar string), decided once from the schema.
type slot struct {
	prop   *cim.Property
	secret bool
}

// classSlots holds findSlots' answer by class.
var classSlots = cim.NewClassMemo(findSlots)

// findSlots returns the properties of c that secretSlots looks at, in class
// order: the secret strings, and those that can hold an object (an
// embedded object, an array of them, or a value of no fixed type); the
// others hold neither a secret nor an object that could.
func findSlots(c *cim.Class) []slot {
	var out []slot
	for _, p := range c.Properties {
		secret := isSecret(p)
		if secret || !holdsNoObject(p) {
			out = append(out, slot{prop: p, secret: secret && p.Type.Kind == cim.String && !p.Type.Array})
		}
	}
	return out
}

// holdsNoObject reports whether the values of p are never objects: a
// scalar or array of strings, numbers, booleans, dates or bytes.
func holdsNoObject(p *cim.Property) bool {
	switch p.Type.Kind {
	case cim.String, cim.Boolean, cim.DateTime, cim.Char16,
		cim.SInt8, cim.UInt8, cim.SInt16, cim.UInt16, cim.SInt32, cim.UInt32, cim.SInt64, cim.UInt64,
		cim.Real32, cim.Real64:
		return true
	}
	return false
}

// slotPath is where secretSlots stands: a slot a level, from the top.
type slotPath struct {
	frames []slotFrame
}

// slotFrame is a property of the object a level up, holding the object
// obj (nil for the secret itself), at index in an array (-1: not an
// array).
type slotFrame struct {
	prop  string
	index int
	obj   *cim.Instance
}

func (s *slotPath) push(prop string, index int, obj *cim.Instance) {
	s.frames = append(s.frames, slotFrame{prop: prop, index: index, obj: obj})
}

func (s *slotPath) pop() { s.frames = s.frames[:len(s.frames)-1] }

// String is the path: "/Prop=Class" for an object, "/Prop[Name]=Class"
// for one in an array (its Name, or "#index" when it has none), then
// "/Prop" for the secret.
func (s *slotPath) String() string { return string(s.appendTo(nil)) }

// appendTo appends the path (String) to buf.
func (s *slotPath) appendTo(buf []byte) []byte {
	if s == nil {
		return buf
	}
	for _, f := range s.frames {
		buf = append(buf, '/')
		buf = append(buf, f.prop...)
		if f.obj == nil {
			continue
		}
		if f.index >= 0 {
			buf = append(buf, '[')
			if label := f.obj.String("Name"); label != "" {
				buf = append(buf, label...)
			} else {
				buf = append(buf, '#')
				buf = strconv.AppendInt(buf, int64(f.index), 10)
			}
			buf = append(buf, ']')
		}
		buf = append(buf, '=')
		buf = append(buf, f.obj.Class.Name...)
	}
	return buf
}

// hasEmptySecret reports whether a secret of ts is empty: one that seal
// fills from the sequence stored before.
func hasEmptySecret(ts *cim.Instance) bool {
	empty := false
	secretSlots(ts, nil, func(_ *slotPath, owner *cim.Instance, prop *cim.Property) {
		if s, _ := owner.Values[prop.Name].(string); s == "" {
			empty = true
		}
	})
	return empty
}

// sealSequence seals the secrets of ts before it is stored. A secret left
// empty keeps the value stored at the same place in the previous sequence
// (old, nil for none): a client that read a sequence (whose secrets read
// empty) and writes it back unchanged does not erase them.
func (p *Provider) sealSequence(ts, old *cim.Instance) { p.seal(ts, old, false) }

// sealRestored seals the secrets of a sequence a revision held: its
// values are sealed already and stay as they were (a value sealed twice
// would not open to the secret); any other is sealed as sealSequence does.
func (p *Provider) sealRestored(ts, old *cim.Instance) { p.seal(ts, old, true) }

func (p *Provider) seal(ts, old *cim.Instance, keepSealed bool) {
	// kept: the sealed values of old by path; buf holds the path of the
	// slot at hand, made only for a value kept or looked up
	var kept map[string]string
	var buf []byte
	if old != nil {
		secretSlots(old, nil, func(path *slotPath, owner *cim.Instance, prop *cim.Property) {
			if s, _ := owner.Values[prop.Name].(string); secrets.IsSealed(s) {
				if kept == nil {
					kept = map[string]string{}
				}
				buf = path.appendTo(buf[:0])
				kept[string(buf)] = s
			}
		})
	}
	secretSlots(ts, nil, func(path *slotPath, owner *cim.Instance, prop *cim.Property) {
		s, _ := owner.Values[prop.Name].(string)
		switch {
		case s == "":
			if len(kept) == 0 {
				return
			}
			buf = path.appendTo(buf[:0])
			if k, ok := kept[string(buf)]; ok {
				owner.Values[prop.Name] = k
			}
		case keepSealed && secrets.IsSealed(s):
		default:
			owner.Values[prop.Name] = p.box.Seal(s)
		}
	})
}

// Reseal seals every stored secret again with the first key of the
// provider's key ring (after a key rotation), in one transaction, and
// returns how many values it resealed. A value no key opens fails it.
func (p *Provider) Reseal(ctx context.Context) (int, error) {
	n := 0
	err := p.write(ctx, func(tx store.Tx) error {
		n = 0
		for _, c := range p.reg.Classes() {
			// of the Private classes only webhooks hold sealed values
			if storable(c) != nil || c.IsPrivate() && c.Name != webhookClass {
				continue
			}
			var texts []*cim.Property
			for _, prop := range c.Properties {
				if prop.Type.Kind == cim.String && !prop.Type.Array {
					texts = append(texts, prop)
				}
			}
			recs, err := tx.List(ctx, c, store.ListOptions{})
			if err != nil {
				return err
			}
			for _, r := range recs {
				full, err := tx.Get(ctx, c, r.Instance.Key(), true)
				if err != nil {
					return err
				}
				changed := false
				for _, prop := range texts {
					s, _ := full.Instance.Values[prop.Name].(string)
					if !strings.Contains(s, secrets.Prefix) {
						continue
					}
					var failed error
					s = sealedPattern.ReplaceAllStringFunc(s, func(v string) string {
						out, err := p.box.Reseal(v)
						if err != nil {
							failed = err
							return v
						}
						n++
						return out
					})
					if failed != nil {
						return errs.E(errs.Internal, "%s(%q).%s: %w", c.Name, full.Instance.Key(), prop.Name, failed)
					}
					full.Instance.Values[prop.Name] = s
					changed = true
				}
				if changed {
					if err := tx.Update(ctx, full); err != nil {
						return err
					}
				}
			}
			if store.HasHistory(c) {
				if err := p.resealHistory(ctx, tx, c, texts, &n); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reseal the stored secrets: %w", err)
	}
	return n, nil
}

var sealedPattern = regexp.MustCompile(regexp.QuoteMeta(secrets.Prefix) + `[A-Za-z0-9_-]*`)

// resealHistory reseals the sealed values the revisions of c hold (their
// text properties), as Reseal does the instances', counting them in n.
func (p *Provider) resealHistory(ctx context.Context, tx store.Tx, c *cim.Class, texts []*cim.Property, n *int) error {
	var after *store.RevisionPosition
	for {
		revs, err := tx.ScanRevisions(ctx, c, after, 16)
		if err != nil || len(revs) == 0 {
			return err
		}
		for i := range revs {
			r := &revs[i]
			changed := false
			for _, prop := range texts {
				s, _ := r.Instance.Values[prop.Name].(string)
				if !strings.Contains(s, secrets.Prefix) {
					continue
				}
				var failed error
				s = sealedPattern.ReplaceAllStringFunc(s, func(v string) string {
					out, err := p.box.Reseal(v)
					if err != nil {
						failed = err
						return v
					}
					*n++
					return out
				})
				if failed != nil {
					return errs.E(errs.Internal, "revision %d of %s(%q).%s: %w", r.Rev, c.Name, r.Key, prop.Name, failed)
				}
				r.Instance.Values[prop.Name] = s
				changed = true
			}
			if changed {
				if err := tx.ReplaceRevision(ctx, r); err != nil {
					return err
				}
			}
		}
		last := revs[len(revs)-1]
		after = &store.RevisionPosition{Key: last.Key, Rev: last.Rev}
	}
}
