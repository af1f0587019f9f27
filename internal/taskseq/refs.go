package taskseq

import (
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

// References computes what a task sequence refers to, from the qualifiers
// of its step classes: deduplicated, in order of first appearance, steps of
// disabled groups included (their content must still exist). Values that
// are task sequence variables (%…%) refer to nothing fixed and are left
// out.
func References(ts *cim.Instance) []Reference {
	var refs []Reference
	seen := map[Reference]bool{}
	add := func(r Reference) {
		r.Package = strings.TrimSpace(r.Package)
		if r.Package == "" || strings.Contains(r.Package, "%") {
			return
		}
		k := Reference{Package: strings.ToUpper(r.Package), Program: strings.ToUpper(r.Program), Type: r.Type}
		if seen[k] {
			return
		}
		seen[k] = true
		refs = append(refs, r)
	}
	Walk(ts, func(step *cim.Instance, _ []int) bool {
		stepReferences(step, add)
		return true
	})
	return refs
}

func stepReferences(step *cim.Instance, add func(Reference)) {
	c := step.Class
	for _, p := range c.Properties {
		v, _ := step.Values[p.Name].(string)
		switch {
		case p.Qualifiers.Has(qualPackage) || (c.IsA(classSubTS) && p.Name == subTSPackageID):
			add(Reference{Package: v, Program: programFor(step, p)})
		case p.Qualifiers.Has(qualPackageList):
			for _, id := range strings.Split(v, ",") {
				add(Reference{Package: id})
			}
		case p.Qualifiers.Has(qualApplication):
			for _, name := range strings.Split(v, ",") {
				add(Reference{Package: name, Type: 1})
			}
		}
	}
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

// DeploysOS reports whether a step's class is in the OSD sequence category
// (SequenceCategory("OSD")): such a sequence is an operating system
// deployment task sequence (Type 2; SaveToXml Flags bit 0).
func DeploysOS(ts *cim.Instance) bool {
	found := false
	Walk(ts, func(step *cim.Instance, _ []int) bool {
		if strings.EqualFold(step.Class.Qualifiers.String("SequenceCategory"), "OSD") {
			found = true
		}
		return !found
	})
	return found
}
