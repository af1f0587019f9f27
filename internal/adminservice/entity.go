package adminservice

import (
	"strings"
	"sync"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/provider"
)

// encoder renders instances as AdminService JSON entities.
type encoder struct {
	server string
	site   string
	// classes holds the classEntity of each class written (writeEntity),
	// by *cim.Class; nil: none kept
	classes *sync.Map
}

func (h *Handler) encoder() encoder {
	return encoder{server: h.prov.ServerName(), site: h.prov.SiteCode(), classes: &h.classEntities}
}

// namespace is the WMI namespace of the site.
func (e encoder) namespace() string { return `root\sms\site_` + e.site }

// entity renders obj: @odata.etag, the WMI system properties, then every
// property in class order (lazy ones null unless lazyFilled). selected, when
// not nil, limits the properties to those names plus the keys.
func (e encoder) entity(obj *provider.Object, lazyFilled bool, selected map[string]bool) *cim.JSONObject {
	in := obj.Instance
	c := in.Class
	o := cim.NewObjectSize(entitySystemMembers + len(c.Properties))
	o.Set("@odata.etag", obj.ETag)
	rel := in.RelPath()
	lazy := c.LazyNames()
	if lazy == nil {
		lazy = []string{}
	}
	derivation := c.Derivation
	if derivation == nil {
		derivation = []string{}
	}
	o.Set("__GENUS", 2)
	o.Set("__CLASS", c.Name)
	o.Set("__SUPERCLASS", nullIfEmpty(c.Superclass))
	o.Set("__DYNASTY", c.Dynasty())
	o.Set("__RELPATH", rel)
	o.Set("__PROPERTY_COUNT", len(c.Properties))
	o.Set("__DERIVATION", derivation)
	o.Set("__SERVER", e.server)
	o.Set("__NAMESPACE", e.namespace())
	o.Set("__PATH", `\\`+e.server+`\`+e.namespace()+":"+rel)
	o.Set("__LAZYPROPERTIES", lazy)
	for _, p := range c.Properties {
		if selected != nil && !selected[strings.ToLower(p.Name)] && !p.IsKey() {
			continue
		}
		v := in.Values[p.Name]
		if p.IsLazy() && !lazyFilled {
			v = nil
		}
		o.Set(p.Name, cim.JSONValue(p.Type, v))
	}
	return o
}

// entitySystemMembers is how many members entity writes before the
// properties: the etag and the WMI system properties.
const entitySystemMembers = 12

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
