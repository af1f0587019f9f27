package adminservice

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/provider"
)

// writeEntity writes what entity(obj, lazyFilled, selected) builds, byte
// for byte, straight to w: no object of ninety members a row built, then
// read back. What every instance of a class writes alike (the WMI system
// properties but its paths, each member's name) is encoded once per class
// (classEntity).
func (e encoder) writeEntity(w cim.JSONWriter, obj *provider.Object, lazyFilled bool, selected map[string]bool) error {
	in := obj.Instance
	ce := e.classEntity(in.Class)
	rel := in.RelPath()
	w.WriteString(`{"@odata.etag":`)
	cim.WriteJSONString(w, obj.ETag)
	w.Write(ce.beforeRel)
	cim.WriteJSONString(w, rel)
	w.Write(ce.beforePath)
	cim.WriteJSONString(w, ce.pathPrefix+rel)
	w.Write(ce.afterPath)
	for i, p := range in.Class.Properties {
		cp := &ce.props[i]
		if selected != nil && !selected[cp.lower] && !cp.key {
			continue
		}
		v := in.Values[p.Name]
		if cp.lazy && !lazyFilled {
			v = nil
		}
		w.Write(cp.member)
		if err := cim.WriteJSONValue(w, cim.JSONValue(p.Type, v)); err != nil {
			return fmt.Errorf("member %s: %w", p.Name, err)
		}
	}
	return w.WriteByte('}')
}

// classEntity is what writeEntity writes alike for every instance of a
// class, for one server and site.
type classEntity struct {
	beforeRel  []byte // the system properties up to "__RELPATH":
	beforePath []byte // from __PROPERTY_COUNT up to "__PATH":
	afterPath  []byte // __LAZYPROPERTIES
	pathPrefix string // __PATH up to the relative path: \\server\namespace:
	props      []propEntity
}

// propEntity is one property of a classEntity, in class order.
type propEntity struct {
	member    []byte // ,"Name":
	lower     string // the name in lower case, as $select holds it
	key, lazy bool
}

// classEntity returns c's classEntity, made on first use.
func (e encoder) classEntity(c *cim.Class) *classEntity {
	if e.classes == nil {
		return e.newClassEntity(c)
	}
	if ce, ok := e.classes.Load(c); ok {
		return ce.(*classEntity)
	}
	ce, _ := e.classes.LoadOrStore(c, e.newClassEntity(c))
	return ce.(*classEntity)
}

// newClassEntity encodes the members entity sets alike for every
// instance of c, with the values entity sets (so written as it writes
// them).
func (e encoder) newClassEntity(c *cim.Class) *classEntity {
	lazy := c.LazyNames()
	if lazy == nil {
		lazy = []string{}
	}
	derivation := c.Derivation
	if derivation == nil {
		derivation = []string{}
	}
	members := func(kv ...any) []byte {
		var b bytes.Buffer
		for i := 0; i < len(kv); i += 2 {
			b.WriteByte(',')
			cim.WriteJSONString(&b, kv[i].(string))
			b.WriteByte(':')
			if i+1 < len(kv) {
				_ = cim.WriteJSONValue(&b, kv[i+1])
			}
		}
		return b.Bytes()
	}
	ce := &classEntity{
		beforeRel: members("__GENUS", 2, "__CLASS", c.Name, "__SUPERCLASS", nullIfEmpty(c.Superclass), "__DYNASTY", c.Dynasty(), "__RELPATH"),
		beforePath: members("__PROPERTY_COUNT", len(c.Properties), "__DERIVATION", derivation,
			"__SERVER", e.server, "__NAMESPACE", e.namespace(), "__PATH"),
		afterPath:  members("__LAZYPROPERTIES", lazy),
		pathPrefix: `\\` + e.server + `\` + e.namespace() + ":",
		props:      make([]propEntity, len(c.Properties)),
	}
	for i, p := range c.Properties {
		ce.props[i] = propEntity{member: members(p.Name), lower: strings.ToLower(p.Name), key: p.IsKey(), lazy: p.IsLazy()}
	}
	return ce
}
