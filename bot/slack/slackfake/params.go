package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// params are the arguments of one Web API call. JSON bodies are flattened
// to their top-level fields: strings as they are, other values as JSON text
// (so "blocks" reads the same whether it came in a form or in JSON).
type params = url.Values

// maxBody bounds what the fake reads; Slack's own limits are far lower.
const maxBody = 8 << 20

// readParams collects the call's arguments from the query string (slack-go
// sends GET for a few methods) and from a form, multipart or JSON body.
func readParams(r *http.Request) (params, error) {
	p := r.URL.Query()
	if r.Body == nil || r.Method == http.MethodGet {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	mediaType, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/json":
		return p, readJSON(body, p)
	case "multipart/form-data":
		return p, readMultipart(r, body, mp["boundary"], p)
	default: // Slack treats anything else as a form
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("parse form: %w", err)
		}
		for k, vs := range form {
			p[k] = append(p[k], vs...)
		}
		return p, nil
	}
}

func readJSON(body []byte, p params) error {
	if len(body) == 0 {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return fmt.Errorf("parse JSON body: %w", err)
	}
	for k, raw := range fields {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			p.Set(k, s)
		} else {
			p.Set(k, string(raw))
		}
	}
	return nil
}

func readMultipart(r *http.Request, body []byte, boundary string, p params) error {
	if boundary == "" {
		return fmt.Errorf("multipart body without boundary")
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	if err := r.ParseMultipartForm(maxBody); err != nil {
		return fmt.Errorf("parse multipart body: %w", err)
	}
	for k, vs := range r.MultipartForm.Value {
		p[k] = append(p[k], vs...)
	}
	return nil
}

// token is the caller's token: slack-go puts it in an "Authorization:
// Bearer" header for JSON and GET calls and in the "token" field of forms.
func token(r *http.Request, p params) string {
	if t, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found {
		return strings.TrimSpace(t)
	}
	return p.Get("token")
}
