package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// The task sequence package and the properties the sequence methods own.
const (
	tsPackageClass     = "SMS_TaskSequencePackage"
	tsClass            = "SMS_TaskSequence"
	tsReferenceClass   = "SMS_TaskSequence_Reference"
	reverseRefClass    = "SMS_TaskSequencePackageReference"
	applicationClass   = "SMS_Application"
	sequenceProperty   = "Sequence"
	referencesProperty = "References"
	typeProperty       = "Type"
	flagsProperty      = "TaskSequenceFlags"
	bootImageProperty  = "BootImageID"
	danglingRefBit     = 1 // TaskSequenceFlags DANGLING_REF(0)
)

// importSequence: ImportSequence(SequenceXML) → TaskSequence.
func (p *Provider) importSequence(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	xml, _ := in["SequenceXML"].(string)
	ts, err := p.parseSequence("SequenceXML", xml)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"TaskSequence": ts}, 0, nil
}

// loadFromXml: SMS_TaskSequence.LoadFromXml(Xml), superseded by
// ImportSequence and doing the same.
func (p *Provider) loadFromXML(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	xml, _ := in["Xml"].(string)
	ts, err := p.parseSequence("Xml", xml)
	if err != nil {
		return nil, 0, err
	}
	return outputs(m, ts), 0, nil
}

// outputs puts a method's single object result in its [out] parameter,
// or in the method's return position when it declares none.
func outputs(m *cim.Method, v any) map[string]any {
	for _, prm := range m.Params {
		if prm.Out {
			return map[string]any{prm.Name: v}
		}
	}
	return map[string]any{"ReturnValue": v}
}

// parseSequence reads task sequence XML of any shape; errors name the
// parameter.
func (p *Provider) parseSequence(param, xml string) (*cim.Instance, error) {
	if strings.TrimSpace(xml) == "" {
		return nil, errs.Target(errs.Invalid, param, "%s is empty: expected task sequence XML", param)
	}
	if err := taskseq.CheckSize(param, len(xml)); err != nil {
		return nil, err
	}
	ts, _, err := p.codec.Parse([]byte(xml))
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "%s", param)
	}
	return ts, nil
}

// writeSequence writes ts as task sequence XML under the size rule: XML
// above 2 MB is refused (errs.TooLarge naming param) rather than returned
// or stored.
func (p *Provider) writeSequence(param string, ts *cim.Instance, opts taskseq.WriteOptions) (string, error) {
	xml, err := p.codec.MarshalString(ts, opts)
	if err != nil {
		return "", err
	}
	if err := taskseq.CheckSize(param, len(xml)); err != nil {
		return "", err
	}
	return xml, nil
}

// getSequence: GetSequence(TaskSequencePackage) → TaskSequence. The
// package may be passed by its key alone.
func (p *Provider) getSequence(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	pkg, ok := in["TaskSequencePackage"].(*cim.Instance)
	if !ok {
		return nil, 0, errs.Target(errs.Invalid, "TaskSequencePackage", "TaskSequencePackage is required")
	}
	id := pkg.String(packageIDProperty)
	if id == "" {
		return nil, 0, errs.Target(errs.Invalid, "TaskSequencePackage.PackageID", "TaskSequencePackage.PackageID is required")
	}
	obj, err := p.Get(ctx, tsPackageClass, id)
	if err != nil {
		return nil, 0, err
	}
	ts, err := p.sequenceOf(obj.Instance)
	if err != nil {
		return nil, 0, err
	}
	stripTree(ts)
	return map[string]any{"TaskSequence": ts}, 0, nil
}

// sequenceOf parses a package's stored Sequence (an empty sequence when it
// has none yet).
func (p *Provider) sequenceOf(pkg *cim.Instance) (*cim.Instance, error) {
	xml := pkg.String(sequenceProperty)
	if xml == "" {
		c, _ := p.reg.Class(tsClass)
		ts := cim.NewInstance(c)
		ts.Set("Steps", []any{})
		return ts, nil
	}
	ts, _, err := p.codec.Parse([]byte(xml))
	if err != nil {
		return nil, errs.E(errs.Internal, "stored sequence of %s does not parse: %w", pkg.Key(), err)
	}
	return ts, nil
}

