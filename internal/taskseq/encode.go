package taskseq

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

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

// Marshal writes the sequence as compact XML, as ConfigMgr stores it,
// straight from the object model: the bytes are those of writing the
// element Encode returns.
func (c *Codec) Marshal(ts *cim.Instance, opts WriteOptions) ([]byte, error) {
	b, err := c.marshal(ts, opts)
	if err != nil {
		return nil, err
	}
	defer putMarshalBuffer(b)
	return bytes.Clone(b.Bytes()), nil
}

// MarshalString is Marshal giving a string, for a caller that stores or
// returns the XML as one (without a second copy of it).
func (c *Codec) MarshalString(ts *cim.Instance, opts WriteOptions) (string, error) {
	b, err := c.marshal(ts, opts)
	if err != nil {
		return "", err
	}
	defer putMarshalBuffer(b)
	return b.String(), nil
}

// WriteXML writes to w what Marshal returns, without a copy of it: the
// XML is finished before anything is written, so an error writes nothing.
func (c *Codec) WriteXML(w io.Writer, ts *cim.Instance, opts WriteOptions) error {
	b, err := c.marshal(ts, opts)
	if err != nil {
		return err
	}
	defer putMarshalBuffer(b)
	_, err = w.Write(b.Bytes())
	return err
}

// marshal writes the sequence into a buffer of marshalBuffers, which the
// caller copies the XML out of and then puts back.
func (c *Codec) marshal(ts *cim.Instance, opts WriteOptions) (*bytes.Buffer, error) {
	b := spareBuffer.Swap(nil)
	if b == nil {
		b = marshalBuffers.Get().(*bytes.Buffer)
	}
	b.Reset()
	if err := c.write(ts, opts, &bytesSink{w: b}); err != nil {
		putMarshalBuffer(b)
		return nil, err
	}
	return b, nil
}

// marshalBuffers are the buffers Marshal writes into, reused from call to
// call: a buffer grown by doubling to the size of a large sequence (2 MB)
// allocates and clears about twice that on the way, for every call, while
// copying the finished XML out once costs its size.
var marshalBuffers = sync.Pool{New: func() any {
	b := new(bytes.Buffer)
	b.Grow(64 << 10)
	return b
}}

// maxPooledBuffer bounds the buffers kept for reuse: one that grew beyond
// the largest sequence the size rule lets through (and some) is dropped.
const maxPooledBuffer = 4 << 20

// spareBuffer keeps one buffer out of the pool, which the collector
// empties: a program that allocates much between two calls (a server
// decoding the next 2 MB body) would otherwise grow a new buffer to the
// sequence's size for nearly every call.
var spareBuffer atomic.Pointer[bytes.Buffer]

func putMarshalBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer && !spareBuffer.CompareAndSwap(nil, b) {
		marshalBuffers.Put(b)
	}
}

// Encode turns an SMS_TaskSequence instance into a <sequence> element. An
// instance read from XML is written back as it was read (attribute order
// and layout aside); one built without XML is written as ConfigMgr writes
// version 3.10.
func (c *Codec) Encode(ts *cim.Instance, opts WriteOptions) (*Element, error) {
	var t treeSink
	if err := c.write(ts, opts, &t); err != nil {
		return nil, err
	}
	return t.root, nil
}

// write writes the sequence to out.
func (c *Codec) write(ts *cim.Instance, opts WriteOptions, out xmlSink) error {
	if ts == nil || !ts.Class.IsA(classSequence) {
		return errs.E(errs.Invalid, "not an SMS_TaskSequence")
	}
	r, err := getResidue(ts)
	if err != nil {
		return errs.E(errs.Invalid, "%w", err)
	}
	w := &writer{c: c, opts: opts, out: out}
	version := ts.String("SchemaVersion")
	if version == "" {
		version = "3.10"
	}
	attrs := r.Attrs
	if !hasResidue(ts) {
		attrs = [][2]string{{"version", version}}
	}
	out.open("sequence", setPair(attrs, "version", version), true)
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
			w.referenceList(r, refs)
		case "globalVarList":
			out.open("globalVarList", r.VarListAttrs, false)
			for _, v := range r.Vars {
				if err := w.rawVar(v); err != nil {
					return err
				}
			}
			out.close()
		case "step":
			upto := stepsFor(mi, lastStep, next, len(steps))
			for ; next < upto; next++ {
				if err := w.writeStep(steps[next], fmt.Sprintf("Steps[%d]", next)); err != nil {
					return err
				}
			}
		case "other":
			if err := w.kept(&other); err != nil {
				return err
			}
		}
	}
	out.close()
	return nil
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
	out  xmlSink
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// setPair sets name's value, keeping its place, or appends it. pairs is
// not changed: a list that changes is a copy.
func setPair(pairs [][2]string, name, value string) [][2]string {
	for i := range pairs {
		if pairs[i][0] == name {
			if pairs[i][1] == value {
				return pairs
			}
			out := append([][2]string(nil), pairs...)
			out[i][1] = value
			return out
		}
	}
	out := make([][2]string, len(pairs), len(pairs)+1)
	copy(out, pairs)
	return append(out, [2]string{name, value})
}

