package slack

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/witaj/witaj/bot"
)

// Acker acknowledges Socket Mode envelopes (socketmode.Client).
type Acker interface {
	Ack(req socketmode.Request, payload ...any) error
}

// SocketEvent handles one Socket Mode event: it acknowledges at once and
// does the work in the background, so the client's event channel never
// waits (a full channel stalls the socket's reader and its pings).
func (e *Events) SocketEvent(ctx context.Context, ack Acker, evt socketmode.Event) {
	if evt.Request != nil {
		if err := ack.Ack(*evt.Request); err != nil {
			e.log.Warn("slack socket ack", "err", err)
		}
	}
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok {
			return
		}
		e.bg.Go(func() {
			if err := e.OnEvent(context.WithoutCancel(ctx), ev); err != nil {
				e.log.Error("slack event not handled", "err", err)
			}
		})
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			return
		}
		e.bg.Go(func() {
			if err := e.OnInteraction(context.WithoutCancel(ctx), cb); err != nil {
				e.log.Error("slack interaction not handled", "err", err)
			}
		})
	}
}

// RunSocketMode connects with the app-level token and handles events
// until ctx ends. slack-go reconnects after a disconnect or a silent
// connection; after an error it gives up on (invalid_auth, a 404 …),
// this starts it again, with backoff, logging once per outage.
func (e *Events) RunSocketMode(ctx context.Context, api *slack.Client, log *slog.Logger) {
	down := bot.NewOutage("Slack (Socket Mode)", log)
	for ctx.Err() == nil {
		err := e.runSocket(ctx, api, down.OK)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("socket mode ended")
		}
		wait := down.Fail(err)
		if e.Restart > 0 {
			wait = e.Restart
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// runSocket runs one Socket Mode client until it stops; connected hears
// of each connection made.
func (e *Events) runSocket(ctx context.Context, api *slack.Client, connected func()) error {
	var opts []socketmode.Option
	if e.SilentFor > 0 {
		opts = append(opts, socketmode.OptionPingInterval(e.SilentFor))
	}
	client := socketmode.New(api, opts...)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-cctx.Done():
				return
			case evt, ok := <-client.Events:
				if !ok {
					return
				}
				if evt.Type == socketmode.EventTypeConnected {
					connected()
				}
				e.SocketEvent(ctx, client, evt)
			}
		}
	}()
	err := client.RunContext(cctx)
	cancel()
	<-done
	return err
}
