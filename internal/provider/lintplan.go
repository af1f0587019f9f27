package provider

import (
	"context"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/distribution"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/internal/taskseq/lint"
	"github.com/tsprov/tsprov/internal/taskseq/plan"
)

// SequenceSource names the task sequence a lint or a plan looks at: a
// stored package (PackageID) or task sequence XML of any shape (Sequence).
type SequenceSource struct {
	PackageID string
	Sequence  string
}

// loaded is a task sequence read for a lint or a plan.
type loaded struct {
	ts          *cim.Instance
	source      []byte // the XML as given (nil for a stored package)
	bootImageID string
}

// load reads the sequence a source names. Outcomes: errs.Invalid when it
// names none or both, or the XML does not parse; the errors of Get for a
// package (NotFound, Forbidden …).
func (p *Provider) load(ctx context.Context, src SequenceSource) (*loaded, error) {
	switch {
	case src.PackageID != "" && src.Sequence != "":
		return nil, errs.E(errs.Invalid, "give PackageID or Sequence, not both")
	case src.PackageID != "":
		obj, err := p.Get(ctx, tsPackageClass, src.PackageID)
		if err != nil {
			return nil, err
		}
		ts, err := p.sequenceOf(obj.Instance)
		if err != nil {
			return nil, err
		}
		return &loaded{ts: ts, bootImageID: obj.Instance.String("BootImageID")}, nil
	case src.Sequence != "":
		// the answer says which packages exist: the caller must be
		// allowed to read task sequence packages
		if _, _, err := p.readable(ctx, tsPackageClass, ""); err != nil {
			return nil, err
		}
		ts, doc, err := p.codec.Parse([]byte(src.Sequence))
		if err != nil {
			return nil, errs.Wrap(errs.Invalid, err, "Sequence")
		}
		return &loaded{ts: ts, source: []byte(src.Sequence), bootImageID: doc.PackageProperties["BootImageID"]}, nil
	}
	return nil, errs.E(errs.Invalid, `give the task sequence as "PackageID" (a stored package) or "Sequence" (its XML)`)
}

// Lint applies the lint rules to a task sequence, with what the site
// knows of the packages it refers to: whether each exists (any package
// class, or an application by model name) and, when the site has
// distribution points, whether any of them holds its content. A site with
// no distribution point registered leaves content unknown (the content
// rule then says nothing, and Result.Unknown says so).
func (p *Provider) Lint(ctx context.Context, src SequenceSource, cfg *lint.Config) (*lint.Result, error) {
	l, err := p.load(ctx, src)
	if err != nil {
		return nil, err
	}
	xml, err := p.codec.Marshal(l.ts, taskseq.WriteOptions{})
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "the task sequence")
	}
	refs := append(taskseq.WithBootImage(taskseq.References(l.ts), l.bootImageID), taskseq.DisabledReferences(l.ts)...)
	table := lint.PackageTable{}
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		dps, err := p.dist.DPs(ctx, tx)
		if err != nil {
			return err
		}
		for _, r := range refs {
			ok, err := p.referenceExists(ctx, tx, r.Package, r.Type)
			if err != nil {
				return err
			}
			st := lint.PackageState{Exists: ok}
			if ok && r.Type == 0 && len(dps) > 0 {
				if st.Content, err = p.contentOnDPs(ctx, tx, r.Package); err != nil {
					return err
				}
			}
			table[strings.ToUpper(r.Package)] = st
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lint.Run(lint.Input{
		Sequence: l.ts, Source: l.source, SequenceXML: xml,
		BootImageID: l.bootImageID, Packages: table,
	}, cfg)
}

// contentOnDPs says whether any distribution point holds a package's
// content: a status row (SMS_PackageStatusDistPointsSummarizer) that is
// INSTALLED, or updating or monitoring content it holds.
func (p *Provider) contentOnDPs(ctx context.Context, tx store.ReadTx, packageID string) (lint.Content, error) {
	c, ok := p.reg.Class(distribution.SummaryClass)
	if !ok {
		return lint.ContentUnknown, nil
	}
	recs, err := p.listWhere(ctx, tx, c, "PackageID eq '"+strings.ReplaceAll(packageID, "'", "''")+"'")
	if err != nil {
		return lint.ContentUnknown, err
	}
	for _, r := range recs {
		switch distribution.State(r.Instance.Int("State")) {
		case distribution.Installed, distribution.ContentUpdating, distribution.ContentMonitoring:
			return lint.ContentOnDP, nil
		}
	}
	return lint.ContentNone, nil
}

// PlanRequest is what a simulation takes besides the sequence: the
// starting variables and the machine description (JSON; nil when none).
type PlanRequest struct {
	Variables map[string]string
	Machine   []byte
}

// Plan simulates a task sequence on a described machine. Run Task
// Sequence steps are followed into the stored child packages the caller
// may read.
func (p *Provider) Plan(ctx context.Context, src SequenceSource, req PlanRequest) (*plan.Plan, error) {
	l, err := p.load(ctx, src)
	if err != nil {
		return nil, err
	}
	opts := plan.Options{Variables: req.Variables}
	if len(req.Machine) > 0 {
		if opts.Machine, err = plan.ParseMachine(req.Machine, p.reg); err != nil {
			return nil, err
		}
	}
	opts.Child = func(id string) (*cim.Instance, error) {
		obj, err := p.Get(ctx, tsPackageClass, id)
		if err != nil {
			return nil, err
		}
		return p.sequenceOf(obj.Instance)
	}
	return plan.Simulate(l.ts, opts)
}
