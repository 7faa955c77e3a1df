package telegramtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
)

// params are a request's parameters in the form the Bot API accepts them
// over multipart and URL encoding: strings raw, everything else (numbers,
// booleans, objects) as JSON text, e.g. chat_id="42",
// reply_markup=`{"inline_keyboard":…}`.
type params map[string]string

// maxBody bounds what the fake reads; Telegram's own limit for uploads is 50 MB.
const maxBody = 50 << 20

// readParams collects the parameters of r from its query string and from a
// multipart/form-data, application/json or x-www-form-urlencoded body.
func readParams(r *http.Request) (params, error) {
	p := params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("can't read the request body: %w", err)
	}
	// go-telegram/bot sends a multipart Content-Type with an empty body for
	// methods without parameters (getMe, getWebhookInfo).
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	mediaType, mt, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("bad Content-Type: %w", err)
	}
	switch mediaType {
	case "multipart/form-data":
		err = readMultipart(body, mt["boundary"], p)
	case "application/json":
		err = readJSON(body, p)
	case "application/x-www-form-urlencoded":
		err = readURLEncoded(body, p)
	default:
		err = fmt.Errorf("unsupported Content-Type %q", mediaType)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// readMultipart reads form fields; an uploaded file is recorded by its name.
func readMultipart(body []byte, boundary string, p params) error {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("can't parse multipart body: %w", err)
		}
		if part.FileName() != "" {
			p[part.FormName()] = part.FileName()
			continue
		}
		value, err := io.ReadAll(part)
		if err != nil {
			return fmt.Errorf("can't read multipart field %q: %w", part.FormName(), err)
		}
		p[part.FormName()] = string(value)
	}
}

// readJSON flattens a JSON object into the same form multipart uses.
func readJSON(body []byte, p params) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return fmt.Errorf("can't parse JSON body: %w", err)
	}
	for k, raw := range fields {
		raw = bytes.TrimSpace(raw)
		var s string
		switch {
		case string(raw) == "null":
			continue
		case json.Unmarshal(raw, &s) == nil:
			p[k] = s
		default:
			p[k] = string(raw)
		}
	}
	return nil
}

func readURLEncoded(body []byte, p params) error {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return fmt.Errorf("can't parse form body: %w", err)
	}
	for k, v := range values {
		p[k] = v[0]
	}
	return nil
}

// int returns the integer parameter key, or 0 when it is missing or not a
// number (Telegram treats both as "not specified").
func (p params) int(key string) int64 {
	n, err := strconv.ParseInt(p[key], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// bool reports whether the boolean parameter key is true.
func (p params) bool(key string) bool {
	b, _ := strconv.ParseBool(p[key])
	return b
}

// clone returns a copy that callers may keep and change.
func (p params) clone() map[string]string {
	return maps.Clone(map[string]string(p))
}