// setSequence: SetSequence(TaskSequencePackage, TaskSequence) →
// SavedTaskSequencePackagePath. It creates the package when it has no
// PackageID (no separate POST needed, as the SDK sample shows) or updates
// it (properties given and not null are applied, as PATCH does), stores the
// sequence's XML and recomputes References, ReferencesCount, Type, the
// DANGLING_REF flag and the reverse references, all in one transaction.
func (p *Provider) setSequence(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	pkg, ok := in["TaskSequencePackage"].(*cim.Instance)
	if !ok {
		return nil, 0, errs.Target(errs.Invalid, "TaskSequencePackage", "TaskSequencePackage is required")
	}
	if !pkg.Class.IsA(tsPackageClass) {
		return nil, 0, errs.Target(errs.Invalid, "TaskSequencePackage", "TaskSequencePackage must be an SMS_TaskSequencePackage, not %s", pkg.Class.Name)
	}
	ts, ok := in["TaskSequence"].(*cim.Instance)
	if !ok {
		return nil, 0, errs.Target(errs.Invalid, "TaskSequence", "TaskSequence is required")
	}
	// ts is this call's own (see Invoke): defaults and sealing change it
	// in place.
	fillDefaults(ts)
	problems := taskseq.Validate(ts)
	if errors := taskseq.Errors(problems); len(errors) > 0 {
		return nil, 0, validationError(errors)
	}
	var path string
	err := p.write(ctx, func(tx store.Tx) error {
		server := func(inst *cim.Instance) error { return p.applySequence(ctx, tx, inst, ts) }
		var stored *cim.Instance
		var err error
		if id := pkg.String(packageIDProperty); id != "" {
			stored, err = p.updateTx(ctx, tx, pkg.Class, id, withoutNulls(pkg), Merge, "", server)
		} else {
			stored, err = p.createTx(ctx, tx, pkg, server)
		}
		if err != nil {
			return err
		}
		path = stored.RelPath()
		return p.recordMethod(ctx, tx, stored)
	})
	if err != nil {
		return nil, 0, err
	}
	out := map[string]any{"SavedTaskSequencePackagePath": path}
	if warnings := warningsOf(problems); len(warnings) > 0 {
		out[warningsOut] = warnings
	}
	return out, 0, nil
}

// warningsOf words the problems that do not refuse a sequence.
func warningsOf(problems []taskseq.Problem) []string {
	var out []string
	for _, pr := range problems {
		if pr.Warning {
			out = append(out, pr.String())
		}
	}
	return out
}

// withoutNulls drops the null values of an instance sent to SetSequence:
// a package instance the client built holds only what it set.
func withoutNulls(in *cim.Instance) *cim.Instance {
	out := in.Clone()
	for k, v := range out.Values {
		if v == nil {
			delete(out.Values, k)
		}
	}
	return out
}

// applySequence stores ts in the package instance and derives what
// follows from it.
func (p *Provider) applySequence(ctx context.Context, tx store.Tx, pkg, ts *cim.Instance) error {
	return p.applySequenceWith(ctx, tx, pkg, ts, p.sealSequence)
}

// applySequenceWith is applySequence with the sealing of secrets given:
// sealSequence for a sequence a client sent, sealRestored for one a
// revision held.
func (p *Provider) applySequenceWith(ctx context.Context, tx store.Tx, pkg, ts *cim.Instance, seal func(ts, old *cim.Instance)) error {
	var old *cim.Instance
	// the sequence stored before is read only for what it keeps: the
	// sealed secrets (the XML names none when it holds no sealed value's
	// prefix) that ts leaves empty (seal)
	if xml := pkg.String(sequenceProperty); strings.Contains(xml, secrets.Prefix) && hasEmptySecret(ts) {
		prev, err := p.sequenceOf(pkg)
		if err != nil {
			return err
		}
		old = prev
	}
	seal(ts, old)
	refs := taskseq.References(ts)
	xml, err := p.writeSequence("TaskSequence", ts, taskseq.WriteOptions{References: refs})
	if err != nil {
		return err
	}
	pkg.Set(sequenceProperty, xml)
	pkg.Set(typeProperty, taskseq.SequenceType(ts))
	return p.setReferences(ctx, tx, pkg, refs)
}

