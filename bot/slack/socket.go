package slack

import (
	"context"
	"log/slog"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
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
// until ctx ends, reconnecting as slack-go does.
func (e *Events) RunSocketMode(ctx context.Context, api *slack.Client, log *slog.Logger) {
	client := socketmode.New(api)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt, ok := <-client.Events:
				if !ok {
					return
				}
				e.SocketEvent(ctx, client, evt)
			}
		}
	}()
	if err := client.RunContext(ctx); err != nil && ctx.Err() == nil {
		log.Error("slack socket mode stopped", "err", err)
	}
}