// removePair removes name. pairs is not changed: a list that changes is a
// copy.
func removePair(pairs [][2]string, name string) [][2]string {
	if _, ok := pairValue(pairs, name); !ok {
		return pairs
	}
	var out [][2]string
	for _, p := range pairs {
		if p[0] != name {
			out = append(out, p)
		}
	}
	return out
}

// referenceList writes the computed references, or the ones read.
func (w *writer) referenceList(r *residue, refs []Reference) {
	if refs != nil && len(refs) == 0 {
		return
	}
	w.out.open("referenceList", nil, false)
	if refs == nil {
		for _, attrs := range r.References {
			w.out.open("reference", attrs, false)
			w.out.close()
		}
	}
	for _, ref := range refs {
		var attrs [][2]string
		if ref.Type == 1 {
			attrs = [][2]string{{"application", ref.Package}}
		} else {
			attrs = [][2]string{{"package", ref.Package}}
			if ref.Program != "" {
				attrs = append(attrs, [2]string{"program", ref.Program})
			}
		}
		w.out.open("reference", attrs, false)
		w.out.close()
	}
	w.out.close()
}

// kept writes the next element kept in the annotation's Other list (an
// unknown child, or text) and takes it off the list. It is parsed first:
// the annotation may come from a client, and only XML is written.
func (w *writer) kept(other *[]string) error {
	if len(*other) == 0 {
		return nil
	}
	n, err := parseFragment((*other)[0])
	if err != nil {
		return err
	}
	*other = (*other)[1:]
	for _, x := range n {
		w.out.node(x)
	}
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

// rawVar writes a variable as it was read.
func (w *writer) rawVar(v resVar) error {
	if v.Raw != "" {
		n, err := parseFragment(v.Raw)
		if err != nil || len(n) == 0 {
			return err
		}
		w.out.node(n[0])
		return nil
	}
	w.out.open("variable", v.Attrs, false)
	if v.Value != nil {
		w.out.text(*v.Value)
	}
	w.out.close()
	return nil
}

// step returns one step, group or subtasksequence as an element.
func (w *writer) step(v any, where string) (*Element, error) {
	var t treeSink
	sw := &writer{c: w.c, opts: w.opts, out: &t}
	if err := sw.writeStep(v, where); err != nil {
		return nil, err
	}
	return t.root, nil
}

// writeStep writes one step, group or subtasksequence.
func (w *writer) writeStep(v any, where string) error {
	in, ok := v.(*cim.Instance)
	if !ok || !in.Class.IsA(classStep) {
		return errs.Target(errs.Invalid, where, "%s is not an SMS_TaskSequence_Step", where)
	}
	r, err := getResidue(in)
	if err != nil {
		return errs.Target(errs.Invalid, where, "%s: %w", where, err)
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
	w.out.open(name, attrs, true)

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
				if err := w.condition(cond, where+".Condition"); err != nil {
					return err
				}
			}
		case "action":
			if isGroup && r.Action == nil {
				continue
			}
			w.out.open("action", nil, false)
			w.out.text(actionText(in, r))
			w.out.close()
		case "defaultVarList":
			if err := w.variables(in, r, "defaultVarList", r.VarListAttrs, generic, where); err != nil {
				return err
			}
		case "step":
			if !isGroup {
				continue
			}
			upto := stepsFor(mi, lastStep, next, len(steps))
			for ; next < upto; next++ {
				if err := w.writeStep(steps[next], fmt.Sprintf("%s.Steps[%d]", where, next)); err != nil {
					return err
				}
			}
		case "other":
			if err := w.kept(&other); err != nil {
				return err
			}
		}
	}
	w.out.close()
	return nil
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
	for _, p := range classVariables.Of(in.Class) {
		v := in.Values[p.Name]
		if v == nil || p.Name == r.ActionBound || (decoded && p.Default != nil && cim.Equal(v, p.Default)) {
			continue
		}
		return true
	}
	if vs, ok := in.Values["Variables"].([]any); ok && len(vs) > 0 {
		return true
	}
	return false
}

