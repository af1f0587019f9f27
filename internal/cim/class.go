package cim

import (
	"strings"
	"unicode/utf8"
)

// Property is one property of a class as the class sees it (inherited
// properties are shared with the base class unless overridden).
type Property struct {
	Name       string
	Type       Type
	Qualifiers Qualifiers
	Default    any    // typed default value, or nil
	Origin     string // the class that declared it (or last overrode it)

	bits      []Bit
	openBits  bool
	rangeLo   int64
	rangeHi   int64
	hasRange  bool
	valueMap  []string
	hasValues bool
}

// IsKey reports the key qualifier.
func (p *Property) IsKey() bool { return p.Qualifiers.Has("key") }

// IsReadOnly reports the read qualifier: clients cannot change the value.
func (p *Property) IsReadOnly() bool { return p.Qualifiers.Has("read") }

// IsLazy reports the lazy qualifier: the value is returned only when the
// instance is read by key.
func (p *Property) IsLazy() bool { return p.Qualifiers.Has("lazy") }

// IsSecret reports the Secret and QuasiSecret qualifiers: a value that is
// never returned to a caller.
func (p *Property) IsSecret() bool {
	return p.Qualifiers.Has("Secret") || p.Qualifiers.Has("QuasiSecret")
}

// IsLarge reports the large qualifier.
func (p *Property) IsLarge() bool { return p.Qualifiers.Has("large") }

// IsIndexed reports whether the schema asks stores to index p (WMI's
// Indexed qualifier): queries often test it for equality.
func (p *Property) IsIndexed() bool { return p.Qualifiers.Has("Indexed") }

// MaxElements returns the max(N) limit on an array's length.
func (p *Property) MaxElements() (int, bool) {
	if !p.Type.Array {
		return 0, false
	}
	n, ok := p.Qualifiers.Int("max")
	return int(n), ok
}

// MaxLength returns the max(N) limit on a string's length in characters
// (UTF-16 code units), as the column of ConfigMgr's site database that
// holds the property bounds it.
func (p *Property) MaxLength() (int, bool) {
	if p.Type.Array || (p.Type.Kind != String && p.Type.Kind != Char16) {
		return 0, false
	}
	n, ok := p.Qualifiers.Int("max")
	return int(n), ok
}

// Bits returns the defined bits of a bit field, when the schema defines them.
func (p *Property) Bits() ([]Bit, bool) { return p.bits, p.bits != nil }

// OpenBits reports the OpenBits qualifier (a tsprov qualifier): the bits
// qualifier names the documented bits of a bit field whose other bits the
// product sets too, so values with other bits are accepted and kept.
// Without it only the defined bits may be set.
func (p *Property) OpenBits() bool { return p.openBits }

// BitMask returns the mask of all defined bits.
func (p *Property) BitMask() uint64 {
	var m uint64
	for _, b := range p.bits {
		m |= 1 << b.Pos
	}
	return m
}

// Range returns the Range("lo-hi") qualifier.
func (p *Property) Range() (lo, hi int64, ok bool) { return p.rangeLo, p.rangeHi, p.hasRange }

// ValueMap returns the closed set of allowed values, when there is one.
func (p *Property) ValueMap() ([]string, bool) { return p.valueMap, p.hasValues }

// Parameter is a method parameter.
type Parameter struct {
	Name       string
	Type       Type
	In, Out    bool
	Qualifiers Qualifiers
}

// Method is a class method.
type Method struct {
	Name       string
	Return     Type
	Params     []*Parameter
	Qualifiers Qualifiers
	Origin     string
}

// IsStatic reports whether the method is called on the class rather than
// on an instance.
func (m *Method) IsStatic() bool { return m.Qualifiers.Has("static") }

