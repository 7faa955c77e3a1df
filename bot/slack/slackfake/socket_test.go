package slackfake_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"

	"github.com/witaj/witaj/bot/slack/slackfake"
)

// dialSocket opens a Socket Mode connection as a client does and reads
// the hello.
func dialSocket(t *testing.T, srv *slackfake.Server) (*websocket.Conn, string) {
	t.Helper()
	api := slack.New("xoxb-test", slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken("xapp-test"))
	_, url, err := api.StartSocketModeContext(testContext(t))
	if err != nil {
		t.Fatalf("apps.connections.open: %v", err)
	}
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.Close() })
	var hello map[string]any
	if err := ws.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("first message %v, %v; want hello", hello, err)
	}
	return ws, url
}

func TestSocketModeOpenNeedsAppToken(t *testing.T) {
	srv := slackfake.New(t)
	api := slack.New("xoxb-test", slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken("xoxb-test"))
	if _, _, err := api.StartSocketModeContext(testContext(t)); err == nil || err.Error() != "not_allowed_token_type" {
		t.Errorf("apps.connections.open with a bot token: %v, want not_allowed_token_type", err)
	}
	if _, err := srv.SendEvent(slackfake.MessageEvent("Ev1", "C1", "U1", "hi", "")); !errors.Is(err, slackfake.ErrNoSocket) {
		t.Errorf("Send without a connection: %v, want ErrNoSocket", err)
	}
}

func TestSocketModeEnvelopesAndAcks(t *testing.T) {
	srv := slackfake.New(t)
	ws, url := dialSocket(t, srv)
	if _, resp, err := websocket.DefaultDialer.Dial(url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("second dial with the same ticket: %v, want 401", err)
	}
	id, err := srv.SendEvent(slackfake.MessageEvent("Ev1", "C1", "U1", "hi", ""))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		EnvelopeID string          `json:"envelope_id"`
		Type       string          `json:"type"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := ws.ReadJSON(&env); err != nil || env.EnvelopeID != id || env.Type != "events_api" || len(env.Payload) == 0 {
		t.Fatalf("envelope %+v, %v; want events_api %s", env, err, id)
	}
	if err := ws.WriteJSON(map[string]any{"envelope_id": id}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitFor(testContext(t), func(s *slackfake.Server) bool { _, ok := s.AckOf(id); return ok }); err != nil {
		t.Fatalf("ack not recorded: %v", err)
	}
	if a := srv.Acks(); len(a) != 1 || a[0].Conn != 1 {
		t.Errorf("acks %+v, want one on connection 1", a)
	}
	srv.Disconnect("refresh_requested")
	var msg map[string]any
	if err := ws.ReadJSON(&msg); err != nil || msg["type"] != "disconnect" || msg["reason"] != "refresh_requested" {
		t.Errorf("after Disconnect: %v, %v", msg, err)
	}
	srv.DropSockets()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Error("read after DropSockets succeeded")
	}
	err = srv.WaitFor(testContext(t), func(s *slackfake.Server) bool { return !s.SocketConns()[0].Closed.IsZero() })
	if err != nil {
		t.Errorf("connection not recorded as closed: %+v", srv.SocketConns())
	}
}
