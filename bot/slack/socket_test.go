package slack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/slack/slackfake"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// The tests below run the real slack-go Socket Mode client, through
// Events.RunSocketMode, against slackfake's Socket Mode server.

// reconnectWithin is how soon the client must be connected again after
// Slack asks it to reconnect or the connection breaks (checklist item 25).
const reconnectWithin = 5 * time.Second

// ackWithin is how soon an envelope must be acknowledged: Slack redelivers
// what is not acknowledged within 3 s (checklist item 21).
const ackWithin = 3 * time.Second

// socketRig is a case thread in CCONS for chat 9, consultant UCONS, and
// Events running Socket Mode against a fake Slack.
type socketRig struct {
	t      *testing.T
	srv    *slackfake.Server
	thread string
	got    chan bot.Update
}

// startSocket starts RunSocketMode with handler h (nil: record updates in
// rig.got) and waits for the first connection.
func startSocket(t *testing.T, h Handler) *socketRig {
	t.Helper()
	d, st := newDesk(t)
	d.cfg.Consultants = []string{"UCONS"}
	if _, err := d.Open(ctx, 9, flows.Escalate{Lang: knowledge.UK, Question: "q"}); err != nil {
		t.Fatal(err)
	}
	r := &socketRig{t: t, srv: slackfake.New(t), thread: slackfake.NewTS(), got: make(chan bot.Update, 1000)}
	if err := st.SetThread(ctx, 9, "CCONS", r.thread); err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = recorder{got: r.got}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ev := NewEvents(d, h, st, nil, "", slackfake.BotUserID, log)
	// The fake PINGs every 500 ms; production keeps slack-go's 30 s.
	ev.SilentFor, ev.Restart = 2*time.Second, 100*time.Millisecond
	api := slack.New("xoxb-test", slack.OptionAPIURL(r.srv.APIURL()), slack.OptionAppLevelToken("xapp-test"))
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ev.RunSocketMode(runCtx, api, log)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		ev.Wait()
	})
	r.waitConns(1, 10*time.Second)
	return r
}

// waitConns waits until n connections were opened and returns them.
func (r *socketRig) waitConns(n int, within time.Duration) []slackfake.SocketConn {
	r.t.Helper()
	wctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	err := r.srv.WaitFor(wctx, func(s *slackfake.Server) bool { return len(s.SocketConns()) >= n })
	conns := r.srv.SocketConns()
	if err != nil {
		r.t.Fatalf("waiting %v for Socket Mode connection %d: %v (connections: %+v)", within, n, err, conns)
	}
	return conns
}

// waitAck waits for the acknowledgement of envelope id.
func (r *socketRig) waitAck(id string, within time.Duration) slackfake.Ack {
	r.t.Helper()
	wctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var a slackfake.Ack
	err := r.srv.WaitFor(wctx, func(s *slackfake.Server) bool {
		var ok bool
		a, ok = s.AckOf(id)
		return ok
	})
	if err != nil {
		r.t.Fatalf("envelope %s not acknowledged within %v: %v", id, within, err)
	}
	return a
}

