package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// webhookClass holds the outbound webhooks (schema/security.mof).
const webhookClass = "TSP_Webhook"

// The states of a webhook.
const (
	WebhookActive     = "Active"
	WebhookDeadLetter = "DeadLetter"
)

// Webhook describes a stored webhook (never its secret).
type Webhook struct {
	WebhookID string    `json:"WebhookID"`
	AdminID   int64     `json:"AdminID"`
	URL       string    `json:"URL"`
	Query     string    `json:"Query"`
	Position  int64     `json:"Position"`
	State     string    `json:"State"`
	Failures  int64     `json:"Failures"`
	LastError string    `json:"LastError"`
	Created   time.Time `json:"Created"`
}

func webhookOf(in *cim.Instance) Webhook {
	w := Webhook{WebhookID: in.String("WebhookID"), AdminID: in.Int("AdminID"), URL: in.String("URL"), Query: in.String("Query"),
		Position: in.Int("Position"), State: in.String("State"), Failures: in.Int("Failures"), LastError: in.String("LastError")}
	if v, ok := in.Values["Created"].(cim.DateTimeValue); ok {
		w.Created = v.Time
	}
	return w
}

func (p *Provider) webhookClass() (*cim.Class, error) {
	c, ok := p.reg.Class(webhookClass)
	if !ok {
		return nil, fmt.Errorf("provider: the schema lacks class %s", webhookClass)
	}
	return c, nil
}

// CreateWebhook stores a webhook of the caller: the changes query (a WQL
// event query) selects among those the caller may read, POSTed to target
// (an http or https URL the WebhookHosts allow) and signed with secret, from the feed's end on.
// Outcomes: the webhook; errs.Invalid for a bad URL, query or an empty
// secret.
func (p *Provider) CreateWebhook(ctx context.Context, target, wql, secret string) (Webhook, error) {
	pr, err := caller(ctx)
	if err != nil {
		return Webhook{}, err
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Webhook{}, errs.Target(errs.Invalid, "URL", "webhooks: URL must be an absolute http or https URL, not %q", target)
	}
	if err := p.hookHosts.Allow(u); err != nil {
		return Webhook{}, err
	}
	if secret == "" {
		return Webhook{}, errs.Target(errs.Invalid, "Secret", "webhooks: a Secret is required: it signs every delivery")
	}
	if _, err := p.EventQuery(wql); err != nil {
		return Webhook{}, err
	}
	c, err := p.webhookClass()
	if err != nil {
		return Webhook{}, err
	}
	end, err := p.FeedEnd(ctx)
	if err != nil {
		return Webhook{}, err
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Webhook{}, fmt.Errorf("webhooks: %w", err)
	}
	in := cim.NewInstance(c)
	in.Set("WebhookID", hex.EncodeToString(id[:]))
	in.Set("AdminID", int64(pr.AdminID))
	in.Set("URL", u.String())
	in.Set("Query", wql)
	in.Set("Secret", p.box.Seal(secret))
	in.Set("Position", end)
	in.Set("State", WebhookActive)
	in.Set("Failures", int64(0))
	in.Set("Created", cim.Now())
	err = p.write(ctx, func(tx store.Tx) error {
		if err := tx.Insert(ctx, &store.Record{Instance: in}); err != nil {
			return err
		}
		return p.audit(ctx, tx, auditEntry{pr: pr, action: "WebhookCreated", class: webhookClass, key: in.String("WebhookID"), detail: u.Redacted()})
	})
	if err != nil {
		return Webhook{}, err
	}
	return webhookOf(in), nil
}

// ownWebhooks lists the webhooks the caller may see: its own, or all of
// them for a principal with every permission.
func (p *Provider) ownWebhooks(ctx context.Context, tx store.ReadTx, pr *auth.Principal) ([]*store.Record, error) {
	c, err := p.webhookClass()
	if err != nil {
		return nil, err
	}
	recs, err := tx.List(ctx, c, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []*store.Record
	for _, r := range recs {
		if pr == nil || pr.All || r.Instance.Int("AdminID") == int64(pr.AdminID) {
			out = append(out, r)
		}
	}
	return out, nil
}

// ListWebhooks lists the caller's webhooks (every webhook for a Full
// Administrator of all instances), without their secrets.
func (p *Provider) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	pr, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := []Webhook{}
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		recs, err := p.ownWebhooks(ctx, tx, pr)
		for _, r := range recs {
			out = append(out, webhookOf(r.Instance))
		}
		return err
	})
	return out, err
}

// changeWebhook runs fn on the caller's webhook id and stores it.
func (p *Provider) changeWebhook(ctx context.Context, id string, fn func(*cim.Instance) (del bool)) (Webhook, error) {
	pr, err := caller(ctx)
	if err != nil {
		return Webhook{}, err
	}
	c, err := p.webhookClass()
	if err != nil {
		return Webhook{}, err
	}
	var w Webhook
	err = p.write(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, c, id, false)
		if errs.Is(err, errs.NotFound) || err == nil && !pr.All && rec.Instance.Int("AdminID") != int64(pr.AdminID) {
			return errs.Target(errs.NotFound, id, "no webhook %q", id)
		}
		if err != nil {
			return err
		}
		if fn(rec.Instance) {
			if err := tx.Delete(ctx, c, id); err != nil {
				return err
			}
			return p.audit(ctx, tx, auditEntry{pr: pr, action: "WebhookDeleted", class: webhookClass, key: id})
		}
		w = webhookOf(rec.Instance)
		return tx.Update(ctx, rec)
	})
	return w, err
}