// Param returns the parameter named name (case-insensitive).
func (m *Method) Param(name string) (*Parameter, bool) {
	for _, p := range m.Params {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return nil, false
}

// Class is a resolved class: its own declarations merged with everything it
// inherits.
type Class struct {
	Name       string
	Superclass string   // "" for a root class
	Derivation []string // superclasses, nearest first
	Qualifiers Qualifiers
	Properties []*Property // effective properties, in declaration order (base first)
	Methods    []*Method   // effective methods
	// Pos is where the class is declared: "file:line".
	Pos string

	props   map[string]*Property // by lower-case name
	exact   map[string]*Property // by declared name: the common, cheaper lookup
	methods map[string]*Method
	// asciiLineage: Name and Derivation are ASCII (set by the registry)
	asciiLineage bool
	// keys are the key properties (findKeys), set by the registry with
	// keysKnown
	keys      []*Property
	keysKnown bool
}

// Property returns the property named name (case-insensitive).
func (c *Class) Property(name string) (*Property, bool) {
	if p, ok := c.exact[name]; ok {
		return p, true
	}
	var buf [64]byte
	if lower, ok := asciiLower(buf[:0], name); ok {
		p, ok := c.props[string(lower)] // no copy of the name for the lookup
		return p, ok
	}
	p, ok := c.props[strings.ToLower(name)]
	return p, ok
}

// asciiLower appends name lowered to buf, as strings.ToLower lowers it,
// when name is ASCII and fits in buf's capacity; ok is false otherwise.
func asciiLower(buf []byte, name string) (lower []byte, ok bool) {
	if len(name) > cap(buf) {
		return nil, false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x80 {
			return nil, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf, true
}

// Method returns the method named name (case-insensitive).
func (c *Class) Method(name string) (*Method, bool) {
	m, ok := c.methods[strings.ToLower(name)]
	return m, ok
}

// Keys returns the key properties in declaration order. The caller must
// not change the list's elements.
func (c *Class) Keys() []*Property {
	if c.keysKnown {
		return c.keys[:len(c.keys):len(c.keys)] // an append makes a copy
	}
	return c.findKeys()
}

func (c *Class) findKeys() []*Property {
	var keys []*Property
	for _, p := range c.Properties {
		if p.IsKey() {
			keys = append(keys, p)
		}
	}
	return keys
}

// HasKey reports whether some property of c is a key (Keys is not
// empty), without making the list.
func (c *Class) HasKey() bool {
	for _, p := range c.Properties {
		if p.IsKey() {
			return true
		}
	}
	return false
}

// IsAbstract reports the Abstract class qualifier.
func (c *Class) IsAbstract() bool { return c.Qualifiers.Has("Abstract") }

// IsEmbedded reports the Embedded class qualifier: such classes are used
// only inside other objects and have no instances of their own.
func (c *Class) IsEmbedded() bool { return c.Qualifiers.Has("Embedded") }

// Dynasty returns the root class of c's hierarchy.
func (c *Class) Dynasty() string {
	if len(c.Derivation) == 0 {
		return c.Name
	}
	return c.Derivation[len(c.Derivation)-1]
}

// IsA reports whether c is base or derives from it (case-insensitive).
func (c *Class) IsA(base string) bool {
	// ASCII names of other lengths differ: most of the names compared
	// share a long prefix (SMS_TaskSequence_…) that EqualFold would walk.
	lengthsDecide := c.asciiLineage && isASCII(base)
	if (!lengthsDecide || len(c.Name) == len(base)) && strings.EqualFold(c.Name, base) {
		return true
	}
	for _, d := range c.Derivation {
		if (!lengthsDecide || len(d) == len(base)) && strings.EqualFold(d, base) {
			return true
		}
	}
	return false
}

// lineageIsASCII reports whether the names of c and its superclasses are
// all ASCII (as the schema's are), for IsA.
func (c *Class) lineageIsASCII() bool {
	if !isASCII(c.Name) {
		return false
	}
	for _, d := range c.Derivation {
		if !isASCII(d) {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// LazyNames returns the names of the lazy properties, in order.
func (c *Class) LazyNames() []string {
	var names []string
	for _, p := range c.Properties {
		if p.IsLazy() {
			names = append(names, p.Name)
		}
	}
	return names
}

// IsPrivate reports the Private class qualifier: instances never leave the
// server through REST (credentials, the audit trail), and the class is
// absent from $metadata, the service document and the query routes.
func (c *Class) IsPrivate() bool { return c.Qualifiers.Has("Private") }

// ObjectTypeID returns the ObjectTypeID class qualifier: the secured object
// type that role permissions name for this class.
func (c *Class) ObjectTypeID() (int64, bool) { return c.Qualifiers.Int("ObjectTypeID") }

// propertyOf is Property for a name held as bytes; a name of the exact
// case costs no allocation.
func (c *Class) propertyOf(name []byte) (*Property, bool) {
	if p, ok := c.exact[string(name)]; ok {
		return p, true
	}
	return c.Property(string(name))
}
