package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
)

// Machine describes the computer a plan is made for: what the conditions
// of a task sequence look at. A member left out is unknown, and a
// condition that needs it is neither true nor false; an empty list is
// known to be empty. docs/history-diff-lint-plan.md shows the format.
type Machine struct {
	// Environment is where the sequence starts: "WinPE" (PXE, boot media)
	// or "FullOS" (a deployment to a running client); "" for FullOS.
	Environment string `json:"environment,omitempty"`
	// OS is the operating system the full OS conditions see.
	OS *OS `json:"os,omitempty"`
	// WMI lists instances by namespace and class: what WQL conditions are
	// evaluated over. A class absent from its namespace is unknown; an
	// empty list has no instances.
	WMI map[string]map[string][]map[string]any `json:"wmi,omitempty"`
	// Files and Folders are the paths that exist (case-insensitive).
	Files   []string `json:"files,omitempty"`
	Folders []string `json:"folders,omitempty"`
	// Registry maps a key (HKEY_LOCAL_MACHINE\… or HKLM\…) to its values by
	// name; a key listed with no values exists.
	Registry map[string]map[string]RegistryValue `json:"registry,omitempty"`
	// Software lists the installed MSI products.
	Software []Product `json:"software,omitempty"`
	// The facts of Set Dynamic Variables rules; Make and Model default to
	// Win32_ComputerSystem's Manufacturer and Model when WMI lists it.
	Make            string   `json:"make,omitempty"`
	Model           string   `json:"model,omitempty"`
	SerialNumber    string   `json:"serialNumber,omitempty"`
	AssetTag        string   `json:"assetTag,omitempty"`
	UUID            string   `json:"uuid,omitempty"`
	MACAddresses    []string `json:"macAddresses,omitempty"`
	DefaultGateways []string `json:"defaultGateways,omitempty"`
	// FailingSteps names steps (by name or path, e.g. "Steps[2].Steps[0]")
	// that fail on this machine: the plan shows what continue on error
	// does with them.
	FailingSteps []string `json:"failingSteps,omitempty"`

	known   map[string]bool // members present in the JSON
	classes map[string]*machineClass
}

// OS is the installed operating system.
type OS struct {
	// Version is dotted, e.g. "10.0.19045".
	Version string `json:"version"`
	// Architecture is "X64", "X86" or "ARM64".
	Architecture string `json:"architecture,omitempty"`
}

// RegistryValue is one registry value.
type RegistryValue struct {
	Type string `json:"type,omitempty"` // REG_SZ, REG_DWORD, …
	Data string `json:"data"`
}

// Product is one installed MSI product.
type Product struct {
	ProductCode string `json:"productCode,omitempty"`
	UpgradeCode string `json:"upgradeCode,omitempty"`
	Name        string `json:"name,omitempty"`
	Version     string `json:"version,omitempty"`
}

// machineClass is one WMI class of the machine, as a CIM class that the
// query checker and evaluator take, and its instances.
type machineClass struct {
	class     *cim.Class
	instances []*cim.Instance
}

// ParseMachine reads a machine description (JSON). Errors are errs.Invalid
// and name what is wrong.
func ParseMachine(data []byte, reg *cim.Registry) (*Machine, error) {
	m := &Machine{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(m); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "machine description")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "machine description")
	}
	m.known = map[string]bool{}
	for k := range members {
		m.known[k] = true
	}
	switch strings.ToLower(m.Environment) {
	case "", "fullos", "winpe":
	default:
		return nil, errs.E(errs.Invalid, "machine description: environment %q: use WinPE or FullOS", m.Environment)
	}
	if err := m.buildClasses(reg); err != nil {
		return nil, err
	}
	return m, nil
}

// knows reports whether the description has the member.
func (m *Machine) knows(member string) bool { return m != nil && m.known[member] }

