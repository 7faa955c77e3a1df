package slackfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode (https://api.slack.com/apis/connections/socket-implement).
//
// apps.connections.open, called with an app-level token ("xapp-…"), answers
// a single-use ws:// URL on this server. A client that dials it is greeted
// with "hello", then gets WebSocket PING frames (every PingInterval) and the
// envelopes a test sends (SendEvent, SendInteraction, Send); the server
// records every acknowledgement (Acks). Disconnect asks clients to reconnect
// as Slack does before it rotates a connection; DropSockets cuts connections
// without a word; StopPings leaves them open but silent, as a dead network
// path does. slack-go's slacktest cannot do this: its /ws speaks RTM.

// PingInterval is how often the server PINGs an open socket.
const PingInterval = 500 * time.Millisecond

// SocketConn is one Socket Mode connection a client opened.
type SocketConn struct {
	ID     int       // 1 for the first connection, then 2, 3 …
	Opened time.Time // when the WebSocket handshake completed
	Closed time.Time // when the connection ended (either side); zero while open
}

// Ack is one acknowledgement a client sent over a socket.
type Ack struct {
	EnvelopeID string
	Conn       int             // the SocketConn's ID
	Payload    json.RawMessage // the response payload; nil when none
	Time       time.Time       // when the server read it
}

// Envelope is a Socket Mode request to send to the client.
type Envelope struct {
	Type         string          // "events_api", "interactive", "slash_commands"
	Payload      json.RawMessage // an Events API body, an interaction payload …
	RetryAttempt int             // Slack's redelivery count (events_api)
	RetryReason  string          // e.g. "timeout" (events_api)
}

// ErrNoSocket is returned by Send when no connection is open (and
// PINGed): the client is not connected, or reconnecting.
var ErrNoSocket = errors.New("slackfake: no open Socket Mode connection")

// socketMode is the Server's Socket Mode state, guarded by Server.mu.
type socketMode struct {
	tickets   map[string]bool // issued by apps.connections.open, not used yet
	issued    int
	conns     []*socketConn // every connection, oldest first
	acks      []Ack
	envelopes int
}

// socketConn is one server-side connection.
type socketConn struct {
	SocketConn      // guarded by Server.mu
	silent     bool // StopPings was called; guarded by Server.mu
	ws         *websocket.Conn
	wmu        sync.Mutex    // one writer at a time (gorilla/websocket)
	quiet      chan struct{} // closed by StopPings: the pinger stops
	done       chan struct{} // closed when the connection ended
}

// upgrader accepts any Origin: slack-go dials with "Origin:
// https://api.slack.com", which is not this server's host.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// openConnection is apps.connections.open. Slack refuses a bot token here.
func (s *Server) openConnection(tok string) reply {
	if !strings.HasPrefix(tok, "xapp-") {
		return slackError("not_allowed_token_type")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sm.issued++
	ticket := fmt.Sprintf("ticket-%d", s.sm.issued)
	if s.sm.tickets == nil {
		s.sm.tickets = map[string]bool{}
	}
	s.sm.tickets[ticket] = true
	url := "ws" + strings.TrimPrefix(s.hs.URL, "http") + "/link/?ticket=" + ticket + "&app_id=" + AppID
	return ok(map[string]any{"url": url})
}

// serveSocket accepts a WebSocket with a ticket issued and not used yet,
// says hello, PINGs it and reads its acknowledgements until it ends.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	valid := s.sm.tickets[ticket]
	delete(s.sm.tickets, ticket)
	s.mu.Unlock()
	if !valid {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade answered the client
	}
	c := &socketConn{ws: ws, quiet: make(chan struct{}), done: make(chan struct{})}
	// hello comes first, and the connection is open for Send once the
	// client can have read it: it is registered before the hello is
	// written, and Send waits for the write lock held until then.
	c.wmu.Lock()
	s.mu.Lock()
	select {
	case <-s.done: // the server is closing: no new connections
		s.mu.Unlock()
		c.wmu.Unlock()
		ws.Close()
		return
	default:
	}
	open := s.openLocked() + 1
	c.ID, c.Opened = len(s.sm.conns)+1, time.Now()
	s.sm.conns = append(s.sm.conns, c)
	s.mu.Unlock()
	err = c.writeLocked(map[string]any{"type": "hello", "num_connections": open,
		"debug_info":      map[string]any{"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": AppID}})
	c.wmu.Unlock()
	if err != nil {
		s.ended(c)
		return
	}
	s.mu.Lock()
	s.notifyLocked()
	s.mu.Unlock()
	go s.ping(c)
	s.readAcks(c)
}

func (s *Server) openLocked() int {
	n := 0
	for _, c := range s.sm.conns {
		if c.Closed.IsZero() {
			n++
		}
	}
	return n
}

// readAcks records what the client sends until the connection ends.
func (s *Server) readAcks(c *socketConn) {
	defer s.ended(c)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var res struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &res) != nil || res.EnvelopeID == "" {
			continue // Slack ignores what is not an acknowledgement
		}
		s.mu.Lock()
		s.sm.acks = append(s.sm.acks, Ack{EnvelopeID: res.EnvelopeID, Conn: c.ID, Payload: res.Payload, Time: time.Now()})
		s.notifyLocked()
		s.mu.Unlock()
	}
}

