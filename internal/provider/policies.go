package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/policy"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// plainSequence writes a task sequence as policy carries it: the stored
// form of its XML with the sealed secrets opened (TS_Sequence is secret
// in the policy, so the client gets them back, as ConfigMgr's does).
func (p *Provider) plainSequence(ts *cim.Instance) (string, error) {
	ts = ts.Clone()
	var failed error
	secretSlots(ts, nil, func(_ *slotPath, owner *cim.Instance, prop *cim.Property) {
		s, _ := owner.Values[prop.Name].(string)
		if !secrets.IsSealed(s) {
			return
		}
		plain, err := p.box.Open(s)
		if err != nil && failed == nil {
			failed = errs.E(errs.Internal, "open a stored secret of the sequence (%s): %w", prop.Name, err)
		}
		owner.Values[prop.Name] = plain
	})
	if failed != nil {
		return "", failed
	}
	xml, err := p.codec.Marshal(ts, taskseq.WriteOptions{})
	if err != nil {
		return "", err
	}
	return string(xml), nil
}

// policyPackage is what a policy takes of a stored package.
func policyPackage(pkg *cim.Instance) policy.Package {
	return policy.Package{
		PackageID:     pkg.String(packageIDProperty),
		Name:          pkg.String("Name"),
		Manufacturer:  pkg.String("Manufacturer"),
		Language:      pkg.String("Language"),
		Version:       pkg.String("Version"),
		Description:   pkg.String("Description"),
		SourceVersion: uint32(pkg.Int(sourceVerProperty)),
		PackageSize:   uint32(pkg.Int("PackageSize")),
		HasSource:     pkg.String("PkgSourcePath") != "",
		Duration:      uint32(pkg.Int("Duration")),
	}
}

// policyTaskSequence is what a policy takes of a task sequence: the
// package (nil for one passed in memory) and its object model.
func (p *Provider) policyTaskSequence(pkg, ts *cim.Instance) (policy.TaskSequence, error) {
	seq, err := p.plainSequence(ts)
	if err != nil {
		return policy.TaskSequence{}, err
	}
	out := policy.TaskSequence{Sequence: seq, Type: uint32(taskseq.SequenceType(ts))}
	if pkg != nil {
		out.Package = policyPackage(pkg)
		out.BootImageID = pkg.String(bootImageProperty)
		out.CustomProgressMessage = pkg.String("CustomProgressMsg")
		if t := pkg.Int(typeProperty); t != 0 {
			out.Type = uint32(t)
		}
	}
	for _, r := range taskseq.References(ts) {
		if r.Type == 0 {
			out.References = append(out.References, policy.Reference{PackageID: r.Package, Program: r.Program})
		}
	}
	return out, nil
}

// policyInput gathers, for the task sequence root, the packages its
// sequences refer to (with their programs) and the child task sequences
// their Run Task Sequence steps run, at any depth. A child the caller may
// not see is left out as if it did not exist (policy.Build names it): its
// sequence, secrets included, would be in the policies.
func (p *Provider) policyInput(ctx context.Context, tx store.ReadTx, root policy.TaskSequence, d policy.Deployment) (policy.Input, error) {
	in := policy.Input{Deployment: d, TaskSequence: root}
	pr, err := caller(ctx)
	if err != nil {
		return in, err
	}
	seen := map[string]bool{strings.ToUpper(root.PackageID): true}
	queue := []policy.TaskSequence{root}
	for len(queue) > 0 {
		ts := queue[0]
		queue = queue[1:]
		ids := make([]string, 0, len(ts.References)+1)
		for _, r := range ts.References {
			ids = append(ids, r.PackageID)
		}
		boot := ts.BootImageID
		if boot == "" {
			boot = root.BootImageID
		}
		ids = append(ids, boot)
		for _, id := range ids {
			id = strings.ToUpper(id)
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			pkg, err := p.storedPackage(ctx, tx, id)
			if errs.Is(err, errs.NotFound) {
				continue // policy.Build names it
			}
			if err != nil {
				return in, err
			}
			if pkg.Class.IsA(tsPackageClass) {
				if err := p.visible(ctx, tx, pr, pkg, id); errs.Is(err, errs.NotFound) {
					continue
				} else if err != nil {
					return in, err
				}
				seq, err := p.sequenceOf(pkg)
				if err != nil {
					return in, err
				}
				child, err := p.policyTaskSequence(pkg, seq)
				if err != nil {
					return in, err
				}
				in.Children = append(in.Children, child)
				queue = append(queue, child)
				continue
			}
			pp := policyPackage(pkg)
			if pp.Programs, err = p.programsOf(ctx, tx, id); err != nil {
				return in, err
			}
			switch row, err := p.contentAt(ctx, tx, pkg, pkg.Int(sourceVerProperty)); {
			case err == nil:
				pp.SourceHash = row.String("ContentHash")
			case !errs.Is(err, errs.NotFound):
				return in, err
			}
			in.Packages = append(in.Packages, pp)
		}
	}
	return in, nil
}

// programsOf lists the programs of a package.
func (p *Provider) programsOf(ctx context.Context, tx store.ReadTx, packageID string) ([]policy.Program, error) {
	c, ok := p.reg.Class(programClass)
	if !ok {
		return nil, nil
	}
	f := &query.Compare{Op: query.Eq, Left: &query.Prop{Name: packageIDProperty}, Right: &query.Literal{Value: packageID}}
	if err := query.Check(f, c, store.Searchable); err != nil {
		return nil, err
	}
	recs, err := tx.List(ctx, c, store.ListOptions{Filter: f})
	if err != nil {
		return nil, fmt.Errorf("programs of %s: %w", packageID, err)
	}
	var out []policy.Program
	for _, r := range recs {
		in := r.Instance
		out = append(out, policy.Program{Name: in.String("ProgramName"), CommandLine: in.String("CommandLine"),
			Comment: in.String("Comment"), Duration: uint32(in.Int("Duration"))})
	}
	return out, nil
}

// checkPolicyBudget refuses a task sequence package whose policy, or the
// policy of a child task sequence it runs, would be over the client's
// budget (each has its own).
func (p *Provider) checkPolicyBudget(ctx context.Context, tx store.ReadTx, pkg *cim.Instance) error {
	seq, err := p.sequenceOf(pkg)
	if err != nil {
		return err
	}
	root, err := p.policyTaskSequence(pkg, seq)
	if err != nil {
		return err
	}
	in, err := p.policyInput(ctx, tx, root, policy.Deployment{})
	if err != nil {
		return err
	}
	for _, ts := range append([]policy.TaskSequence{root}, in.Children...) {
		n, err := policy.Size(ts)
		if err != nil {
			return err
		}
		if n > policy.MaxPolicyBytes {
			return errs.Target(errs.TooLarge, "PackageID",
				"the policy of task sequence %s would be %d bytes (UTF-16, as the client counts it); a task sequence policy is limited to %d bytes (32 MB), each child task sequence to its own: `tsprov ts policy-size` lists the steps that weigh most",
				ts.PackageID, n, int64(policy.MaxPolicyBytes))
		}
	}
	return nil
}
