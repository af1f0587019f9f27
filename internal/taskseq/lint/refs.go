package lint

import (
	"strings"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/policy"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// refKind names a reference for a message.
func refKind(r taskseq.Reference) string {
	if r.Type == 1 {
		return "application"
	}
	return "package"
}

// namers returns the steps whose properties name r (ids compare without
// regard to case), enabled or not as asked.
func (l *linter) namers(r taskseq.Reference, enabled bool) []*step {
	var out []*step
	for _, s := range l.steps {
		if s.enabled != enabled || s.isGroup() {
			continue
		}
		for _, sr := range l.refsOf(s) {
			if strings.EqualFold(sr.Package, r.Package) && sr.Type == r.Type {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// refsOf returns what one step's properties refer to, as if it were
// enabled (computed once per step).
func (l *linter) refsOf(s *step) []taskseq.Reference {
	if l.stepRefs == nil {
		l.stepRefs = make([][]taskseq.Reference, len(l.steps))
		for i, st := range l.steps {
			if st.isGroup() {
				continue
			}
			vals := make(map[string]any, len(st.in.Values))
			for k, v := range st.in.Values {
				vals[k] = v
			}
			vals["Enabled"] = true
			one := &cim.Instance{Class: st.in.Class, Values: vals}
			seq := &cim.Instance{Class: st.in.Class, Values: map[string]any{"Steps": []any{one}}}
			l.stepRefs[i] = taskseq.References(seq)
		}
	}
	return l.stepRefs[s.index]
}

// reportReference reports r, "<kind> <id> <says>", on every enabled step
// that names ref, or on the sequence when none does (the boot image).
func (l *linter) reportReference(r *Rule, ref taskseq.Reference, says string) {
	steps := l.namers(ref, true)
	if len(steps) == 0 {
		l.report(r, nil, "the boot image %s %s", ref.Package, says)
		return
	}
	for _, s := range steps {
		l.report(r, s, "%s %s %s", refKind(ref), ref.Package, says)
	}
}

func checkMissingPackage(l *linter) {
	r := rule("missing-package")
	if l.in.Packages == nil {
		l.lacks("packages")
		return
	}
	refs := taskseq.WithBootImage(taskseq.References(l.in.Sequence), l.in.BootImageID)
	for _, ref := range refs {
		st, ok := l.in.Packages.Lookup(ref)
		if !ok || st.Exists {
			continue
		}
		l.reportReference(r, ref, "does not exist")
	}
}

func checkPackageContent(l *linter) {
	r := rule("package-without-content")
	if l.in.Packages == nil {
		l.lacks("packages")
		return
	}
	refs := taskseq.WithBootImage(taskseq.References(l.in.Sequence), l.in.BootImageID)
	for _, ref := range refs {
		if ref.Type == 1 {
			continue // applications are distributed per deployment type
		}
		st, ok := l.in.Packages.Lookup(ref)
		if !ok || !st.Exists {
			continue
		}
		if st.Content == ContentUnknown {
			l.lacks("content")
			continue
		}
		if st.Content != ContentNone {
			continue
		}
		l.reportReference(r, ref, "has its content on no distribution point")
	}
}

func checkDisabledOnlyReferences(l *linter) {
	r := rule("reference-only-disabled")
	for _, ref := range taskseq.DisabledReferences(l.in.Sequence) {
		state := ""
		if l.in.Packages != nil {
			if st, ok := l.in.Packages.Lookup(ref); ok && !st.Exists {
				state = ", and it no longer exists"
			}
		}
		for _, s := range l.namers(ref, false) {
			l.report(r, s, "%s %s is named only by disabled steps%s", refKind(ref), ref.Package, state)
		}
	}
}

func checkSequenceSize(l *linter) {
	r := rule("sequence-too-large")
	if l.in.SequenceXML == nil {
		l.lacks("size")
		return
	}
	if n := len(l.in.SequenceXML); taskseq.CheckSize("the sequence", n) != nil {
		l.report(r, nil, "the sequence is %d bytes of XML as stored; the limit is %d", n, taskseq.MaxSequenceBytes)
	}
}

// checkPolicySize measures the task sequence policy as internal/policy
// builds it for a deployment (UTF-16, TS_Sequence as its secret value).
// Building it encrypts the whole sequence; a sequence whose characters,
// at policy.SequenceUnitBytes each, leave more than policyMargin for the
// rest of the policy cannot reach the limit and is not built.
func checkPolicySize(l *linter) {
	r := rule("policy-too-large")
	if l.in.SequenceXML == nil {
		l.lacks("size")
		return
	}
	if utf16Units(l.in.SequenceXML)*policy.SequenceUnitBytes+policyMargin < policy.MaxPolicyBytes {
		return
	}
	in := policy.TaskSequence{Package: policy.Package{PackageID: "XXX00000"}, BootImageID: l.in.BootImageID, Sequence: string(l.in.SequenceXML)}
	for _, ref := range taskseq.References(l.in.Sequence) {
		in.References = append(in.References, policy.Reference{PackageID: ref.Package, Program: ref.Program})
	}
	n, err := policy.Size(in)
	if err != nil {
		l.lacks("size")
		return
	}
	if n > policy.MaxPolicyBytes {
		l.report(r, nil, "the policy would be %d bytes (UTF-16); the client's limit is %d (32 MB)", n, int64(policy.MaxPolicyBytes))
	}
}

// policyMargin bounds what a task sequence policy holds besides its
// sequence (the CCM_TaskSequence instance, the references, the policy's
// XML: a few kilobytes).
const policyMargin = 1 << 20

// utf16Units counts the UTF-16 code units of UTF-8 text.
func utf16Units(b []byte) int64 {
	var n int64
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}
