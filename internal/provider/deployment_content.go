package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/policy"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
)

// forceAnnotation, set to true on the body that creates a deployment,
// deploys a task sequence even though some of the content it refers to is
// on no distribution point.
const forceAnnotation = "@tsprov.force"

// contentLocator tells which packages have their content on no
// distribution point.
type contentLocator interface {
	// withoutContent returns the ids of packageIDs that no distribution
	// point holds installed, in the order given.
	withoutContent(ctx context.Context, tx store.ReadTx, packageIDs []string) ([]string, error)
}

// dpStatus is the contentLocator of the distribution state: a package's
// content is on a distribution point when a row of
// SMS_PackageStatusDistPointsSummarizer says it is INSTALLED there.
type dpStatus struct{ summary *cim.Class }

// The distribution state of a package on a DP, and its INSTALLED state.
const (
	summaryClass   = "SMS_PackageStatusDistPointsSummarizer"
	stateInstalled = 0
)

func (d dpStatus) withoutContent(ctx context.Context, tx store.ReadTx, packageIDs []string) ([]string, error) {
	var missing []string
	for _, id := range packageIDs {
		f := &query.Logical{And: true,
			Left:  &query.Compare{Op: query.Eq, Left: &query.Prop{Name: "PackageID"}, Right: &query.Literal{Value: id}},
			Right: &query.Compare{Op: query.Eq, Left: &query.Prop{Name: "State"}, Right: &query.Literal{Value: int64(stateInstalled)}},
		}
		if err := query.Check(f, d.summary, nil); err != nil {
			return nil, err
		}
		n, err := tx.Count(ctx, d.summary, f)
		if err != nil {
			return nil, fmt.Errorf("distribution state of %s: %w", id, err)
		}
		if n == 0 {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

// forced reports the force annotation on a new instance.
func forced(in *cim.Instance) bool {
	raw, ok := in.Annotations[forceAnnotation].(json.RawMessage)
	var v bool
	return ok && json.Unmarshal(raw, &v) == nil && v
}

// checkContent refuses the deployment of a task sequence (pkg) whose
// referenced packages, its children's included, have content on no
// distribution point, listing them, unless forced.
func (p *Provider) checkContent(ctx context.Context, tx store.ReadTx, pkg, ad *cim.Instance) error {
	if p.dpContent == nil || forced(ad) {
		return nil
	}
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
	var ids []string
	names := map[string]string{}
	for _, pp := range in.Packages {
		// a package without content (no source) has nothing to distribute
		if pp.SourceHash != "" && !slices.Contains(ids, pp.PackageID) {
			ids = append(ids, pp.PackageID)
			names[pp.PackageID] = pp.Name
		}
	}
	missing, err := p.dpContent.withoutContent(ctx, tx, ids)
	if err != nil || len(missing) == 0 {
		return err
	}
	list := make([]string, len(missing))
	for i, id := range missing {
		list[i] = fmt.Sprintf("%s (%s)", id, names[id])
	}
	return errs.Target(errs.Conflict, "PackageID",
		"task sequence %s refers to %d package(s) whose content is on no distribution point: %s; distribute them first, or create the deployment with \"%s\": true",
		pkg.String(packageIDProperty), len(missing), strings.Join(list, ", "), forceAnnotation)
}
