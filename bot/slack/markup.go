// Package slack is the consultants' side of witaj on Slack (slack-go):
// one thread per case in the consultants' channel, migrants' messages
// relayed into it, consultants' replies relayed back to Telegram, Claim,
// Resolve and "send FAQ answer" controls, reminders, Events API over HTTP
// and Socket Mode.
package slack

import (
	"regexp"
	"strings"
)

// Escape makes text from a migrant inert in Slack: &, < and > are the only
// characters Slack treats as control characters, so "<!channel>" or
// "<https://evil|click>" arrive as plain text and notify no one.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

var (
	slackLink  = regexp.MustCompile(`<([^<>|]+)(?:\|([^<>]*))?>`)
	slackStyle = regexp.MustCompile("(^|[\\s(])[*_~`]+([^*_~`\\n]+?)[*_~`]+([\\s).,!?:;]|$)")
)

// ToPlain turns a consultant's Slack message into plain readable text for
// the migrant: links become "label (url)", mentions and channel references
// become names, emphasis markers go, entities are decoded. The result is
// plain text; the Telegram adapter escapes it for HTML.
func ToPlain(s string) string {
	s = slackLink.ReplaceAllStringFunc(s, func(m string) string {
		parts := slackLink.FindStringSubmatch(m)
		target, label := parts[1], parts[2]
		switch {
		case strings.HasPrefix(target, "@"):
			if label != "" {
				return "@" + label
			}
			return "@consultant"
		case strings.HasPrefix(target, "#"):
			if label != "" {
				return "#" + label
			}
			return "#channel"
		case strings.HasPrefix(target, "!"):
			name, _, _ := strings.Cut(strings.TrimPrefix(target, "!"), "^")
			if label != "" {
				return label
			}
			return "@" + name
		case strings.HasPrefix(target, "mailto:"):
			if label != "" {
				return label
			}
			return strings.TrimPrefix(target, "mailto:")
		case label != "" && label != target:
			return label + " (" + target + ")"
		}
		return target
	})
	for i := 0; i < 3; i++ { // nested emphasis
		s = slackStyle.ReplaceAllString(s, "$1$2$3")
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
