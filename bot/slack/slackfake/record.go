package slackfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Request is one Web API call the server received.
type Request struct {
	Method string     // as in the URL, e.g. "chat.postMessage"
	Token  string     // from "Authorization: Bearer" or the token field
	Params url.Values // the call's arguments; JSON bodies flattened (see readParams)
	Time   time.Time  // when the request arrived
	Status int        // the HTTP status answered
	Error  string     // the ok:false error code answered, "" on success
}

// Post is a message in a channel: one the client posted with
// chat.postMessage, or one a person wrote (AddReply). The fields named after
// chat.postMessage arguments hold them as sent, "" when absent.
type Post struct {
	Channel  string
	TS       string
	ThreadTS string // the parent's ts for a thread reply, "" otherwise
	User     string // BotUserID for posts through the API
	BotID    string // BotID for posts through the API, "" for people
	Text     string
	Blocks   json.RawMessage // nil when no blocks were sent

	UnfurlLinks string
	UnfurlMedia string
	LinkNames   string
	Parse       string
	Mrkdwn      string
	Username    string

	// LatestText and LatestBlocks are the message after the last
	// chat.update; they equal Text and Blocks until then.
	LatestText   string
	LatestBlocks json.RawMessage
	Updated      bool // changed by chat.update at least once
	Deleted      bool // removed by chat.delete
}

// Update is one successful chat.update call.
type Update struct {
	Channel string
	TS      string
	Text    string
	Blocks  json.RawMessage // nil when the call sent no blocks
}

// Delete is one successful chat.delete call.
type Delete struct {
	Channel string
	TS      string
}

// message is a Post and whether it came through the API (not AddReply).
type message struct {
	Post
	api bool
}

func (p Post) clone() Post {
	p.Blocks = bytes.Clone(p.Blocks)
	p.LatestBlocks = bytes.Clone(p.LatestBlocks)
	return p
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	s.notifyLocked()
}

// Requests returns the calls of method received so far, oldest first; ""
// means all methods.
func (s *Server) Requests(method string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if method == "" || r.Method == method {
			r.Params = cloneValues(r.Params)
			out = append(out, r)
		}
	}
	return out
}

// Posts returns every message posted through chat.postMessage, in the order
// they were posted, in their latest state.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Post
	for _, m := range s.msgs {
		if m.api {
			out = append(out, m.clone())
		}
	}
	return out
}

// Thread returns the message ts in channel followed by its replies (people's
// included), oldest first, deleted ones marked: every message in channel
// whose ts or thread_ts is ts.
func (s *Server) Thread(channel, ts string) []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Post
	for _, m := range s.msgs {
		if m.Channel == channel && (m.TS == ts || m.ThreadTS == ts) {
			out = append(out, m.clone())
		}
	}
	return out
}

// Updates returns the successful chat.update calls, oldest first.
func (s *Server) Updates() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.updates)
	for i := range out {
		out[i].Blocks = bytes.Clone(out[i].Blocks)
	}
	return out
}

// Deletes returns the successful chat.delete calls, oldest first.
func (s *Server) Deletes() []Delete {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deletes)
}

// AddReply records a reply a person (user) wrote in the thread threadTS of
// channel, as if typed in Slack, and returns it; no event is sent. Use it for
// replies the bot must find through conversations.replies, and Post.Event to
// deliver the matching event.
func (s *Server) AddReply(channel, threadTS, user, text string) Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The ts is taken under the lock so that s.msgs stays in ts order.
	p := Post{Channel: channel, TS: NewTS(), ThreadTS: threadTS, User: user, Text: text, LatestText: text}
	s.msgs = append(s.msgs, message{Post: p})
	s.notifyLocked()
	return p
}

// SetMembers sets the members conversations.members returns for channel.
// Channels without members set answer channel_not_found.
func (s *Server) SetMembers(channel string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[channel] = slices.Clone(users)
}

// SetUserName makes users.info know user id with the given name (used as
// name, real name and display name). BotUserID is known from the start.
func (s *Server) SetUserName(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = name
}

// WaitFor blocks until cond holds, and checks it again after every request
// and every change made through the Server's methods. cond runs without the
// server's lock held, so it may call any accessor. WaitFor returns an error
// wrapping the context's error when ctx ends first, or ErrClosed when the
// server shuts down.
func (s *Server) WaitFor(ctx context.Context, cond func(*Server) bool) error {
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if cond(s) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("slackfake: wait: %w", context.Cause(ctx))
		case <-s.done:
			if cond(s) {
				return nil
			}
			return ErrClosed
		}
	}
}

// WaitPosts waits until at least n messages were posted and returns all of
// them (as Posts does).
func (s *Server) WaitPosts(ctx context.Context, n int) ([]Post, error) {
	var posts []Post
	err := s.WaitFor(ctx, func(s *Server) bool {
		posts = s.Posts()
		return len(posts) >= n
	})
	if err != nil {
		return posts, fmt.Errorf("wait for %d posts, got %d: %w", n, len(posts), err)
	}
	return posts, nil
}
