package distribution

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// NotifyPath is where a DP agent takes dispatches (POST, JSON Dispatch).
// A dispatch only makes the agent ask the site, with its own token, what
// it must hold; it carries no authority of its own.
const NotifyPath = "/tsprov-dp/v1/notify"

// HTTPNotifier posts dispatches to agents.
type HTTPNotifier struct {
	Client *http.Client // nil: a client with a 10s timeout
}

// Notify implements Notifier: POST url+NotifyPath; any 2xx is taken.
func (n HTTPNotifier) Notify(ctx context.Context, url string, d Dispatch) error {
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+NotifyPath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	c := n.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s %s", url, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