// reply sends a consultant's thread reply as an events_api envelope.
func (r *socketRig) reply(eventID, text string) string {
	r.t.Helper()
	id, err := r.srv.SendEvent(slackfake.MessageEvent(eventID, "CCONS", "UCONS", text, r.thread))
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// update waits for the next update the handler got.
func (r *socketRig) update() bot.Update {
	r.t.Helper()
	select {
	case u := <-r.got:
		return u
	case <-time.After(5 * time.Second):
		r.t.Fatal("no update reached the service")
	}
	return bot.Update{}
}

// TestSocketModeReconnects: after Slack's "disconnect" and after a
// connection dropped without a word, the client opens a new connection
// within 5 s (a new apps.connections.open ticket each time), and envelopes
// on every connection are acknowledged on it once and reach the service.
func TestSocketModeReconnects(t *testing.T) {
	r := startSocket(t, nil)
	envelope := r.reply("EvA", "first")
	if a := r.waitAck(envelope, ackWithin); a.Conn != 1 {
		t.Errorf("ack on connection %d, want 1", a.Conn)
	}
	if u := r.update(); u.Chat != 9 || u.Event.Kind != flows.ConsultantMessage || u.Event.Text != "first" {
		t.Errorf("update %+v", u)
	}

	asked := time.Now()
	r.srv.Disconnect("refresh_requested")
	conns := r.waitConns(2, reconnectWithin)
	if took := conns[1].Opened.Sub(asked); took > reconnectWithin {
		t.Errorf("reconnected %v after disconnect, want within %v", took, reconnectWithin)
	}
	envelope = r.reply("EvB", "second")
	if a := r.waitAck(envelope, ackWithin); a.Conn != 2 {
		t.Errorf("ack on connection %d, want 2", a.Conn)
	}
	if u := r.update(); u.Event.Text != "second" {
		t.Errorf("update after reconnecting: %+v", u)
	}

	dropped := time.Now()
	r.srv.DropSockets()
	conns = r.waitConns(3, reconnectWithin)
	if took := conns[2].Opened.Sub(dropped); took > reconnectWithin {
		t.Errorf("reconnected %v after the connection dropped, want within %v", took, reconnectWithin)
	}
	id, err := r.srv.SendInteraction(slackfake.BlockAction("UCONS", "CCONS", r.thread, actionClaim, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if a := r.waitAck(id, ackWithin); a.Conn != 3 {
		t.Errorf("ack on connection %d, want 3", a.Conn)
	}
	if u := r.update(); u.Event.Kind != flows.CaseClaimed {
		t.Errorf("claim over the new connection: %+v", u)
	}
	if opened := len(r.srv.Requests("apps.connections.open")); opened != 3 {
		t.Errorf("apps.connections.open called %d times, want 3 (one per connection)", opened)
	}
	counts := map[string]int{}
	for _, a := range r.srv.Acks() {
		counts[a.EnvelopeID]++
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("envelope %s acknowledged %d times", id, n)
		}
	}
}

// blockingHandler holds every update until release is closed, as a
// service waiting on a slow Telegram or Redis would.
type blockingHandler struct {
	entered chan struct{}
	release chan struct{}
}

func (h blockingHandler) Handle(ctx context.Context, _ bot.Update) error {
	h.entered <- struct{}{}
	select {
	case <-h.release:
	case <-time.After(10 * time.Second):
	}
	return nil
}

// TestSocketModeNeverBlocks: while the service takes 10 s for each
// update, three times the client's event buffer (50) of thread replies
// and a Claim click are each acknowledged within 3 s, on the one
// connection: the consumer drains the Events channel and never waits for
// the work, so the socket's reader (and its PING handling) never stalls.
func TestSocketModeNeverBlocks(t *testing.T) {
	h := blockingHandler{entered: make(chan struct{}, 1000), release: make(chan struct{})}
	r := startSocket(t, h)
	t.Cleanup(func() { close(h.release) }) // runs before the rig's cleanup
	const n = 150
	sent := map[string]time.Time{}
	for i := range n {
		sent[r.reply(fmt.Sprintf("Ev%d", i), fmt.Sprintf("reply %d", i))] = time.Now()
	}
	id, err := r.srv.SendInteraction(slackfake.BlockAction("UCONS", "CCONS", r.thread, actionClaim, "x"))
	if err != nil {
		t.Fatal(err)
	}
	sent[id] = time.Now()
	for id, at := range sent {
		if a := r.waitAck(id, ackWithin); a.Time.Sub(at) > ackWithin {
			t.Errorf("envelope %s acknowledged after %v", id, a.Time.Sub(at))
		}
	}
	// The work did start: every envelope reached the (stuck) service.
	for i := range n + 1 {
		select {
		case <-h.entered:
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d envelopes reached the service", i, n+1)
		}
	}
	if conns := r.srv.SocketConns(); len(conns) != 1 {
		t.Errorf("%d connections, want the first one kept: %+v", len(conns), conns)
	}
	if acks := len(r.srv.Acks()); acks != n+1 {
		t.Errorf("%d acknowledgements for %d envelopes", acks, n+1)
	}
}

// TestSocketModeSilentConnection: when Slack stops PINGing (a dead
// network path: the TCP connection stays open, nothing arrives), the
// client gives the connection up and opens a new one within 5 s once
// SilentFor has passed (2 s here; slack-go's 30 s in production).
func TestSocketModeSilentConnection(t *testing.T) {
	r := startSocket(t, nil)
	silenced := time.Now()
	r.srv.StopPings()
	conns := r.waitConns(2, 2*time.Minute)
	if took := conns[1].Opened.Sub(silenced); took > reconnectWithin {
		t.Errorf("reconnected %v after the PINGs stopped, want within %v", took, reconnectWithin)
	}
	envelope := r.reply("EvS", "after the silence")
	r.waitAck(envelope, ackWithin)
	if u := r.update(); u.Event.Text != "after the silence" {
		t.Errorf("update %+v", u)
	}
}

// TestSocketModeRestartsAfterFatalError: slack-go gives up for good when
// apps.connections.open refuses (invalid_auth after a token rotation,
// a 404); the service starts Socket Mode again rather than go deaf.
func TestSocketModeRestartsAfterFatalError(t *testing.T) {
	r := startSocket(t, nil)
	r.srv.Fail("apps.connections.open", slackfake.Failure{Error: "invalid_auth"}, 1)
	r.srv.Disconnect("refresh_requested")
	r.waitConns(2, reconnectWithin)
	envelope := r.reply("EvR", "after the restart")
	if a := r.waitAck(envelope, ackWithin); a.Conn != 2 {
		t.Errorf("ack on connection %d, want 2", a.Conn)
	}
	if u := r.update(); u.Event.Text != "after the restart" {
		t.Errorf("update after the restart: %+v", u)
	}
	if n := len(r.srv.Requests("apps.connections.open")); n < 3 {
		t.Errorf("apps.connections.open called %d times, want the refused one and a retry", n)
	}
}
