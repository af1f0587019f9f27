package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
)

// Export asks the server for the Export-CMTaskSequence zip of req (the
// body of POST /tsprov/v1/export) and copies it to w as it streams in.
func (c *Client) Export(ctx context.Context, req any, w io.Writer) (int64, error) {
	if err := CheckBase(c.Base); err != nil {
		return 0, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return 0, fmt.Errorf("encode request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+"/tsprov/v1/export", bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/zip")
	c.authorize(hr)
	resp, err := c.HTTP.Do(hr)
	if err != nil {
		return 0, c.networkError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return 0, &Error{Status: resp.StatusCode, Message: errorMessage(data)}
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("receive the zip: %w", err)
	}
	return n, nil
}

// Import uploads a zip (and a map file, when mapData is not nil) to POST
// /tsprov/v1/import as multipart/form-data, with the options in query,
// and decodes the JSON answer into out. The zip streams from r.
func (c *Client) Import(ctx context.Context, r io.Reader, mapData []byte, query url.Values, out any) error {
	if err := CheckBase(c.Base); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if mapData != nil {
				fw, err := mw.CreateFormFile("map", "map.txt")
				if err != nil {
					return err
				}
				if _, err := fw.Write(mapData); err != nil {
					return err
				}
			}
			fw, err := mw.CreateFormFile("file", "export.zip")
			if err != nil {
				return err
			}
			if _, err := io.Copy(fw, r); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	u := c.Base + "/tsprov/v1/import"
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, pr)
	if err != nil {
		pr.Close()
		return fmt.Errorf("build request: %w", err)
	}
	hr.Header.Set("Content-Type", mw.FormDataContentType())
	hr.Header.Set("Accept", "application/json")
	c.authorize(hr)
	resp, err := c.HTTP.Do(hr)
	if err != nil {
		return c.networkError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		return &Error{Status: resp.StatusCode, Message: errorMessage(data), Details: errorDetails(data)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

func (c *Client) authorize(r *http.Request) {
	if c.Token != "" {
		r.Header.Set("Authorization", "Bearer "+c.Token)
	}
}

// errorDetails pulls the details' messages out of an OData error envelope.
func errorDetails(data []byte) []string {
	var env struct {
		Error struct {
			Details []struct {
				Message string `json:"message"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &env) != nil {
		return nil
	}
	var out []string
	for _, d := range env.Error.Details {
		out = append(out, d.Message)
	}
	return out
}

// Download copies the answer to GET path (such as a content blob) to w.
func (c *Client) Download(ctx context.Context, path string, w io.Writer) (int64, error) {
	if err := CheckBase(c.Base); err != nil {
		return 0, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	c.authorize(hr)
	resp, err := c.HTTP.Do(hr)
	if err != nil {
		return 0, c.networkError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return 0, &Error{Status: resp.StatusCode, Message: errorMessage(data)}
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("receive %s: %w", path, err)
	}
	return n, nil
}
