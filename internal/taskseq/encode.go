package taskseq

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// WriteOptions shape the XML that Encode writes.
type WriteOptions struct {
	// References, when not nil, is the referenceList to write (the
	// computed references); nil keeps the referenceList that was read.
	References []Reference
	// StripSecrets writes Secret and QuasiSecret values empty (ExportXml).
	StripSecrets bool
}

// Marshal writes the sequence as compact XML, as ConfigMgr stores it.
func (c *Codec) Marshal(ts *cim.Instance, opts WriteOptions) ([]byte, error) {
	e, err := c.Encode(ts, opts)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	size := e.size()
	b.Grow(size + size/16) // room for the escapes of a typical sequence
	writeTree(&b, e)
	return b.Bytes(), nil
}

// Encode turns an SMS_TaskSequence instance into a <sequence> element. An
// instance read from XML is written back as it was read (attribute order
// and layout aside); one built without XML is written as ConfigMgr writes
// version 3.10.
func (c *Codec) Encode(ts *cim.Instance, opts WriteOptions) (*Element, error) {
	if ts == nil || !ts.Class.IsA(classSequence) {
		return nil, errs.E(errs.Invalid, "not an SMS_TaskSequence")
	}
	r, err := getResidue(ts)
	if err != nil {
		return nil, errs.E(errs.Invalid, "%w", err)
	}
	w := &writer{c: c, opts: opts}
	version := ts.String("SchemaVersion")
	if version == "" {
		version = "3.10"
	}
	attrs := r.Attrs
	if !hasResidue(ts) {
		attrs = [][2]string{{"version", version}}
	}
	seq := &Element{Name: "sequence", Attrs: toAttrs(setPair(attrs, "version", version))}
	defer dropLayoutWhitespace(seq)
	markers := r.Children
	refs := opts.References
	hasRefList := contains(markers, "referenceList")
	if refs != nil && !hasRefList && len(refs) > 0 && (!hasResidue(ts) || version != "3.00") {
		markers = append([]string{"referenceList"}, markers...)
	}
	if !contains(markers, "step") {
		markers = append(markers, "step")
	}
	steps, _ := ts.Values["Steps"].([]any)
	other := r.Other
	next, lastStep := 0, lastIndex(markers, "step")
	for mi, m := range markers {
		switch m {
		case "referenceList":
			if list := w.referenceList(r, refs); list != nil {
				seq.Children = append(seq.Children, list)
			}
		case "globalVarList":
			list := &Element{Name: "globalVarList", Attrs: toAttrs(r.VarListAttrs)}
			for _, v := range r.Vars {
				if n, err := rawVarNode(v); err != nil {
					return nil, err
				} else if n != nil {
					list.Children = append(list.Children, n)
				}
			}
			seq.Children = append(seq.Children, list)
		case "step":
			upto := stepsFor(mi, lastStep, next, len(steps))
			for ; next < upto; next++ {
				el, err := w.step(steps[next], fmt.Sprintf("Steps[%d]", next))
				if err != nil {
					return nil, err
				}
				seq.Children = append(seq.Children, el)
			}
		case "other":
			if err := appendKept(&seq.Children, &other); err != nil {
				return nil, err
			}
		}
	}
	return seq, nil
}

// lastIndex is the position of the last s in list, or -1.
func lastIndex(list []string, s string) int {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i] == s {
			return i
		}
	}
	return -1
}

// stepsFor says how far the steps go after the "step" marker at position
// mi: one step per marker, and every remaining step at the last marker
// (so steps added through the object model come after the last one read).
func stepsFor(mi, lastStep, next, total int) int {
	if mi == lastStep {
		return total
	}
	if next < total {
		return next + 1
	}
	return next
}

