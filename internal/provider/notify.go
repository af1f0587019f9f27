package provider

import (
	"context"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// ChangeListener is a component that reprocesses a package when a change
// notification names it (AddChangeNotification): in ConfigMgr the
// notification wakes Distribution Manager for the package; in tsprov the
// distribution and policy components implement this interface and are
// passed in Config.Listeners. PackageChanged is called after the
// notification has committed, on the server that received it, and must
// not block (hand the work to a goroutine or a queue). Components on other
// servers of the database learn of the notification from the change
// feed: a method-invocation event whose Method is AddChangeNotification.
type ChangeListener interface {
	PackageChanged(ctx context.Context, className, packageID string)
}

// addChangeNotification: AddChangeNotification() records an explicit
// change notification for the package in the change feed (a
// method-invocation event, with the package's values), audits it
// (ConfigMgr's provider audits "initiated a package change notification"),
// and wakes the listeners. The package itself does not change, so neither
// its source site nor its lock is needed; Modify on it is.
func (p *Provider) addChangeNotification(ctx context.Context, m *cim.Method, target *Object, in map[string]any) (map[string]any, int64, error) {
	c, key := target.Instance.Class, target.Instance.Key()
	err := p.write(ctx, func(tx store.Tx) error {
		pr, err := caller(ctx)
		if err != nil {
			return err
		}
		cur, err := p.getVisible(ctx, tx, pr, c, key, false)
		if err != nil {
			return err
		}
		if _, err := p.authorize(ctx, c, key, auth.Modify); err != nil {
			return err
		}
		if err := p.recordMethod(ctx, tx, cur.Instance); err != nil {
			return err
		}
		return p.audit(ctx, tx, auditEntry{pr: pr, action: "ChangeNotification", class: c.Name, key: key})
	})
	if err != nil {
		return nil, 0, err
	}
	for _, l := range p.listeners {
		l.PackageChanged(context.WithoutCancel(ctx), c.Name, key)
	}
	return nil, 0, nil
}