// setReferences sets References (and so ReferencesCount) and DANGLING_REF
// of a task sequence package from the references of its sequence and its
// BootImageID, which adds the boot image. SetSequence and every write that
// changes BootImageID use this one rule.
func (p *Provider) setReferences(ctx context.Context, tx store.ReadTx, pkg *cim.Instance, seqRefs []taskseq.Reference) error {
	refs := taskseq.WithBootImage(seqRefs, pkg.String(bootImageProperty))
	pkg.Set(referencesProperty, p.referenceInstances(refs))
	return p.refreshDangling(ctx, tx, pkg)
}

// referenceInstances turns references into SMS_TaskSequence_Reference
// objects.
func (p *Provider) referenceInstances(refs []taskseq.Reference) []any {
	c, _ := p.reg.Class(tsReferenceClass)
	out := make([]any, 0, len(refs))
	for _, r := range refs {
		in := cim.NewInstance(c)
		in.Set("Package", r.Package)
		if prog := r.ListedProgram(); prog != "" {
			in.Set("Program", prog)
		}
		in.Set("Type", r.Type)
		out = append(out, in)
	}
	return out
}

// refreshDangling sets or clears DANGLING_REF: set when any reference
// names a package or application that does not exist on the site.
func (p *Provider) refreshDangling(ctx context.Context, tx store.ReadTx, pkg *cim.Instance) error {
	refs, _ := pkg.Values[referencesProperty].([]any)
	dangling := false
	for _, r := range refs {
		ref := r.(*cim.Instance)
		exists, err := p.referenceExists(ctx, tx, ref.String("Package"), ref.Int("Type"))
		if err != nil {
			return err
		}
		if !exists {
			dangling = true
			break
		}
	}
	flags := pkg.Int(flagsProperty) &^ danglingRefBit
	if dangling {
		flags |= danglingRefBit
	}
	pkg.Set(flagsProperty, flags)
	return nil
}

// referenceExists reports whether a referenced package (any package class)
// or application (by model name) exists.
func (p *Provider) referenceExists(ctx context.Context, tx store.ReadTx, id string, typ int64) (bool, error) {
	if typ == 1 {
		c, ok := p.reg.Class(applicationClass)
		if !ok {
			return false, nil
		}
		_, err := tx.Get(ctx, c, id, false)
		if errs.Is(err, errs.NotFound) {
			return false, nil
		}
		return err == nil, err
	}
	return p.packageIDTaken(ctx, tx, id)
}

// fillDefaults gives every embedded object the defaults of its class for
// the properties it does not mention, as a newly spawned WMI instance has.
func fillDefaults(in *cim.Instance) {
	for _, prop := range in.Class.Properties {
		v, present := in.Values[prop.Name]
		if !present && prop.Default != nil {
			in.Values[prop.Name] = cim.CloneValue(prop.Default)
			continue
		}
		switch x := v.(type) {
		case *cim.Instance:
			fillDefaults(x)
		case []any:
			for _, e := range x {
				if sub, ok := e.(*cim.Instance); ok {
					fillDefaults(sub)
				}
			}
		}
	}
}

// validationError reports task sequence problems as one Invalid error
// naming the first step and property, with every problem in its message.
func validationError(problems []taskseq.Problem) error {
	msgs := make([]string, 0, len(problems))
	for _, pr := range problems {
		msgs = append(msgs, pr.String())
	}
	first := problems[0]
	return &MethodError{
		Err:      errs.Target(errs.Invalid, first.Property, "the task sequence breaks %d rule(s): %s", len(problems), strings.Join(msgs, "; ")),
		Problems: problems,
	}
}

