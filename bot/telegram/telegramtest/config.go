package telegramtest

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/go-telegram/bot/models"
)

// Webhook is the webhook configuration last set with setWebhook; the zero
// value means no webhook.
type Webhook struct {
	URL            string
	SecretToken    string
	MaxConnections int
	AllowedUpdates []string
	IPAddress      string
}

// Webhook returns the current webhook configuration.
func (s *Server) Webhook() Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.webhook
	w.AllowedUpdates = slices.Clone(w.AllowedUpdates)
	return w
}

// Commands returns the commands set with setMyCommands for exactly this
// scope and language, as getMyCommands does (no fallback to other scopes
// or languages); a nil scope is the default scope.
func (s *Server) Commands(scope models.BotCommandScope, languageCode string) []models.BotCommand {
	raw := ""
	if scope != nil {
		b, err := scope.MarshalCustom()
		if err != nil {
			s.tb.Errorf("telegramtest: marshal command scope: %v", err)
			return nil
		}
		raw = string(b)
	}
	key, err := commandsKey(raw, languageCode)
	if err != nil {
		s.tb.Errorf("telegramtest: %v", err)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[key])
}

// commandsKey identifies a command list by the scope's JSON with its keys
// sorted, and the language code.
func commandsKey(scope, languageCode string) (string, error) {
	if scope == "" {
		scope = `{"type":"default"}`
	}
	dec := json.NewDecoder(strings.NewReader(scope))
	dec.UseNumber() // keep chat ids exact
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m["type"] == nil {
		return "", errBadRequest("can't parse BotCommandScope JSON object")
	}
	canonical, err := json.Marshal(m) // map keys come out sorted
	if err != nil {
		return "", errBadRequest("can't parse BotCommandScope JSON object")
	}
	return string(canonical) + " " + languageCode, nil
}

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setMyCommands(p params) reply {
	var cmds []models.BotCommand
	if err := json.Unmarshal([]byte(p["commands"]), &cmds); err != nil {
		return badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return badRequest("BOT_COMMANDS_TOO_MUCH")
	}
	for _, c := range cmds {
		if !commandName.MatchString(c.Command) {
			return badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf16Len(strings.TrimSpace(c.Description)); n < 1 || n > 256 {
			return badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	key, err := commandsKey(p["scope"], p["language_code"])
	if err != nil {
		return replyFor(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(cmds) == 0 {
		delete(s.commands, key) // an empty list deletes, as in the Bot API
	} else {
		s.commands[key] = cmds
	}
	s.notifyLocked()
	return ok(true)
}

func (s *Server) deleteMyCommands(p params) reply {
	key, err := commandsKey(p["scope"], p["language_code"])
	if err != nil {
		return replyFor(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commands, key)
	s.notifyLocked()
	return ok(true)
}

func (s *Server) getMyCommands(p params) reply {
	key, err := commandsKey(p["scope"], p["language_code"])
	if err != nil {
		return replyFor(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cmds := slices.Clone(s.commands[key])
	if cmds == nil {
		cmds = []models.BotCommand{}
	}
	return ok(cmds)
}

var secretToken = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

func (s *Server) setWebhook(p params) reply {
	w := Webhook{URL: p["url"], SecretToken: p["secret_token"], IPAddress: p["ip_address"]}
	if w.URL != "" && !strings.HasPrefix(w.URL, "https://") {
		return badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	if len(w.SecretToken) > 256 {
		return badRequest("secret token is too long")
	}
	if !secretToken.MatchString(w.SecretToken) {
		return badRequest("secret token contains unallowed characters")
	}
	if raw := bytes.TrimSpace([]byte(p["allowed_updates"])); len(raw) > 0 {
		if err := json.Unmarshal(raw, &w.AllowedUpdates); err != nil {
			return badRequest("can't parse allowed updates JSON object")
		}
	}
	w.MaxConnections = int(p.int("max_connections"))
	if w.MaxConnections == 0 {
		w.MaxConnections = 40
	}
	if w.URL == "" {
		w = Webhook{} // setWebhook with an empty URL removes the webhook
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = w
	if p.bool("drop_pending_updates") {
		s.queue = nil
	}
	s.notifyLocked()
	return ok(true)
}

func (s *Server) deleteWebhook(p params) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = Webhook{}
	if p.bool("drop_pending_updates") {
		s.queue = nil
	}
	s.notifyLocked()
	return ok(true)
}

func (s *Server) getWebhookInfo() reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.webhook
	info := models.WebhookInfo{URL: w.URL, PendingUpdateCount: len(s.queue), IPAddress: w.IPAddress}
	if w.URL != "" {
		info.MaxConnections = w.MaxConnections
		info.AllowedUpdates = slices.Clone(w.AllowedUpdates)
	}
	return ok(info)
}
