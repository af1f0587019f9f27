package dp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// site is the agent's client of the site server's routes: the DP routes
// (/tsprov/v1/dp/…) and the content routes (/tsprov/v1/content/…), with
// the agent's token.
type site struct {
	base   string // http(s)://server:port
	token  string
	client *http.Client
}

// siteError is an answer of the site that is not a success: its status
// and the message of its OData error envelope.
type siteError struct {
	Status  int
	Message string
}

func (e *siteError) Error() string { return fmt.Sprintf("site answered %d: %s", e.Status, e.Message) }

func (s *site) request(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	return req, nil
}

// call sends a JSON request and decodes a JSON answer into out (nil: none).
func (s *site) call(ctx context.Context, method, path string, body, out any) error {
	req, err := s.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return answerError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(out)
}

// answerError reads the OData error envelope of a failed answer.
func answerError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var env struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := strings.TrimSpace(string(raw))
	if json.Unmarshal(raw, &env) == nil && env.Error.Message != "" {
		msg = env.Error.Message
	}
	return &siteError{Status: resp.StatusCode, Message: msg}
}

type registration struct {
	NALPath string `json:"nalPath"`
	Host    string `json:"host"`
	Site    string `json:"site"`
	URL     string `json:"url"`
}

func (s *site) register(ctx context.Context, host, siteCode, selfURL, version string) (registration, error) {
	var r registration
	err := s.call(ctx, http.MethodPost, "/tsprov/v1/dp/register", map[string]string{"host": host, "site": siteCode, "url": selfURL, "version": version}, &r)
	return r, err
}

// assignment is what the DP must hold of one package.
type assignment struct {
	PackageID string `json:"packageId"`
	ContentID string `json:"contentId"`
}

func (s *site) assignments(ctx context.Context, nalPath string) ([]assignment, error) {
	var out struct {
		Value []assignment `json:"value"`
	}
	err := s.call(ctx, http.MethodGet, "/tsprov/v1/dp/assignments?nal="+url.QueryEscape(nalPath), nil, &out)
	return out.Value, err
}

// report is the agent's news about one package.
type report struct {
	NALPath        string `json:"nalPath"`
	PackageID      string `json:"packageId"`
	ContentID      string `json:"contentId,omitempty"`
	Kind           string `json:"kind"`
	BytesDone      int64  `json:"bytesDone"`
	BytesTotal     int64  `json:"bytesTotal"`
	BytesPerSecond int64  `json:"bytesPerSecond"`
	Error          string `json:"error,omitempty"`
}

func (s *site) report(ctx context.Context, r report) error {
	return s.call(ctx, http.MethodPost, "/tsprov/v1/dp/report", r, nil)
}

func (s *site) manifest(ctx context.Context, contentID string) (*Manifest, error) {
	var m Manifest
	if err := s.call(ctx, http.MethodGet, "/tsprov/v1/content/"+url.PathEscape(contentID)+"/manifest", nil, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// blob opens the bytes of a blob from offset on. Outcomes: the body, and
// whether it starts at offset (206) or at 0 (200: the site ignored the
// range); an error for any other answer.
func (s *site) blob(ctx context.Context, hash string, offset int64) (io.ReadCloser, bool, error) {
	req, err := s.request(ctx, http.MethodGet, "/tsprov/v1/content/blobs/"+hash, nil)
	if err != nil {
		return nil, false, err
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.Body, false, nil
	case http.StatusPartialContent:
		return resp.Body, true, nil
	}
	defer resp.Body.Close()
	return nil, false, answerError(resp)
}