func (s *Server) ended(c *socketConn) {
	c.ws.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Closed.IsZero() {
		c.Closed = time.Now()
		close(c.done)
		s.notifyLocked()
	}
}

// ping sends WebSocket PINGs, as Slack does, until the connection ends
// or StopPings silences it.
func (s *Server) ping(c *socketConn) {
	t := time.NewTicker(PingInterval)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-c.done:
			return
		case <-c.quiet:
			return
		case <-s.done:
			return
		case <-t.C:
			if c.ws.WriteControl(websocket.PingMessage, fmt.Appendf(nil, "ping-%d", n), time.Now().Add(time.Second)) != nil {
				return
			}
		}
	}
}

// write sends one JSON message.
func (c *socketConn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(v)
}

// writeLocked is write with wmu held.
func (c *socketConn) writeLocked(v any) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// Send delivers e over the newest open, PINGed connection and returns its
// envelope id.
func (s *Server) Send(e Envelope) (string, error) {
	s.mu.Lock()
	var c *socketConn
	for i := len(s.sm.conns) - 1; i >= 0 && c == nil; i-- {
		if cc := s.sm.conns[i]; cc.Closed.IsZero() && !cc.silent {
			c = cc
		}
	}
	if c == nil {
		s.mu.Unlock()
		return "", ErrNoSocket
	}
	s.sm.envelopes++
	id := fmt.Sprintf("env-%d-%d", c.ID, s.sm.envelopes)
	s.mu.Unlock()
	msg := map[string]any{"envelope_id": id, "type": e.Type, "payload": e.Payload, "accepts_response_payload": false}
	if e.Type == "events_api" {
		msg["retry_attempt"], msg["retry_reason"] = e.RetryAttempt, e.RetryReason
	}
	if err := c.write(msg); err != nil {
		return "", fmt.Errorf("slackfake: send envelope: %w", err)
	}
	return id, nil
}

// SendEvent delivers an Events API body (MessageEvent …) as an
// "events_api" envelope.
func (s *Server) SendEvent(body []byte) (string, error) {
	return s.Send(Envelope{Type: "events_api", Payload: body})
}

// SendInteraction delivers an interaction payload (BlockAction …) as an
// "interactive" envelope.
func (s *Server) SendInteraction(payload []byte) (string, error) {
	return s.Send(Envelope{Type: "interactive", Payload: payload})
}

// Disconnect sends "disconnect" with reason ("refresh_requested",
// "warning", "link_disabled") on every open connection, as Slack does
// before rotating one; the connections stay open until the client closes
// them.
func (s *Server) Disconnect(reason string) {
	for _, c := range s.openConns() {
		_ = c.write(map[string]any{"type": "disconnect", "reason": reason,
			"debug_info": map[string]any{"host": "applink-fake"}})
	}
}

// DropSockets closes every open connection at once, without a close
// frame, as a network failure does.
func (s *Server) DropSockets() {
	for _, c := range s.openConns() {
		c.ws.Close() // gorilla closes the TCP connection, no close frame
	}
}

// StopPings silences every open connection: no more PINGs, and Send skips
// it. The connection stays open, as over a dead network path. Connections
// opened later are PINGed as usual.
func (s *Server) StopPings() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.sm.conns {
		if c.Closed.IsZero() && !c.silent {
			c.silent = true
			close(c.quiet)
		}
	}
}

func (s *Server) openConns() []*socketConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*socketConn
	for _, c := range s.sm.conns {
		if c.Closed.IsZero() {
			out = append(out, c)
		}
	}
	return out
}

// closeSockets ends every connection when the server shuts down.
func (s *Server) closeSockets() {
	for _, c := range s.openConns() {
		c.ws.Close()
	}
}

// SocketConns returns every Socket Mode connection opened so far, oldest
// first.
func (s *Server) SocketConns() []SocketConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SocketConn, len(s.sm.conns))
	for i, c := range s.sm.conns {
		out[i] = c.SocketConn
	}
	return out
}

// Acks returns the acknowledgements received so far, oldest first.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ack, len(s.sm.acks))
	copy(out, s.sm.acks)
	return out
}

// AckOf returns the acknowledgement of the envelope id, if one came.
func (s *Server) AckOf(id string) (Ack, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.sm.acks {
		if a.EnvelopeID == id {
			return a, true
		}
	}
	return Ack{}, false
}