type writer struct {
	c    *Codec
	opts WriteOptions
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// setPair sets name's value, keeping its place, or appends it.
func setPair(pairs [][2]string, name, value string) [][2]string {
	out := append([][2]string(nil), pairs...)
	for i := range out {
		if out[i][0] == name {
			out[i][1] = value
			return out
		}
	}
	return append(out, [2]string{name, value})
}

func removePair(pairs [][2]string, name string) [][2]string {
	var out [][2]string
	for _, p := range pairs {
		if p[0] != name {
			out = append(out, p)
		}
	}
	return out
}

// referenceList writes the computed references, or the ones read.
func (w *writer) referenceList(r *residue, refs []Reference) *Element {
	list := &Element{Name: "referenceList"}
	if refs == nil {
		for _, attrs := range r.References {
			list.Children = append(list.Children, &Element{Name: "reference", Attrs: toAttrs(attrs)})
		}
		return list
	}
	if len(refs) == 0 {
		return nil
	}
	for _, ref := range refs {
		var attrs []Attr
		if ref.Type == 1 {
			attrs = append(attrs, Attr{"application", ref.Package})
		} else {
			attrs = append(attrs, Attr{"package", ref.Package})
			if ref.Program != "" {
				attrs = append(attrs, Attr{"program", ref.Program})
			}
		}
		list.Children = append(list.Children, &Element{Name: "reference", Attrs: attrs})
	}
	return list
}

// appendKept appends the next element kept in the annotation's Other
// list (an unknown child, or text) and takes it off the list.
func appendKept(children *[]Node, other *[]string) error {
	if len(*other) == 0 {
		return nil
	}
	n, err := parseFragment((*other)[0])
	if err != nil {
		return err
	}
	*other = (*other)[1:]
	*children = append(*children, n...)
	return nil
}

// parseFragment parses XML kept as text (an unknown element, or text).
func parseFragment(s string) ([]Node, error) {
	wrapped, err := parseTree([]byte("<x>"+s+"</x>"), DefaultLimits)
	if err != nil {
		return nil, errs.E(errs.Invalid, "an element kept in the %s annotation is not XML: %w", residueKey, err)
	}
	return wrapped.Children, nil
}

func rawVarNode(v resVar) (Node, error) {
	if v.Raw != "" {
		n, err := parseFragment(v.Raw)
		if err != nil || len(n) == 0 {
			return nil, err
		}
		return n[0], nil
	}
	el := &Element{Name: "variable", Attrs: toAttrs(v.Attrs)}
	if v.Value != nil && *v.Value != "" {
		el.Children = []Node{Text(*v.Value)}
	}
	return el, nil
}

// step writes one step, group or subtasksequence.
func (w *writer) step(v any, where string) (*Element, error) {
	in, ok := v.(*cim.Instance)
	if !ok || !in.Class.IsA(classStep) {
		return nil, errs.Target(errs.Invalid, where, "%s is not an SMS_TaskSequence_Step", where)
	}
	r, err := getResidue(in)
	if err != nil {
		return nil, errs.Target(errs.Invalid, where, "%s: %w", where, err)
	}
	cls := in.Class
	generic := cls.IsA(classGenericAction)
	fresh := !hasResidue(in)
	if generic {
		var read bool
		r, read = genericLayout(in, r)
		fresh = !read
	}
	name := r.Element
	if name == "" {
		name = defaultElement(cls)
	}
	el := &Element{Name: name}
	attrs := r.Attrs
	if fresh {
		attrs = defaultStepAttrs(cls, name)
	}
	// type
	if name != "group" {
		typ := cls.Name
		if generic {
			typ = in.String("ActionType")
		}
		if _, had := pairValue(attrs, "type"); had || typ != "" {
			attrs = setPair(attrs, "type", typ)
		}
	}
	for _, a := range stepAttrs {
		p, ok := cls.Property(a.prop)
		if !ok {
			attrs = removePair(attrs, a.attr)
			continue
		}
		attrs = w.stepAttr(attrs, a, p, in.Values[p.Name], fresh)
	}
	el.Attrs = toAttrs(attrs)
	defer dropLayoutWhitespace(el)

	markers := r.Children
	if fresh {
		markers = []string{"condition", "action", "defaultVarList", "step"}
	}
	cond, _ := in.Values["Condition"].(*cim.Instance)
	if cond != nil && !contains(markers, "condition") {
		markers = append([]string{"condition"}, markers...)
	}
	isGroup := cls.IsA(classGroup)
	if isGroup && !contains(markers, "step") {
		markers = append(markers, "step")
	}
	if !isGroup && !contains(markers, "defaultVarList") && hasVariables(in, r) {
		markers = append(markers, "defaultVarList")
	}
	if !isGroup && !contains(markers, "action") && fresh {
		markers = append(markers, "action")
	}
	other := r.Other
	steps, _ := in.Values["Steps"].([]any)
	next, lastStep := 0, lastIndex(markers, "step")
	for mi, m := range markers {
		switch m {
		case "condition":
			if cond != nil {
				ce, err := w.condition(cond, where+".Condition")
				if err != nil {
					return nil, err
				}
				el.Children = append(el.Children, ce)
			}
		case "action":
			if isGroup && r.Action == nil {
				continue
			}
			text := actionText(in, r)
			a := &Element{Name: "action"}
			if text != "" {
				a.Children = []Node{Text(text)}
			}
			el.Children = append(el.Children, a)
		case "defaultVarList":
			list, err := w.variables(in, r, "defaultVarList", generic, where)
			if err != nil {
				return nil, err
			}
			el.Children = append(el.Children, list)
		case "step":
			if !isGroup {
				continue
			}
			upto := stepsFor(mi, lastStep, next, len(steps))
			for ; next < upto; next++ {
				se, err := w.step(steps[next], fmt.Sprintf("%s.Steps[%d]", where, next))
				if err != nil {
					return nil, err
				}
				el.Children = append(el.Children, se)
			}
		case "other":
			if err := appendKept(&el.Children, &other); err != nil {
				return nil, err
			}
		}
	}
	return el, nil
}

// actionText is the <action> a step is written with: the command line its
// class's template derives from its arguments (cmdline.go), except that
//   - a step read with an <action> that the template did not give (an MDT
//     template, an older ConfigMgr, a hand edit) keeps that text as long as
//     its arguments still derive what they derived when it was read;
//   - an MDT Workbench Run Command Line, whose command only <action> holds
//     (ActionBound), writes that property there, as the Workbench does;
//   - a step that MDT runs through one of its scripts keeps that command
//     line, changed or not: the script reads the step's variables itself;
//   - a step whose class has no template (a generic action) keeps the text
//     read.
func actionText(in *cim.Instance, r *residue) string {
	if r.ActionBound != "" {
		text, _ := in.Values[r.ActionBound].(string)
		return text
	}
	derived, ok := deriveCommandLine(in)
	switch {
	case !ok && r.Action != nil:
		return *r.Action
	case !ok:
		return ""
	case r.Action != nil && runsMDTScript(*r.Action):
		return *r.Action
	case r.Action != nil && r.Derived != nil && *r.Derived == derived:
		return *r.Action // unchanged since read: the file's text stands
	}
	return derived
}

// defaultStepAttrs is the attribute order ConfigMgr writes (3.10).
func defaultStepAttrs(cls *cim.Class, elem string) [][2]string {
	switch elem {
	case "group":
		return [][2]string{{"name", ""}, {"description", ""}}
	case "subtasksequence":
		return [][2]string{{"type", ""}, {"name", ""}, {"description", ""}, {"successCodeList", "0 3010"}, {"retryCount", "0"}, {"runFromNet", "false"}}
	}
	return [][2]string{{"type", ""}, {"name", ""}, {"description", ""}, {"runIn", ""}, {"successCodeList", "0 3010"}, {"retryCount", "0"}, {"runFromNet", "false"}}
}

// stepAttr writes one attribute that holds a property: the raw text when
// it still means the value, otherwise the value; an attribute the source
// did not have is added only when the value is not what its absence means.
func (w *writer) stepAttr(attrs [][2]string, a stepAttr, p *cim.Property, v any, fresh bool) [][2]string {
	raw, present := pairValue(attrs, a.attr)
	want := v
	if a.negate {
		b, _ := v.(bool)
		if v == nil {
			b = true
		}
		want = !b
	}
	if present && !fresh {
		if means(p.Type, raw, want) {
			return attrs
		}
		if v == nil {
			return removePair(attrs, a.attr)
		}
		return setPair(attrs, a.attr, formatText(want))
	}
	// absent in the source (or a fresh step): write only what differs from
	// what absence means
	implied := any(nil)
	if a.negate {
		implied = false // no disable attribute: enabled
	} else if a.prop == "ContinueOnError" {
		implied = false
	} else if p.Default != nil && !fresh {
		implied = p.Default
	}
	switch {
	case v == nil && !a.negate:
		if fresh && (a.attr == "name" || a.attr == "description") {
			return setPair(attrs, a.attr, "")
		}
		return removePair(attrs, a.attr)
	case implied != nil && cim.Equal(want, implied):
		return removePair(attrs, a.attr)
	}
	return setPair(attrs, a.attr, formatText(want))
}

// hasVariables reports whether a step has any property written as a
// variable: for a step read from XML, one whose value is not the default
// the source left unwritten, nor the command line its <action> holds.
func hasVariables(in *cim.Instance, r *residue) bool {
	decoded := hasResidue(in)
	for _, p := range in.Class.Properties {
		v := in.Values[p.Name]
		if isStepLevel(p) || v == nil || p.Name == r.ActionBound || (decoded && p.Default != nil && cim.Equal(v, p.Default)) {
			continue
		}
		return true
	}
	if vs, ok := in.Values["Variables"].([]any); ok && len(vs) > 0 {
		return true
	}
	return false
}

// variables writes defaultVarList (or an expression's variables): the
// variables read, with bound values taken from the properties, then one
// variable for every other property that has a value.
func (w *writer) variables(in *cim.Instance, r *residue, listName string, generic bool, where string) (*Element, error) {
	list := &Element{Name: listName, Attrs: toAttrs(r.VarListAttrs)}
	written := map[string]bool{}
	if r.ActionBound != "" {
		written[strings.ToLower(r.ActionBound)] = true
	}
	decoded := hasResidue(in)
	var genericVars []any
	if generic {
		genericVars, _ = in.Values["Variables"].([]any)
	}
	gi := 0
	for _, rv := range r.Vars {
		if rv.Bound == "" {
			n, err := rawVarNode(rv)
			if err != nil {
				return nil, err
			}
			if n != nil {
				list.Children = append(list.Children, n)
			}
			continue
		}
		if generic {
			if gi >= len(genericVars) {
				continue // the variable was removed
			}
			gv, _ := genericVars[gi].(*cim.Instance)
			gi++
			if gv == nil {
				continue
			}
			list.Children = append(list.Children, textElem("variable", genericVariableAttrs(rv.Attrs, gv), gv.String("Value")))
			continue
		}
		key, _ := pairValue(rv.Attrs, "property")
		if listName != "defaultVarList" {
			key, _ = pairValue(rv.Attrs, "name")
		}
		if prop, ok := in.Class.Property(key); ok && w.c.isRuleList(prop) {
			written[strings.ToLower(prop.Name)] = true
			rules, _ := in.Values[prop.Name].([]any)
			text, err := w.rulesXML(rules, where+"."+prop.Name)
			if err != nil {
				return nil, err
			}
			if rv.Value != nil && !w.opts.StripSecrets {
				if old, ok := w.c.parseRules(*rv.Value); ok && cim.Equal(old, rules) {
					text = *rv.Value
				}
			}
			list.Children = append(list.Children, textElem("variable", rv.Attrs, text))
			continue
		}
		b, ok := bind(w.c.reg, in.Class, key)
		if !ok {
			continue
		}
		written[strings.ToLower(b.path())] = true
		v := b.get(in)
		secret := isSecret(b.prop) || (b.field != nil && isSecret(b.field))
		text := formatText(v)
		if w.opts.StripSecrets && secret {
			text = ""
		} else if rv.Value != nil && means(b.typ(), *rv.Value, v) {
			text = *rv.Value
		}
		list.Children = append(list.Children, textElem("variable", rv.Attrs, text))
	}
	if generic {
		for ; gi < len(genericVars); gi++ {
			gv, _ := genericVars[gi].(*cim.Instance)
			if gv != nil {
				list.Children = append(list.Children, textElem("variable", genericVariableAttrs(nil, gv), gv.String("Value")))
			}
		}
		return list, nil
	}
	// properties with a value that no variable held yet
	for _, p := range in.Class.Properties {
		if isStepLevel(p) {
			continue
		}
		v := in.Values[p.Name]
		if v == nil || (decoded && p.Default != nil && cim.Equal(v, p.Default)) {
			continue // a default the source did not write stays unwritten
		}
		if w.c.isRuleList(p) {
			if written[strings.ToLower(p.Name)] {
				continue
			}
			text, err := w.rulesXML(v.([]any), where+"."+p.Name)
			if err != nil {
				return nil, err
			}
			list.Children = append(list.Children, textElem("variable", [][2]string{{"name", variableName(in.Class, p)}, {"property", p.Name}}, text))
			continue
		}
		if p.Type.Array && p.Type.Kind == cim.Object {
			if err := w.indexedVariables(list, p, v, written); err != nil {
				return nil, err
			}
			continue
		}
		if !textual(p.Type) || written[strings.ToLower(p.Name)] {
			continue
		}
		text := formatText(v)
		if w.opts.StripSecrets && isSecret(p) {
			text = ""
		}
		attrs := [][2]string{{"name", variableName(in.Class, p)}}
		if listName == "defaultVarList" {
			attrs = append(attrs, [2]string{"property", p.Name})
		} else {
			attrs = [][2]string{{"name", p.Name}}
		}
		list.Children = append(list.Children, textElem("variable", attrs, text))
	}
	return list, nil
}

// indexedVariables writes the elements of an array of objects as
// <Prop><i><Field> variables.
func (w *writer) indexedVariables(list *Element, p *cim.Property, v any, written map[string]bool) error {
	elems, _ := v.([]any)
	for i, e := range elems {
		el, ok := e.(*cim.Instance)
		if !ok {
			continue
		}
		for _, f := range el.Class.Properties {
			fv := el.Values[f.Name]
			path := fmt.Sprintf("%s[%d].%s", p.Name, i, f.Name)
			if fv == nil || !textual(f.Type) || written[strings.ToLower(path)] {
				continue
			}
			prop := fmt.Sprintf("%s%d%s", p.Name, i, f.Name)
			name := prop
			if prefix := p.Qualifiers.String("VariableName"); prefix != "" {
				name = fmt.Sprintf("%s%d%s", prefix, i, f.Name)
			}
			text := formatText(fv)
			if w.opts.StripSecrets && isSecret(f) {
				text = ""
			}
			list.Children = append(list.Children, textElem("variable", [][2]string{{"name", name}, {"property", prop}}, text))
		}
	}
	return nil
}

// variableName is the TS variable a property is written as: its
// VariableName, else the class's VariablePrefix and the property name
// (the custom action MOF rule), else the property name.
func variableName(cls *cim.Class, p *cim.Property) string {
	if n := p.Qualifiers.String("VariableName"); n != "" {
		return n
	}
	return cls.Qualifiers.String("VariablePrefix") + p.Name
}

func textElem(name string, attrs [][2]string, text string) *Element {
	el := &Element{Name: name, Attrs: toAttrs(attrs)}
	if text != "" {
		el.Children = []Node{Text(text)}
	}
	return el
}
