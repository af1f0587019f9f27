package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/tsprov/tsprov/internal/adminservice"
	"github.com/tsprov/tsprov/internal/events"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store"
)

// webhookStore is the provider side of this server's webhook deliverer:
// holder names this server process in the webhooks' leases.
type webhookStore struct {
	prov   *provider.Provider
	holder string
	lease  time.Duration
}

func (w webhookStore) Claim(ctx context.Context) ([]events.Hook, error) {
	ts, err := w.prov.ClaimWebhooks(ctx, w.holder, w.lease)
	if err != nil {
		return nil, err
	}
	out := make([]events.Hook, 0, len(ts))
	for _, t := range ts {
		pr := t.Principal
		out = append(out, events.Hook{ID: t.WebhookID, URL: t.URL, Query: t.Query, Secret: t.Secret, Position: t.Position,
			Read: func(ctx context.Context, after int64, wait time.Duration) ([]store.Event, int64, error) {
				page, err := w.prov.EventsOf(ctx, pr, after, wait)
				if err != nil {
					return nil, 0, err
				}
				return page.Events, page.Position, nil
			}})
	}
	return out, nil
}

func (w webhookStore) Delivered(ctx context.Context, id string, position int64) error {
	return w.prov.WebhookDelivered(ctx, w.holder, id, position)
}

func (w webhookStore) Failed(ctx context.Context, id string, failures int, lastError string, dead bool) error {
	return w.prov.WebhookFailed(ctx, w.holder, id, failures, lastError, dead)
}

// newDeliverer builds this server's webhook deliverer.
func newDeliverer(prov *provider.Provider, cfg Config, log *slog.Logger) *events.Deliverer {
	var id [8]byte
	_, _ = rand.Read(id[:])
	rescan := cfg.WebhookRescan
	if rescan <= 0 {
		rescan = DefaultWebhookRescan
	}
	hooks := webhookStore{prov: prov, holder: prov.ServerName() + "/" + hex.EncodeToString(id[:]), lease: 3 * rescan}
	return events.NewDeliverer(prov.Registry(), hooks, events.Delivery{
		Backoff: cfg.WebhookBackoff, MaxFailures: cfg.WebhookMaxFailures, Rescan: rescan,
		Encode: adminservice.EncodeEvent, Logger: log, Allow: cfg.WebhookHosts,
	})
}
