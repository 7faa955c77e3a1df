package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/witaj/witaj/bot/slack/slackfake"
	"github.com/witaj/witaj/bot/telegram/telegramtest"
)

// slackAckWithin is how long Slack waits for an acknowledgement (an HTTP
// 2xx or a Socket Mode ack) before it gives up and redelivers.
const slackAckWithin = 3 * time.Second

// openCase takes the migrant from /start to a case in Slack and returns
// the case's parent message.
func (d *desk) openCase() slackfake.Post {
	d.t.Helper()
	d.say(telegramtest.Command(d.user, "start", d.user.LanguageCode), 1)
	d.say(telegramtest.Command(d.user, "human", ""), 1)
	d.say(telegramtest.Callback(d.user, "c", "consent:yes", 1), 2)
	return d.posts(1)[0]
}

// slowTelegram makes every Telegram call that sends, edits, deletes or
// answers a button take 10 s, until the test ends.
func (d *desk) slowTelegram() {
	for _, m := range []string{"sendMessage", "editMessageText", "deleteMessage", "answerCallbackQuery"} {
		d.tg.Fail(m, 0, telegramtest.Slow(10*time.Second), 0)
	}
	// Before witaj stops: its shutdown flush then finds Telegram fast.
	d.t.Cleanup(d.tg.ClearFailures)
}

// outbox returns the migrant's messages stored and not yet delivered to
// Telegram, as stored.
func (d *desk) outbox() string {
	raw, err := d.rdb.LRange(context.Background(), fmt.Sprintf("witaj:{chat:%d}:out", d.chat), 0, -1).Result()
	if err != nil {
		d.t.Fatal(err)
	}
	return strings.Join(raw, "\n")
}

// waitOutbox waits until a message with text is stored for the migrant.
func (d *desk) waitOutbox(text string) {
	d.t.Helper()
	ctx := d.ctx()
	for !strings.Contains(d.outbox(), text) {
		if ctx.Err() != nil {
			d.t.Fatalf("no message with %q stored for the migrant; outbox:\n%s", text, d.outbox())
		}
		time.Sleep(10 * time.Millisecond) // Redis has no event to wait on
	}
}

// waitThread waits until the case thread holds a message with text.
func (d *desk) waitThread(parentTS, text string) {
	d.t.Helper()
	err := d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool { return strings.Contains(threadTexts(s, parentTS), text) })
	if err != nil {
		d.t.Fatalf("no %q in the case thread: %v\n%s", text, err, threadTexts(d.slack, parentTS))
	}
}

// TestSlackAckedWhileTelegramSlow: while every Telegram call takes 10 s,
// each consultant action over HTTP — Claim, a thread reply, an FAQ choice,
// Resolve — is answered 200 within 3 s, and each was handled (not just
// acknowledged): the thread shows the claim, the FAQ and the resolution,
// and the reply waits in the migrant's outbox.
func TestSlackAckedWhileTelegramSlow(t *testing.T) {
	d := startDesk(t, "en", 709)
	parent := d.openCase()
	d.slowTelegram()
	actions := []struct {
		name string
		send func() int
	}{
		{"Claim", func() int {
			return d.click(slackfake.BlockAction("UCONS1", consultants, parent.TS, "witaj_claim", "x"))
		}},
		{"thread reply", func() int {
			return d.event(slackfake.MessageEvent("EvSlow", consultants, "UCONS1", "reply while Telegram is slow", parent.TS))
		}},
		{"FAQ choice", func() int {
			return d.click(slackfake.SelectAction("UCONS2", consultants, parent.TS, "witaj_faq", "legal.pesel"))
		}},
		{"Resolve", func() int {
			return d.click(slackfake.BlockAction("UCONS1", consultants, parent.TS, "witaj_resolve", "x"))
		}},
	}
	for _, a := range actions {
		start := time.Now()
		code := a.send()
		if took := time.Since(start); took > slackAckWithin {
			t.Errorf("%s answered after %v; Slack gives up after %v", a.name, took, slackAckWithin)
		}
		if code != http.StatusOK {
			t.Errorf("%s: %d, want 200", a.name, code)
		}
	}
	// Stored before the 200, and stuck behind the first slow send.
	if !strings.Contains(d.outbox(), "reply while Telegram is slow") {
		t.Errorf("the consultant's reply is not stored for the migrant:\n%s", d.outbox())
	}
	d.waitThread(parent.TS, "took this case")
	d.waitThread(parent.TS, "legal.pesel@")
	d.waitThread(parent.TS, "resolved this case")
}

// socketAck waits for the acknowledgement of envelope id and returns how
// long after sent it came.
func (d *desk) socketAck(id string, sent time.Time) slackfake.Ack {
	d.t.Helper()
	var a slackfake.Ack
	err := d.slack.WaitFor(d.ctx(), func(s *slackfake.Server) bool {
		var ok bool
		a, ok = s.AckOf(id)
		return ok
	})
	if err != nil {
		d.t.Fatalf("envelope %s never acknowledged: %v", id, err)
	}
	if took := a.Time.Sub(sent); took > slackAckWithin {
		d.t.Errorf("envelope %s acknowledged after %v; Slack redelivers after %v", id, took, slackAckWithin)
	}
	return a
}

// waitSockets waits until n Socket Mode connections were opened.
func (d *desk) waitSockets(n int, within time.Duration) []slackfake.SocketConn {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := d.slack.WaitFor(ctx, func(s *slackfake.Server) bool { return len(s.SocketConns()) >= n }); err != nil {
		d.t.Fatalf("waiting %v for Socket Mode connection %d: %v (%+v)", within, n, err, d.slack.SocketConns())
	}
	return d.slack.SocketConns()
}

// TestSlackSocketAckedWhileTelegramSlow: witaj serve in Socket Mode, with
// every Telegram call taking 10 s, acknowledges a Claim and a thread reply
// within 3 s and handles both; when Slack sends "disconnect" it is
// connected again within 5 s and handles a reply sent on the new
// connection.
func TestSlackSocketAckedWhileTelegramSlow(t *testing.T) {
	d := startDeskEnv(t, "en", 710, map[string]string{"WITAJ_SLACK_APP_TOKEN": "xapp-test"})
	d.waitSockets(1, 10*time.Second)
	parent := d.openCase()
	d.slowTelegram()

	sent := time.Now()
	id, err := d.slack.SendInteraction(slackfake.BlockAction("UCONS1", consultants, parent.TS, "witaj_claim", "x"))
	if err != nil {
		t.Fatal(err)
	}
	d.socketAck(id, sent)
	sent = time.Now()
	id, err = d.slack.SendEvent(slackfake.MessageEvent("EvSock1", consultants, "UCONS1", "reply over the socket", parent.TS))
	if err != nil {
		t.Fatal(err)
	}
	d.socketAck(id, sent)
	d.waitThread(parent.TS, "took this case")
	d.waitOutbox("reply over the socket")

	asked := time.Now()
	d.slack.Disconnect("refresh_requested")
	conns := d.waitSockets(2, 5*time.Second)
	t.Logf("reconnected %v after disconnect", conns[1].Opened.Sub(asked))
	sent = time.Now()
	id, err = d.slack.SendEvent(slackfake.MessageEvent("EvSock2", consultants, "UCONS1", "reply after reconnecting", parent.TS))
	if err != nil {
		t.Fatal(err)
	}
	if a := d.socketAck(id, sent); a.Conn != 2 {
		t.Errorf("acknowledged on connection %d, want the new one (2)", a.Conn)
	}
	d.waitOutbox("reply after reconnecting")
}
