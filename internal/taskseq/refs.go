package taskseq

import (
	"slices"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// Qualifiers that mark the properties holding references (sdk-spec.md
// §3.4): a package id, a comma-separated list of package ids, a program
// name paired with a package property, application model names.
const (
	qualPackage     = "TaskSequencePackage"
	qualPackageList = "TaskSequencePackageList"
	qualProgram     = "TaskSequenceProgram"
	qualApplication = "tasksequenceapplication"
	classSubTS      = "SMS_TaskSequence_SubTasksequence"
	subTSPackageID  = "TsPackageID"
)

// References computes what a task sequence refers to, as ConfigMgr lists
// it in References and referenceList: from the qualifiers of the step
// classes, deduplicated, in order of first appearance. A step that is
// disabled, or sits in a disabled group at any depth, contributes nothing
// (every Export-CMTaskSequence object.xml agrees: see
// docs/task-sequences.md). Values that are task sequence variables (%…%)
// refer to nothing fixed, and 00000000 is the "no package" placeholder:
// both are left out.
func References(ts *cim.Instance) []Reference {
	var refs []Reference
	WalkEnabled(ts, func(step *cim.Instance, _ []int) {
		refs = appendStepReferences(refs, step)
	})
	return dedupe(refs)
}

// WithBootImage returns the references of a task sequence package: those
// of its sequence and the boot image its BootImageID names (not listed in
// the sequence's referenceList). An empty BootImageID or the "no package"
// placeholder adds nothing.
func WithBootImage(refs []Reference, bootImageID string) []Reference {
	return dedupe(append(slices.Clip(refs), Reference{Package: bootImageID}))
}

// DisabledReferences are the references that disabled steps (and the
// steps of disabled groups) would contribute if enabled, less those an
// enabled step also makes. They are not references of the sequence; a
// missing one is worth a warning, never DANGLING_REF.
func DisabledReferences(ts *cim.Instance) []Reference {
	enabled := map[Reference]bool{}
	for _, r := range References(ts) {
		enabled[r.key()] = true
	}
	var all []Reference
	Walk(ts, func(step *cim.Instance, _ []int) bool {
		all = appendStepReferences(all, step)
		return true
	})
	var out []Reference
	for _, r := range dedupe(all) {
		if !enabled[r.key()] {
			out = append(out, r)
		}
	}
	return out
}

// noPackage is ConfigMgr's "no package" placeholder in a package property
// (DriverPackageID, InstallPackageID of Upgrade Operating System, …).
const noPackage = "00000000"

// refersToSomething reports whether a property value names a fixed object.
func refersToSomething(id string) bool {
	return id != "" && id != noPackage && !strings.Contains(id, "%")
}

// key is the identity of a reference: ids and programs compare without
// regard to case.
func (r Reference) key() Reference {
	return Reference{Package: strings.ToUpper(r.Package), Program: strings.ToUpper(r.Program), Type: r.Type}
}

// dedupe keeps the first of equal references and drops those that name
// nothing fixed.
func dedupe(refs []Reference) []Reference {
	out := refs[:0:0]
	seen := map[Reference]bool{}
	for _, r := range refs {
		r.Package = strings.TrimSpace(r.Package)
		if !refersToSomething(r.Package) || seen[r.key()] {
			continue
		}
		seen[r.key()] = true
		out = append(out, r)
	}
	return out
}

// appendStepReferences appends what one step's properties name.
func appendStepReferences(refs []Reference, step *cim.Instance) []Reference {
	for _, rp := range classRefProps.Of(step.Class) {
		v, _ := step.Values[rp.prop.Name].(string)
		switch rp.kind {
		case refPackage:
			refs = append(refs, Reference{Package: v, Program: programFor(step, rp.prop)})
		case refPackageList:
			for _, id := range strings.Split(v, ",") {
				refs = append(refs, Reference{Package: id})
			}
		case refApplication:
			for _, name := range strings.Split(v, ",") {
				refs = append(refs, Reference{Package: name, Type: 1})
			}
		}
	}
	return refs
}

// refProp is a property of a step class that names what a step refers
// to, and how.
type refProp struct {
	prop *cim.Property
	kind int // refPackage, refPackageList or refApplication
}

const (
	refPackage = iota + 1
	refPackageList
	refApplication
)

// classRefProps holds refPropsOf's answer by class.
var classRefProps = cim.NewClassMemo(refPropsOf)

// refPropsOf returns the properties of c that name a package (qualified
// Package, or a sub-task sequence's package), a list of packages
// (PackageList) or of applications (Application), in class order.
func refPropsOf(c *cim.Class) []refProp {
	var out []refProp
	for _, p := range c.Properties {
		switch {
		case p.Qualifiers.Has(qualPackage) || (c.IsA(classSubTS) && p.Name == subTSPackageID):
			out = append(out, refProp{p, refPackage})
		case p.Qualifiers.Has(qualPackageList):
			out = append(out, refProp{p, refPackageList})
		case p.Qualifiers.Has(qualApplication):
			out = append(out, refProp{p, refApplication})
		}
	}
	return out
}

// programFor returns the program paired with package property pkg (the
// property qualified TaskSequenceProgram("<pkg>")).
func programFor(step *cim.Instance, pkg *cim.Property) string {
	for _, p := range step.Class.Properties {
		if strings.EqualFold(p.Qualifiers.String(qualProgram), pkg.Name) {
			s, _ := step.Values[p.Name].(string)
			return s
		}
	}
	return ""
}

// Walk calls fn for every step (groups and actions) depth first, with its
// index path; fn returns false to skip a group's children.
func Walk(ts *cim.Instance, fn func(step *cim.Instance, path []int) bool) {
	var walk func(list []any, path []int)
	walk = func(list []any, path []int) {
		for i, s := range list {
			step, ok := s.(*cim.Instance)
			if !ok {
				continue
			}
			p := append(append([]int(nil), path...), i)
			if !fn(step, p) {
				continue
			}
			if children, ok := step.Values["Steps"].([]any); ok {
				walk(children, p)
			}
		}
	}
	steps, _ := ts.Values["Steps"].([]any)
	walk(steps, nil)
}

// WalkEnabled calls fn for every step that runs: enabled steps whose
// groups are all enabled.
func WalkEnabled(ts *cim.Instance, fn func(step *cim.Instance, path []int)) {
	Walk(ts, func(step *cim.Instance, path []int) bool {
		if !IsEnabled(step) {
			return false
		}
		fn(step, path)
		return true
	})
}

// IsEnabled reports a step's Enabled property (true unless set false).
func IsEnabled(step *cim.Instance) bool {
	e, ok := step.Values["Enabled"].(bool)
	return !ok || e
}

// DeploysOS reports whether a task sequence is an operating system
// deployment (Type 2; SaveToXml Flags bit 0). Every step counts, disabled
// or not (an export of a sequence whose only OS step is disabled is Type
// 2): a step is in the OSD category when its class says
// SequenceCategory("OSD"), or when one of the "Property=Value" conditions
// of its class's SequenceCategoryWhen{"OSD", …} qualifier holds (a step
// pinned to Windows PE, a restart into Windows PE). See
// docs/task-sequences.md for the exports that decided the rule.
func DeploysOS(ts *cim.Instance) bool {
	found := false
	Walk(ts, func(step *cim.Instance, _ []int) bool {
		found = found || inSequenceCategory(step, categoryOSD)
		return !found
	})
	return found
}

const categoryOSD = "OSD"

// inSequenceCategory applies the SequenceCategory and SequenceCategoryWhen
// qualifiers of a step's class.
func inSequenceCategory(step *cim.Instance, category string) bool {
	q := step.Class.Qualifiers
	if strings.EqualFold(q.String("SequenceCategory"), category) {
		return true
	}
	when, ok := q.Strings("SequenceCategoryWhen")
	if !ok || len(when) == 0 || !strings.EqualFold(when[0], category) {
		return false
	}
	for _, cond := range when[1:] {
		prop, want, _ := strings.Cut(cond, "=")
		if v, ok := step.Values[prop].(string); ok && strings.EqualFold(v, want) {
			return true
		}
	}
	return false
}

// RemapReferences rewrites every step property that names a package, a
// child task sequence or an application, by the qualifiers References
// reads (TaskSequencePackage, TaskSequencePackageList,
// tasksequenceapplication, the Run Task Sequence step's TsPackageID), in
// every step, disabled ones and those of disabled groups included. to
// returns the new value of an id (and false to keep it); Type 1 names an
// application. It returns how many values changed. Variables (%…%) and
// the "no package" placeholder are never passed to to.
func RemapReferences(ts *cim.Instance, to func(id string, typ int64) (string, bool)) int {
	changed := 0
	mapOne := func(id string, typ int64) string {
		trimmed := strings.TrimSpace(id)
		if !refersToSomething(trimmed) {
			return id
		}
		if n, ok := to(trimmed, typ); ok && n != trimmed {
			changed++
			return n
		}
		return id
	}
	mapList := func(list string, typ int64) string {
		parts := strings.Split(list, ",")
		for i, p := range parts {
			parts[i] = mapOne(p, typ)
		}
		return strings.Join(parts, ",")
	}
	Walk(ts, func(step *cim.Instance, _ []int) bool {
		c := step.Class
		for _, p := range c.Properties {
			v, ok := step.Values[p.Name].(string)
			if !ok || v == "" {
				continue
			}
			switch {
			case p.Qualifiers.Has(qualPackage) || (c.IsA(classSubTS) && p.Name == subTSPackageID):
				step.Values[p.Name] = mapOne(v, 0)
			case p.Qualifiers.Has(qualPackageList):
				step.Values[p.Name] = mapList(v, 0)
			case p.Qualifiers.Has(qualApplication):
				step.Values[p.Name] = mapList(v, 1)
			}
		}
		return true
	})
	return changed
}
