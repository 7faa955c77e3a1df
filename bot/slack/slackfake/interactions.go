package slackfake

import (
	"strings"
)

// The builders below return interactivity payloads (the JSON that
// PostInteraction puts in the "payload" form field) for clicks on a message
// the bot posted in a channel. user's username and name are user lowercased.
// response_url points at hooks.slack.com, not at the fake: witaj should
// change messages with chat.update.

// BlockAction is user pressing the button actionID (carrying value) on the
// bot's message messageTS in channel: a "block_actions" payload.
func BlockAction(user, channel, messageTS, actionID, value string) []byte {
	actionTS := NewTS()
	return blockActions(user, channel, messageTS, actionTS, map[string]any{
		"type":      "button",
		"action_id": actionID,
		"block_id":  blockID(actionID),
		"text":      plainText(actionID),
		"value":     value,
		"action_ts": actionTS,
	})
}

// SelectAction is user choosing the option selectedValue in the
// static_select menu actionID on the bot's message messageTS in channel. The
// option's text is its value.
func SelectAction(user, channel, messageTS, actionID, selectedValue string) []byte {
	actionTS := NewTS()
	return blockActions(user, channel, messageTS, actionTS, map[string]any{
		"type":      "static_select",
		"action_id": actionID,
		"block_id":  blockID(actionID),
		"selected_option": map[string]any{
			"text":  plainText(selectedValue),
			"value": selectedValue,
		},
		"placeholder": plainText("Select an item"),
		"action_ts":   actionTS,
	})
}

func blockActions(user, channel, messageTS, actionTS string, action map[string]any) []byte {
	trigger := actionTS + ".0a1b2c3d4e5f" // shaped like Slack's, unique through actionTS
	name := strings.ToLower(user)
	return mustJSON(map[string]any{
		"type":       "block_actions",
		"token":      VerificationToken,
		"api_app_id": AppID,
		"user":       map[string]any{"id": user, "username": name, "name": name, "team_id": TeamID},
		"team":       map[string]any{"id": TeamID, "domain": TeamDomain},
		"enterprise": nil,
		"container": map[string]any{
			"type": "message", "message_ts": messageTS, "channel_id": channel, "is_ephemeral": false,
		},
		"channel": map[string]any{"id": channel},
		"message": map[string]any{
			"type": "message", "user": BotUserID, "bot_id": BotID, "app_id": AppID,
			"team": TeamID, "ts": messageTS, "text": "",
		},
		"state":                 map[string]any{"values": map[string]any{}},
		"actions":               []any{action},
		"response_url":          "https://hooks.slack.com/actions/" + TeamID + "/" + strings.ReplaceAll(actionTS, ".", "") + "/fake",
		"trigger_id":            trigger,
		"is_enterprise_install": false,
	})
}

// blockID stands in for the id Slack gives a block that the app left
// unnamed; it is stable for a given action.
func blockID(actionID string) string { return "b-" + actionID }

func plainText(text string) map[string]any {
	return map[string]any{"type": "plain_text", "text": text, "emoji": true}
}
