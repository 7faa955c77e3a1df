package slackfake

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// maxBlocks is Slack's limit on blocks per message.
const maxBlocks = 50

func (s *Server) postMessage(p params) reply {
	channel := p.Get("channel")
	if channel == "" {
		return slackError("channel_not_found")
	}
	blocks, code := readBlocks(p)
	if code != "" {
		return slackError(code)
	}
	if p.Get("text") == "" && len(blocks) == 0 && p.Get("attachments") == "" {
		return slackError("no_text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The ts is taken under the lock so that s.msgs stays in ts order.
	m := message{api: true, Post: Post{
		Channel: channel, TS: NewTS(), ThreadTS: p.Get("thread_ts"),
		User: BotUserID, BotID: BotID, Text: p.Get("text"), Blocks: blocks,
		UnfurlLinks: p.Get("unfurl_links"), UnfurlMedia: p.Get("unfurl_media"),
		LinkNames: p.Get("link_names"), Parse: p.Get("parse"),
		Mrkdwn: p.Get("mrkdwn"), Username: p.Get("username"),
	}}
	m.LatestText, m.LatestBlocks = m.Text, bytes.Clone(blocks)
	s.msgs = append(s.msgs, m)
	s.notifyLocked()
	return ok(map[string]any{"channel": channel, "ts": m.TS, "message": s.wireLocked(m)})
}

// readBlocks returns the blocks argument as sent (nil when absent) or the
// error Slack gives for malformed blocks.
func readBlocks(p params) (json.RawMessage, string) {
	raw := p.Get("blocks")
	if raw == "" {
		return nil, ""
	}
	var blocks []json.RawMessage
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		return nil, "invalid_blocks_format"
	}
	if len(blocks) > maxBlocks {
		return nil, "invalid_blocks"
	}
	return json.RawMessage(raw), ""
}

func (s *Server) updateMessage(p params) reply {
	blocks, code := readBlocks(p)
	if code != "" {
		return slackError(code)
	}
	text := p.Get("text")
	if text == "" && blocks == nil && p.Get("attachments") == "" {
		return slackError("no_text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, code := s.ownMessageLocked(p, "cant_update_message")
	if code != "" {
		return slackError(code)
	}
	// Like Slack, an update replaces the text; blocks are kept unless the
	// call sends some ("[]" removes them).
	m.LatestText, m.Updated = text, true
	if blocks != nil {
		m.LatestBlocks = bytes.Clone(blocks)
	}
	s.updates = append(s.updates, Update{Channel: m.Channel, TS: m.TS, Text: text, Blocks: bytes.Clone(blocks)})
	s.notifyLocked()
	return ok(map[string]any{"channel": m.Channel, "ts": m.TS, "text": text, "message": s.wireLocked(*m)})
}

func (s *Server) deleteMessage(p params) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, code := s.ownMessageLocked(p, "cant_delete_message")
	if code != "" {
		return slackError(code)
	}
	m.Deleted = true
	s.deletes = append(s.deletes, Delete{Channel: m.Channel, TS: m.TS})
	s.notifyLocked()
	return ok(map[string]any{"channel": m.Channel, "ts": m.TS})
}

// ownMessageLocked finds the live message the call's channel and ts name;
// a bot may change only its own messages (notOwn is the error otherwise).
func (s *Server) ownMessageLocked(p params, notOwn string) (*message, string) {
	channel, ts := p.Get("channel"), p.Get("ts")
	if channel == "" {
		return nil, "channel_not_found"
	}
	m := s.findLocked(channel, ts)
	switch {
	case m == nil || m.Deleted:
		return nil, "message_not_found"
	case !m.api:
		return nil, notOwn
	}
	return m, ""
}

func (s *Server) findLocked(channel, ts string) *message {
	for i := range s.msgs {
		if m := &s.msgs[i]; m.Channel == channel && m.TS == ts {
			return m
		}
	}
	return nil
}

func (s *Server) conversationMembers(p params) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	members, found := s.members[p.Get("channel")]
	if !found {
		return slackError("channel_not_found")
	}
	return ok(map[string]any{
		"members":           append([]string{}, members...),
		"response_metadata": map[string]any{"next_cursor": ""},
	})
}

// conversationReplies returns the whole live thread in one page; paging
// arguments (cursor, limit, oldest, latest) are ignored.
func (s *Server) conversationReplies(p params) reply {
	channel, ts := p.Get("channel"), p.Get("ts")
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := s.findLocked(channel, ts)
	if parent == nil {
		return slackError("thread_not_found")
	}
	var replies []any
	for _, m := range s.msgs {
		if m.Channel == channel && m.ThreadTS == ts && m.TS != ts && !m.Deleted {
			replies = append(replies, s.wireLocked(m))
		}
	}
	if parent.Deleted && len(replies) == 0 {
		return slackError("thread_not_found")
	}
	first := s.wireLocked(*parent)
	if parent.Deleted { // Slack keeps a tombstone while replies remain
		first = map[string]any{"type": "message", "subtype": "tombstone", "hidden": true,
			"user": "USLACKBOT", "text": "This message was deleted.", "ts": ts, "thread_ts": ts}
	}
	return ok(map[string]any{
		"messages":          append([]any{first}, replies...),
		"has_more":          false,
		"response_metadata": map[string]any{"next_cursor": ""},
	})
}

// conversationHistory returns the channel's live top-level messages,
// newest first, at or after oldest; other paging arguments are ignored.
func (s *Server) conversationHistory(p params) reply {
	channel, oldest := p.Get("channel"), p.Get("oldest")
	if channel == "" {
		return slackError("channel_not_found")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs := []any{}
	for i := len(s.msgs) - 1; i >= 0; i-- {
		m := s.msgs[i]
		if m.Channel != channel || m.Deleted || (m.ThreadTS != "" && m.ThreadTS != m.TS) {
			continue
		}
		if oldest != "" && tsLess(m.TS, oldest) {
			continue
		}
		msgs = append(msgs, s.wireLocked(m))
	}
	return ok(map[string]any{"messages": msgs, "has_more": false, "response_metadata": map[string]any{"next_cursor": ""}})
}

// tsLess compares two Slack timestamps ("1795444233.000100").
func tsLess(a, b string) bool {
	fa, errA := strconv.ParseFloat(a, 64)
	fb, errB := strconv.ParseFloat(b, 64)
	return errA == nil && errB == nil && fa < fb
}

// wireLocked is m as Slack's API returns a message; a thread parent carries
// thread_ts and reply_count once it has replies.
func (s *Server) wireLocked(m message) map[string]any {
	w := map[string]any{"type": "message", "ts": m.TS, "text": m.LatestText, "user": m.User, "team": TeamID}
	if m.BotID != "" {
		w["bot_id"], w["app_id"] = m.BotID, AppID
	}
	if len(m.LatestBlocks) > 0 {
		w["blocks"] = m.LatestBlocks
	}
	if m.Username != "" {
		w["username"] = m.Username
	}
	if m.ThreadTS != "" && m.ThreadTS != m.TS {
		w["thread_ts"] = m.ThreadTS
		if parent := s.findLocked(m.Channel, m.ThreadTS); parent != nil {
			w["parent_user_id"] = parent.User
		}
		return w
	}
	var count int
	for _, r := range s.msgs {
		if r.Channel == m.Channel && r.ThreadTS == m.TS && r.TS != m.TS && !r.Deleted {
			count++
		}
	}
	if count > 0 {
		w["thread_ts"], w["reply_count"] = m.TS, count
	}
	return w
}

func (s *Server) userInfo(p params) reply {
	id := p.Get("user")
	s.mu.Lock()
	defer s.mu.Unlock()
	name, found := s.users[id]
	if !found {
		return slackError("user_not_found")
	}
	return ok(map[string]any{"user": map[string]any{
		"id": id, "team_id": TeamID, "name": name, "real_name": name, "is_bot": id == BotUserID,
		"profile": map[string]any{"real_name": name, "display_name": name},
	}})
}