// DeleteWebhook deletes one of the caller's webhooks.
func (p *Provider) DeleteWebhook(ctx context.Context, id string) error {
	_, err := p.changeWebhook(ctx, id, func(*cim.Instance) bool { return true })
	return err
}

// EnableWebhook puts a dead-lettered webhook back to work from where it
// stopped, its failures forgotten.
func (p *Provider) EnableWebhook(ctx context.Context, id string) (Webhook, error) {
	return p.changeWebhook(ctx, id, func(in *cim.Instance) bool {
		in.Set("State", WebhookActive)
		in.Set("Failures", int64(0))
		in.Set("Deliverer", nil) // any server may take it up
		return false
	})
}

// DeliveryTarget is what a deliverer needs of an active webhook: where,
// what, the opened secret and its creator's principal.
type DeliveryTarget struct {
	Webhook
	Secret    string
	Principal *auth.Principal
}

// ClaimWebhooks takes or renews, for holder (one running server), the
// lease of every active webhook no other server holds a live lease on,
// and returns those it holds with their opened secrets and their
// creators' principals. The claim reads the webhook in a write
// transaction, which waits for any other writer of it, so two servers
// never both hold one. A webhook whose creator was deleted or whose
// secret no key opens is skipped.
func (p *Provider) ClaimWebhooks(ctx context.Context, holder string, lease time.Duration) ([]DeliveryTarget, error) {
	c, err := p.webhookClass()
	if err != nil {
		return nil, err
	}
	var ids []string
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		recs, err := p.ownWebhooks(ctx, tx, nil)
		for _, r := range recs {
			if r.Instance.String("State") == WebhookActive {
				ids = append(ids, r.Instance.String("WebhookID"))
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []DeliveryTarget
	for _, id := range ids {
		err := p.st.Write(ctx, func(tx store.Tx) error {
			rec, err := tx.Get(ctx, c, id, false)
			if err != nil {
				return err
			}
			in := rec.Instance
			now := p.now()
			if in.String("State") != WebhookActive {
				return nil
			}
			if h := in.String("Deliverer"); h != "" && h != holder {
				if until, ok := in.Values["LeaseUntil"].(cim.DateTimeValue); ok && now.Before(until.Time) {
					return nil
				}
			}
			w := webhookOf(in)
			secret, err := p.box.Open(in.String("Secret"))
			if err != nil {
				p.log.Warn("webhook: its secret does not open", "webhook", id, "err", err)
				return nil
			}
			pr, err := p.principalOf(ctx, tx, w.AdminID)
			if errs.Is(err, errs.NotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			in.Set("Deliverer", holder)
			in.Set("LeaseUntil", cim.DateTimeValue{Time: now.Add(lease).Truncate(time.Microsecond)})
			if err := tx.Update(ctx, rec); err != nil {
				return err
			}
			out = append(out, DeliveryTarget{Webhook: w, Secret: secret, Principal: pr})
			return nil
		})
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
	}
	return out, nil
}

// WebhookDelivered records, for holder, that a webhook delivered up to
// position: its failures forgotten. A webhook deleted meanwhile is
// NotFound; one another server took over is Conflict.
func (p *Provider) WebhookDelivered(ctx context.Context, holder, id string, position int64) error {
	return p.setWebhook(ctx, holder, id, func(in *cim.Instance) {
		in.Set("Position", position)
		in.Set("Failures", int64(0))
		in.Set("LastError", nil)
	})
}

// WebhookFailed records a failed delivery; dead puts the webhook in the
// dead-letter state, where it stays until EnableWebhook.
func (p *Provider) WebhookFailed(ctx context.Context, holder, id string, failures int, lastError string, dead bool) error {
	return p.setWebhook(ctx, holder, id, func(in *cim.Instance) {
		in.Set("Failures", int64(failures))
		in.Set("LastError", lastError)
		if dead {
			in.Set("State", WebhookDeadLetter)
		}
	})
}

func (p *Provider) setWebhook(ctx context.Context, holder, id string, fn func(*cim.Instance)) error {
	c, err := p.webhookClass()
	if err != nil {
		return err
	}
	return p.st.Write(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, c, id, false)
		if err != nil {
			return err
		}
		if rec.Instance.String("State") != WebhookActive || rec.Instance.String("Deliverer") != holder {
			return errs.E(errs.Conflict, "webhook %s: delivered by another server now", id)
		}
		fn(rec.Instance)
		return tx.Update(ctx, rec)
	})
}

// EventsOf reads a page of the feed after position as pr sees it
// (Events for a principal that is not the caller: a webhook's creator).
func (p *Provider) EventsOf(ctx context.Context, pr *auth.Principal, after int64, wait time.Duration) (*EventsPage, error) {
	return p.Events(auth.WithPrincipal(ctx, pr), after, 0, wait)
}
