package pcmapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxReportModelBytes bounds the body of GET …/report/{id}: one report model is a few KB.
const maxReportModelBytes = 1 << 20

// maxFieldRunes bounds a submitted field's string in a ReportModel: the longest PCM field (a
// security endpoint's URL) is well under it.
const maxFieldRunes = 1000

// ReportModel is PCM's answer to GET /report-api/v1/private/report/{fapiInteractionId}
// (docs/pcm-rules.md §10): the report's state plus the fields that were submitted. Every string
// in it, keys of Fields included, is sanitised (no control characters, valid UTF-8; at most 200
// runes for the state fields, 1000 for the others), so tools can print it as it is.
type ReportModel struct {
	ReportID       string
	PairedReportID string // "" when PCM sent null or nothing (not paired)
	Status         string // trimmed, like ItemResult.Status (PAIRED, UNPAIRED, SINGLE, …)
	CreatedAt      string
	UpdatedAt      string
	// Fields holds every other key of the answer as decoded by encoding/json with UseNumber:
	// strings, json.Number, bool, nil, map[string]any, []any.
	Fields map[string]any
}

// GetReport reads back one private report by its fapiInteractionId (Decision 15: the lookup
// key since release 2025A). The path is basePath (the private report path, e.g.
// /report-api/v1/private/report/) without its trailing slash + "/" + the escaped id.
//
// Like Send, it carries the bearer token and on 401 invalidates it and tries once more with a
// new one. Any other non-2xx answer is a *StatusError; 404 means PCM does not know the id (yet:
// PCM is eventually consistent) or the caller's institution is neither the report's client
// nor its server — see IsNotFound. Errors never contain the token.
func (c *Client) GetReport(ctx context.Context, basePath, fapiInteractionID string) (ReportModel, error) {
	if strings.TrimSpace(fapiInteractionID) == "" {
		return ReportModel{}, fmt.Errorf("%w: empty fapiInteractionId", ErrInvalidRequest)
	}
	path := strings.TrimRight(basePath, "/") + "/" + url.PathEscape(fapiInteractionID)
	token, err := c.tokens.Token(ctx)
	if err != nil {
		return ReportModel{}, err
	}
	m, err := c.get(ctx, path, token)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		return m, err
	}
	c.tokens.invalidate(token)
	if token, err = c.tokens.Token(ctx); err != nil {
		return ReportModel{}, err
	}
	return c.get(ctx, path, token)
}

// IsNotFound reports whether err is PCM's 404 (a GET for an id PCM does not show the caller).
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.StatusCode == http.StatusNotFound
}

// get makes one GET and interprets the answer.
func (c *Client) get(ctx context.Context, path, token string) (ReportModel, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path), nil)
	if err != nil {
		return ReportModel{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return ReportModel{}, fmt.Errorf("reading PCM report: %w", err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxDrainBytes))
		return ReportModel{}, c.statusError(resp, body, token)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReportModelBytes))
	if err != nil {
		return ReportModel{}, fmt.Errorf("reading PCM report: %w", err)
	}
	m, err := parseReportModel(body)
	if err != nil {
		// No excerpt of the body: it is not an error message, and could echo anything.
		return ReportModel{}, fmt.Errorf("PCM answered HTTP %d with an unreadable report model: %w", resp.StatusCode, err)
	}
	return m, nil
}

// parseReportModel splits a JSON object into the model's state fields and the rest.
func parseReportModel(body []byte) (ReportModel, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		return ReportModel{}, err
	}
	if fields == nil {
		return ReportModel{}, errors.New("not a JSON object")
	}
	take := func(key string) string {
		v, ok := fields[key]
		if !ok {
			return ""
		}
		delete(fields, key)
		switch v := v.(type) {
		case nil:
			return ""
		case string:
			return sanitize(v, maxMessageRunes)
		default:
			b, _ := json.Marshal(v)
			return sanitize(string(b), maxMessageRunes)
		}
	}
	return ReportModel{
		ReportID:       take("reportId"),
		PairedReportID: take("pairedReportId"),
		Status:         take("status"),
		CreatedAt:      take("createdAt"),
		UpdatedAt:      take("updatedAt"),
		Fields:         sanitizeValue(fields).(map[string]any),
	}, nil
}

// sanitizeValue returns v with every string (map keys included) sanitised: the report model
// echoes what was submitted, and anything in it may reach a terminal.
func sanitizeValue(v any) any {
	switch v := v.(type) {
	case string:
		return sanitize(v, maxFieldRunes)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[sanitize(k, maxMessageRunes)] = sanitizeValue(e)
		}
		return out
	case []any:
		for i, e := range v {
			v[i] = sanitizeValue(e)
		}
		return v
	default:
		return v
	}
}
