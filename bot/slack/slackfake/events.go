package slackfake

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The builders below return Events API request bodies in Slack's shape for
// a public channel (channel_type "channel"). Messages carry no blocks: Slack
// adds rich_text blocks that mirror text, so read the text field. Thread
// replies name the bot as the parent's author (parent_user_id), as witaj's
// case threads are always started by the bot. Each message gets a new ts
// from NewTS.

// URLVerification is the challenge Slack sends when a request URL is saved;
// the app must answer with the challenge.
func URLVerification(challenge string) []byte {
	return mustJSON(map[string]any{"token": VerificationToken, "challenge": challenge, "type": "url_verification"})
}

// MessageEvent is user writing text in channel: a reply in the thread
// threadTS, or a top-level message when threadTS is "".
func MessageEvent(eventID, channel, user, text, threadTS string) []byte {
	return callback(eventID, userMessage(channel, user, text, NewTS(), threadTS))
}

// ChannelMessageEvent is user writing a top-level (non-thread) message in
// channel, chatter the bot must not relay.
func ChannelMessageEvent(eventID, channel, user, text string) []byte {
	return MessageEvent(eventID, channel, user, text, "")
}

// BotMessageEvent is a message from another integration (subtype
// "bot_message", with bot_id and username and no user), in the thread
// threadTS or top-level when it is "". For the echo of witaj's own posts,
// which Slack sends without a subtype, use Post.Event.
func BotMessageEvent(eventID, channel, botID, text, threadTS string) []byte {
	ts := NewTS()
	e := map[string]any{
		"type": "message", "subtype": "bot_message", "channel": channel, "text": text,
		"bot_id": botID, "username": "integration", "icons": map[string]any{},
		"ts": ts, "event_ts": ts, "channel_type": "channel",
	}
	if threadTS != "" {
		e["thread_ts"], e["parent_user_id"] = threadTS, BotUserID
	}
	return callback(eventID, e)
}

// MessageChangedEvent is user editing their message messageTS (a reply in
// threadTS, or top-level when threadTS is "") to newText. As on Slack, the
// event's own ts is new, the edited message sits in "message" and the old
// one in "previous_message", and the event has no thread_ts of its own.
func MessageChangedEvent(eventID, channel, user, messageTS, threadTS, oldText, newText string) []byte {
	ts := NewTS()
	msg := innerMessage(user, newText, messageTS, threadTS)
	msg["edited"] = map[string]any{"user": user, "ts": ts}
	return callback(eventID, map[string]any{
		"type": "message", "subtype": "message_changed", "hidden": true,
		"channel": channel, "ts": ts, "event_ts": ts, "channel_type": "channel",
		"message":          msg,
		"previous_message": innerMessage(user, oldText, messageTS, threadTS),
	})
}

// MessageDeletedEvent is the message messageTS (by user, with oldText; a
// reply in threadTS or top-level when it is "") being deleted.
func MessageDeletedEvent(eventID, channel, user, messageTS, threadTS, oldText string) []byte {
	ts := NewTS()
	return callback(eventID, map[string]any{
		"type": "message", "subtype": "message_deleted", "hidden": true,
		"channel": channel, "ts": ts, "event_ts": ts, "deleted_ts": messageTS, "channel_type": "channel",
		"previous_message": innerMessage(user, oldText, messageTS, threadTS),
	})
}

// Event is the message event Slack sends for p (with p's ts and current
// text): for a post made through the API, the echo of the bot's own message
// (user BotUserID, bot_id BotID, no subtype), which the bot must ignore; for
// a reply added with AddReply, the person's message.
func (p Post) Event(eventID string) []byte {
	e := userMessage(p.Channel, p.User, p.LatestText, p.TS, p.ThreadTS)
	if p.BotID != "" {
		delete(e, "client_msg_id")
		e["bot_id"], e["app_id"] = p.BotID, AppID
		e["bot_profile"] = map[string]any{"id": p.BotID, "app_id": AppID, "name": BotName, "team_id": TeamID, "deleted": false}
	}
	if len(p.LatestBlocks) > 0 {
		e["blocks"] = p.LatestBlocks
	}
	return callback(eventID, e)
}

// userMessage is the inner event of a new message.
func userMessage(channel, user, text, ts, threadTS string) map[string]any {
	e := innerMessage(user, text, ts, threadTS)
	e["channel"], e["event_ts"], e["channel_type"] = channel, ts, "channel"
	e["client_msg_id"] = clientMsgID(ts)
	return e
}

// innerMessage is a message as it appears inside events.
func innerMessage(user, text, ts, threadTS string) map[string]any {
	m := map[string]any{"type": "message", "user": user, "text": text, "ts": ts, "team": TeamID}
	if threadTS != "" && threadTS != ts {
		m["thread_ts"], m["parent_user_id"] = threadTS, BotUserID
	}
	return m
}

// callback wraps an inner event in Slack's event_callback envelope.
func callback(eventID string, event map[string]any) []byte {
	ts, _ := event["ts"].(string)
	return mustJSON(map[string]any{
		"token":           VerificationToken,
		"team_id":         TeamID,
		"context_team_id": TeamID,
		"api_app_id":      AppID,
		"event":           event,
		"type":            "event_callback",
		"event_id":        eventID,
		"event_time":      tsSeconds(ts),
		"authorizations": []any{map[string]any{
			"enterprise_id": nil, "team_id": TeamID, "user_id": BotUserID,
			"is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
		"event_context":         "4-" + strings.ToLower(eventID),
	})
}

// clientMsgID is a UUID-shaped id, as Slack clients attach to messages
// people type, derived from ts so that it is unique too.
func clientMsgID(ts string) string {
	digits := strings.ReplaceAll(ts, ".", "")
	return fmt.Sprintf("00000000-0000-4000-8000-%012s", digits[max(0, len(digits)-12):])
}

// mustJSON marshals builder output, which is made of maps, strings,
// numbers and raw JSON that came through the fake already validated, so an
// error is a bug in this package.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("slackfake: marshal builder output: %v", err))
	}
	return b
}
