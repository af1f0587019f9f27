package provider

import (
	"context"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// DraftToCompare returns a version of a task sequence package and a draft
// of its sequence (XML a client holds and has not saved) parsed for a
// diff: what saving the draft would change. The stored side's secrets read
// empty, as GetSequence returns them to the client that made the draft
// (a SetSequence keeps a secret a draft leaves empty). The read rules are
// those of Get (Rev 0) and GetRevision. Outcomes: the package and both
// sequences; their errors; errs.Invalid when the draft does not parse.
func (p *Provider) DraftToCompare(ctx context.Context, from Version, draft string) (pkg, stored, drafted *cim.Instance, err error) {
	if pkg, err = p.storedVersion(ctx, from); err != nil {
		return nil, nil, nil, err
	}
	if stored, err = p.sequenceOf(pkg); err != nil {
		return nil, nil, nil, err
	}
	if drafted, _, err = p.codec.Parse([]byte(draft)); err != nil {
		return nil, nil, nil, errs.Wrap(errs.Invalid, err, "Sequence")
	}
	stripTree(stored)
	stripTree(drafted)
	stripSealed(pkg)
	return pkg, stored, drafted, nil
}
