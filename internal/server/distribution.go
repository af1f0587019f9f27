package server

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/tsprov/tsprov/internal/distribution"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store"
)

// DefaultDistributionInterval is how often a server's distribution
// manager looks for due jobs when nothing wakes it.
const DefaultDistributionInterval = 2 * time.Second

// newDistributor builds this server's distribution manager: it drives
// the jobs whose lease it takes (one server per job on a shared
// database) and wakes when a method, a registration or a report brings
// work.
func newDistributor(prov *provider.Provider, st store.Store, cfg Config, log *slog.Logger) *distribution.Manager {
	var id [8]byte
	_, _ = rand.Read(id[:])
	m := prov.Distribution().NewManager(st, distribution.ManagerConfig{
		Holder:   prov.ServerName() + "/" + hex.EncodeToString(id[:]),
		Notifier: distribution.HTTPNotifier{},
		Contents: prov.CurrentContentID,
		Interval: cmp.Or(cfg.DistributionInterval, DefaultDistributionInterval),
		Logger:   log,
	})
	prov.SetDistributionWake(m.Wake)
	return m
}