// MethodError is a method failure with the SMS_ExtendedStatus details of
// each problem.
type MethodError struct {
	Err      error
	Problems []taskseq.Problem
}

func (e *MethodError) Error() string { return e.Err.Error() }
func (e *MethodError) Unwrap() error { return e.Err }

// saveToXML: SMS_TaskSequence.SaveToXml(TaskSequence) → the XML, with
// References and Flags (bit 0: the sequence deploys an operating system
// image). Secrets are kept.
func (p *Provider) saveToXML(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	ts, ok := in["TaskSequence"].(*cim.Instance)
	if !ok {
		return nil, 0, errs.Target(errs.Invalid, "TaskSequence", "TaskSequence is required")
	}
	fillDefaults(ts) // ts is this call's own (see Invoke)
	refs := taskseq.References(ts)
	xml, err := p.writeSequence("TaskSequence", ts, taskseq.WriteOptions{References: refs})
	if err != nil {
		return nil, 0, err
	}
	var flags int64
	if taskseq.DeploysOS(ts) {
		flags = 1
	}
	return map[string]any{"ReturnValue": xml, "References": p.referenceInstances(refs), "Flags": flags}, 0, nil
}

// exportXML: SMS_TaskSequence.ExportXml(Xml) → the XML with every Secret
// and QuasiSecret value (passwords, product keys) emptied, for use on
// another site.
func (p *Provider) exportXML(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	xml, _ := in["Xml"].(string)
	ts, err := p.parseSequence("Xml", xml)
	if err != nil {
		return nil, 0, err
	}
	out, err := p.writeSequence("Xml", ts, taskseq.WriteOptions{StripSecrets: true})
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"ReturnValue": out}, 0, nil
}

// tsRelatedToDriverCategory: GetTSRelatedToDriverCategory(CategoryUniqueId)
// → PacakgeIds, PackageNames: the task sequences whose Auto Apply Drivers
// steps name that driver category.
func (p *Provider) tsRelatedToDriverCategory(ctx context.Context, m *cim.Method, _ *Object, in map[string]any) (map[string]any, int64, error) {
	cat, _ := in["CategoryUniqueId"].(string)
	if strings.TrimSpace(cat) == "" {
		return nil, 0, errs.Target(errs.Invalid, "CategoryUniqueId", "CategoryUniqueId is required")
	}
	if len(cat) > 512 {
		return nil, 0, errs.Target(errs.Invalid, "CategoryUniqueId", "CategoryUniqueId is at most 512 characters")
	}
	c, _ := p.reg.Class(tsPackageClass)
	ids, names := []any{}, []any{}
	pr, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		keep, err := p.visibility(ctx, tx, pr, c)
		if err != nil {
			return err
		}
		recs, err := tx.List(ctx, c, store.ListOptions{})
		if err != nil {
			return err
		}
		for _, r := range recs {
			if keep != nil && !keep(r.Instance) {
				continue
			}
			full, err := tx.Get(ctx, c, r.Instance.Key(), true)
			if err != nil {
				return err
			}
			ts, err := p.sequenceOf(full.Instance)
			if err != nil {
				return err
			}
			if usesDriverCategory(ts, cat) {
				ids = append(ids, full.Instance.String(packageIDProperty))
				names = append(names, full.Instance.String("Name"))
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"PacakgeIds": ids, "PackageNames": names}, 0, nil
}

// autoApplyClass is the Auto Apply Drivers step; its CategoryList names
// driver categories.
const autoApplyClass = "SMS_TaskSequence_AutoApplyAction"

func usesDriverCategory(ts *cim.Instance, cat string) bool {
	found := false
	taskseq.Walk(ts, func(step *cim.Instance, _ []int) bool {
		if !step.Class.IsA(autoApplyClass) {
			return true
		}
		list, _ := step.Values["CategoryList"].([]any)
		for _, v := range list {
			for _, id := range strings.Split(fmt.Sprint(v), ",") {
				if strings.EqualFold(strings.TrimSpace(id), cat) {
					found = true
				}
			}
		}
		return !found
	})
	return found
}
