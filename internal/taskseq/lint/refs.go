package lint

import (
	"strings"
	"unicode/utf8"

	"github.com/tsprov/tsprov/internal/cim"
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
		steps := l.namers(ref, true)
		if len(steps) == 0 { // the boot image
			l.report(r, nil, "the boot image %s does not exist", ref.Package)
			continue
		}
		for _, s := range steps {
			l.report(r, s, "%s %s does not exist", refKind(ref), ref.Package)
		}
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
		steps := l.namers(ref, true)
		if len(steps) == 0 {
			l.report(r, nil, "the boot image %s has its content on no distribution point", ref.Package)
			continue
		}
		for _, s := range steps {
			l.report(r, s, "package %s has its content on no distribution point", ref.Package)
		}
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

// MaxPolicyBytes is the size of task sequence policy a client processes
// (32 MB, expanded: UTF-16 text).
const MaxPolicyBytes = 32 << 20

// PolicyBytes estimates the expanded size of the task sequence policy that
// carries a sequence of utf16 UTF-16 code units: the policy is UTF-16
// text, and TS_Sequence is a secret value, the hex of an encrypted blob
// (a 64-byte header, then the UTF-16LE sequence and its NUL, padded to
// the cipher block). Each code unit of the sequence is 2 bytes of
// plaintext, 4 hex digits, 8 bytes of policy. policyEnvelope covers the
// rest of the policy body (the CCM_TaskSequence instance, its other
// properties and the policy's XML).
func PolicyBytes(utf16 int) int {
	plain := 2 * (utf16 + 1)
	blob := 64 + (plain/16+1)*16
	return 2*2*blob + policyEnvelope
}

// policyEnvelope is the UTF-16 size of a task sequence policy without its
// TS_Sequence value, rounded up (a policy body of about 2,000 characters).
const policyEnvelope = 4 << 10

// utf16Units counts the UTF-16 code units of UTF-8 text.
func utf16Units(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func checkSequenceSize(l *linter) {
	r := rule("sequence-too-large")
	if l.in.SequenceBytes == 0 {
		l.lacks("size")
		return
	}
	if err := taskseq.CheckSize("the sequence", l.in.SequenceBytes); err != nil {
		l.report(r, nil, "the sequence is %d bytes of XML as stored; the limit is %d", l.in.SequenceBytes, taskseq.MaxSequenceBytes)
	}
}

func checkPolicySize(l *linter) {
	r := rule("policy-too-large")
	units := l.in.SequenceUTF16
	if units == 0 {
		units = l.in.SequenceBytes
	}
	if units == 0 {
		l.lacks("size")
		return
	}
	if n := PolicyBytes(units); n > MaxPolicyBytes {
		l.report(r, nil, "the policy would be about %d bytes (%d UTF-16 characters of sequence); the client's limit is %d", n, units, MaxPolicyBytes)
	}
}
