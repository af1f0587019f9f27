package odata

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/provider"
)

// encoder renders instances in the strict shapes.
type encoder struct {
	format
}

// entity renders obj as an entity of the set of class set: "@odata.etag"
// (the ETag header's value), "@odata.type" when obj is of a subclass, then
// the properties in class order. Lazy properties are left out unless
// lazyFilled (a collection holds none); selected, when not nil, limits the
// properties to those names plus the keys. A collection-valued property
// without values is [], never null.
func (e encoder) entity(set *cim.Class, obj *provider.Object, lazyFilled bool, selected map[string]bool) *cim.JSONObject {
	in := obj.Instance
	o := cim.NewObject()
	o.Set("@odata.etag", adminservice.QuoteETag(obj.ETag))
	if in.Class != set {
		o.Set("@odata.type", cim.ODataType(in.Class.Name))
	}
	for _, p := range in.Class.Properties {
		if selected != nil && !selected[strings.ToLower(p.Name)] && !p.IsKey() {
			continue
		}
		if p.IsLazy() && !lazyFilled {
			continue
		}
		o.Set(p.Name, e.value(p.Type, in.Values[p.Name]))
	}
	return o
}

// value renders v, a value of type t.
func (e encoder) value(t cim.Type, v any) any {
	switch x := v.(type) {
	case nil:
		if t.Array && !t.IsBytes() {
			return []any{}
		}
		return nil
	case cim.DateTimeValue:
		return x.ISO()
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = e.value(t.Elem(), el)
		}
		return out
	case *cim.Instance:
		return e.complex(t, x)
	case int64:
		if t.Kind.IsInt64() {
			return e.int64Value(x)
		}
	}
	return v
}

// complex renders an embedded instance as a complex value: "@odata.type"
// when its class is not the declared one, its kept annotations, then every
// property in class order.
func (e encoder) complex(t cim.Type, in *cim.Instance) *cim.JSONObject {
	o := cim.NewObject()
	if !strings.EqualFold(in.Class.Name, t.Class) {
		o.Set("@odata.type", cim.ODataType(in.Class.Name))
	}
	names := make([]string, 0, len(in.Annotations))
	for k := range in.Annotations {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		o.Set(k, in.Annotations[k])
	}
	for _, p := range in.Class.Properties {
		o.Set(p.Name, e.value(p.Type, in.Values[p.Name]))
	}
	return o
}

// keyPredicate is the key of in as OData writes it in a URL: ('v') or (n)
// for one key, (K1='a',K2=2) for several.
func keyPredicate(in *cim.Instance) string {
	keys := in.Class.Keys()
	lit := func(p *cim.Property) string {
		v := in.Values[p.Name]
		if n, ok := v.(int64); ok {
			return strconv.FormatInt(n, 10)
		}
		return "'" + strings.ReplaceAll(cim.FormatScalar(v), "'", "''") + "'"
	}
	if len(keys) == 1 {
		return "(" + lit(keys[0]) + ")"
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.Name + "=" + lit(k)
	}
	return "(" + strings.Join(parts, ",") + ")"
}