// variables writes defaultVarList (or an expression's variables) with
// the attributes given: the variables read, with bound values taken from
// the properties, then one variable for every other property that has a
// value.
func (w *writer) variables(in *cim.Instance, r *residue, listName string, listAttrs [][2]string, generic bool, where string) error {
	w.out.open(listName, listAttrs, false)
	var written lowerSet
	if r.ActionBound != "" {
		written.add(r.ActionBound)
	}
	decoded := hasResidue(in)
	var genericVars []any
	if generic {
		genericVars, _ = in.Values["Variables"].([]any)
	}
	gi := 0
	for _, rv := range r.Vars {
		if rv.Bound == "" {
			if err := w.rawVar(rv); err != nil {
				return err
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
			w.textElem("variable", genericVariableAttrs(rv.Attrs, gv), gv.String("Value"))
			continue
		}
		key, _ := pairValue(rv.Attrs, "property")
		if listName != "defaultVarList" {
			key, _ = pairValue(rv.Attrs, "name")
		}
		if prop, ok := in.Class.Property(key); ok && w.c.isRuleList(prop) {
			written.add(prop.Name)
			rules, _ := in.Values[prop.Name].([]any)
			text, err := w.rulesXML(rules, where+"."+prop.Name)
			if err != nil {
				return err
			}
			// the text as read, while it still means the rules (when it is
			// the text they write, there is nothing to parse)
			if rv.Value != nil && !w.opts.StripSecrets && *rv.Value != text {
				if old, ok := w.c.parseRules(*rv.Value); ok && cim.Equal(old, rules) {
					text = *rv.Value
				}
			}
			w.textElem("variable", rv.Attrs, text)
			continue
		}
		b, ok := bind(w.c.reg, in.Class, key)
		if !ok {
			continue
		}
		written.add(b.path())
		v := b.get(in)
		secret := isSecret(b.prop) || (b.field != nil && isSecret(b.field))
		text := formatText(v)
		if w.opts.StripSecrets && secret {
			text = ""
		} else if rv.Value != nil && means(b.typ(), *rv.Value, v) {
			text = *rv.Value
		}
		w.textElem("variable", rv.Attrs, text)
	}
	if generic {
		for ; gi < len(genericVars); gi++ {
			gv, _ := genericVars[gi].(*cim.Instance)
			if gv != nil {
				w.textElem("variable", genericVariableAttrs(nil, gv), gv.String("Value"))
			}
		}
		w.out.close()
		return nil
	}
	// properties with a value that no variable held yet
	for _, p := range classVariables.Of(in.Class) {
		v := in.Values[p.Name]
		if v == nil || (decoded && p.Default != nil && cim.Equal(v, p.Default)) {
			continue // a default the source did not write stays unwritten
		}
		if w.c.isRuleList(p) {
			if written.has(p.Name) {
				continue
			}
			text, err := w.rulesXML(v.([]any), where+"."+p.Name)
			if err != nil {
				return err
			}
			w.textElem("variable", [][2]string{{"name", variableName(in.Class, p)}, {"property", p.Name}}, text)
			continue
		}
		if p.Type.Array && p.Type.Kind == cim.Object {
			w.indexedVariables(p, v, &written)
			continue
		}
		if !textual(p.Type) || written.has(p.Name) {
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
		w.textElem("variable", attrs, text)
	}
	w.out.close()
	return nil
}

// indexedVariables writes the elements of an array of objects as
// <Prop><i><Field> variables.
func (w *writer) indexedVariables(p *cim.Property, v any, written *lowerSet) {
	elems, _ := v.([]any)
	for i, e := range elems {
		el, ok := e.(*cim.Instance)
		if !ok {
			continue
		}
		for _, f := range el.Class.Properties {
			fv := el.Values[f.Name]
			path := fmt.Sprintf("%s[%d].%s", p.Name, i, f.Name)
			if fv == nil || !textual(f.Type) || written.has(path) {
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
			w.textElem("variable", [][2]string{{"name", name}, {"property", prop}}, text)
		}
	}
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

// textElem writes an element that holds text only.
func (w *writer) textElem(name string, attrs [][2]string, text string) {
	w.out.open(name, attrs, false)
	w.out.text(text)
	w.out.close()
}