// classKey names a class of a namespace, case-insensitively.
func classKey(namespace, class string) string {
	ns := strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(namespace, "/", `\`), `\\.\`))
	if ns == "" {
		ns = `root\cimv2`
	}
	return ns + ":" + strings.ToLower(class)
}

// buildClasses declares one CIM class per WMI class the machine lists,
// its property types taken from the values (integers, reals, booleans,
// strings; an array's elements), and makes its instances.
func (m *Machine) buildClasses(reg *cim.Registry) error {
	m.classes = map[string]*machineClass{}
	if len(m.WMI) == 0 {
		return nil
	}
	type decl struct {
		key, name string
		props     map[string]cim.Kind
		order     []string
		rows      []map[string]any
	}
	var decls []*decl
	nss := sortedKeys(m.WMI)
	for _, ns := range nss {
		for _, cls := range sortedKeys(m.WMI[ns]) {
			d := &decl{key: classKey(ns, cls), name: fmt.Sprintf("TSPROV_Machine%d", len(decls)), props: map[string]cim.Kind{}, rows: m.WMI[ns][cls]}
			for _, row := range d.rows {
				for _, p := range sortedKeys(row) {
					k := kindOf(row[p])
					if k == cim.Invalid {
						continue
					}
					old, ok := d.props[p]
					switch {
					case !ok:
						d.props[p] = k
						d.order = append(d.order, p)
					case old != k && (old == cim.String || k == cim.String || old == cim.Boolean || k == cim.Boolean):
						d.props[p] = cim.String
					case old != k:
						d.props[p] = cim.Real64 // an integer and a real
					}
				}
			}
			decls = append(decls, d)
		}
	}
	var mof strings.Builder
	for _, d := range decls {
		fmt.Fprintf(&mof, "class %s\n{\n", d.name)
		for _, p := range d.order {
			if !validIdent(p) {
				return errs.E(errs.Invalid, "machine description: WMI property %q is not a property name", p)
			}
			fmt.Fprintf(&mof, "    %s %s;\n", d.props[p], p)
		}
		mof.WriteString("};\n")
	}
	ext, _, err := reg.Extend(cim.Source{Name: "machine.json", Text: []byte(mof.String())})
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "machine description: WMI classes")
	}
	for _, d := range decls {
		c, _ := ext.Class(d.name)
		mc := &machineClass{class: c}
		for _, row := range d.rows {
			in := cim.NewInstance(c)
			for p, v := range row {
				if prop, ok := c.Property(p); ok {
					in.Values[prop.Name] = typed(v, prop.Type.Kind)
				}
			}
			mc.instances = append(mc.instances, in)
		}
		m.classes[d.key] = mc
	}
	return nil
}

func validIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// kindOf returns the CIM kind of a JSON value (an array's first element).
func kindOf(v any) cim.Kind {
	switch x := v.(type) {
	case string:
		return cim.String
	case bool:
		return cim.Boolean
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return cim.SInt64
		}
		return cim.Real64
	case []any:
		for _, e := range x {
			if k := kindOf(e); k != cim.Invalid {
				return k
			}
		}
	}
	return cim.Invalid
}

// typed converts a JSON value to the Go value of kind k; an array stays
// an array of such values.
func typed(v any, k cim.Kind) any {
	if arr, ok := v.([]any); ok {
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			out = append(out, typed(e, k))
		}
		return out
	}
	switch k {
	case cim.SInt64:
		if n, ok := v.(json.Number); ok {
			i, _ := n.Int64()
			return i
		}
	case cim.Real64:
		if n, ok := v.(json.Number); ok {
			f, _ := n.Float64()
			return f
		}
	case cim.Boolean:
		if b, ok := v.(bool); ok {
			return b
		}
	}
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// wql answers a WMI condition: true when the query selects at least one
// instance the machine lists. ok is false when the machine does not list
// the class (unknown); err is a query that cannot run (does not parse,
// names a property the class lacks).
func (m *Machine) wql(namespace, src string) (found bool, ok bool, err error) {
	st, err := query.ParseWQL(src)
	if err != nil {
		return false, true, err
	}
	mc, listed := m.classes[classKey(namespace, st.Class)]
	if !listed {
		return false, false, nil
	}
	if st.Where == nil {
		return len(mc.instances) > 0, true, nil
	}
	coerce(st.Where, mc.class)
	if err := st.Check(mc.class, nil); err != nil {
		// say the class as the query names it, not as declared here
		return false, true, &errs.Error{Kind: errs.Invalid, Msg: strings.ReplaceAll(errs.Message(err), mc.class.Name, st.Class), Err: err}
	}
	for _, in := range mc.instances {
		for _, variant := range expandArrays(in) {
			hit, err := query.Eval(st.Where, variant)
			if err != nil {
				return false, true, err
			}
			if hit {
				return true, true, nil
			}
		}
	}
	return false, true, nil
}

// expandArrays returns the instance once for each combination of its
// array values' elements (WMI compares an array property with a constant
// element by element), at most 256 of them.
func expandArrays(in *cim.Instance) []*cim.Instance {
	out := []*cim.Instance{in}
	for _, name := range sortedKeys(in.Values) {
		arr, ok := in.Values[name].([]any)
		if !ok {
			continue
		}
		var next []*cim.Instance
		for _, base := range out {
			if len(arr) == 0 {
				c := &cim.Instance{Class: base.Class, Values: cloneMap(base.Values)}
				c.Values[name] = nil
				next = append(next, c)
			}
			for _, e := range arr {
				if len(next) >= 256 {
					break
				}
				c := &cim.Instance{Class: base.Class, Values: cloneMap(base.Values)}
				c.Values[name] = e
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

func cloneMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// coerce makes the constants a condition compares with a property of c
// the property's type where they can be (WMI converts "8" to 8 for an
// integer property, and 8 to "8" for a string one).
func coerce(e query.Expr, c *cim.Class) {
	kind := func(x query.Expr) (cim.Kind, bool) {
		p, ok := x.(*query.Prop)
		if !ok {
			return 0, false
		}
		prop, ok := c.Property(p.Name)
		if !ok {
			return 0, false
		}
		return prop.Type.Kind, true
	}
	fix := func(lit *query.Literal, k cim.Kind) {
		switch v := lit.Value.(type) {
		case string:
			switch k {
			case cim.SInt64:
				if i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
					lit.Value = i
				}
			case cim.Real64:
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					lit.Value = f
				}
			case cim.Boolean:
				if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
					lit.Value = b
				}
			}
		case int64:
			switch k {
			case cim.String:
				lit.Value = strconv.FormatInt(v, 10)
			case cim.Real64:
				lit.Value = float64(v)
			}
		case float64:
			if k == cim.String {
				lit.Value = strconv.FormatFloat(v, 'f', -1, 64)
			} else if k == cim.SInt64 && v == math.Trunc(v) {
				lit.Value = int64(v)
			}
		case bool:
			if k == cim.String {
				lit.Value = strconv.FormatBool(v)
			}
		}
	}
	query.Walk(e, func(x query.Expr) {
		switch n := x.(type) {
		case *query.Compare:
			if k, ok := kind(n.Left); ok {
				if lit, ok := n.Right.(*query.Literal); ok {
					fix(lit, k)
				}
			}
			if k, ok := kind(n.Right); ok {
				if lit, ok := n.Left.(*query.Literal); ok {
					fix(lit, k)
				}
			}
		case *query.In:
			if k, ok := kind(n.X); ok {
				for _, item := range n.List {
					if lit, ok := item.(*query.Literal); ok {
						fix(lit, k)
					}
				}
			}
		}
	})
}
