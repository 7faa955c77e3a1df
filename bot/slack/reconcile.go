package slack

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"
)

// reconcileWindow is how far back reconciliation looks in a thread. Slack
// retries an event for a few minutes, and may drop events altogether
// (it chose not to replay a backlog in its February 2025 incident); an
// hour covers both, well within the 25 hours a handled update is
// remembered.
const reconcileWindow = time.Hour

// Reconcile reads the recent replies of every active case's thread and
// relays consultants' messages that never arrived as events. Messages
// already relayed are recognised by their update id and skipped.
func (e *Events) Reconcile(ctx context.Context) error {
	if e.members == nil {
		return nil
	}
	chats, err := e.cases.ActiveCases(ctx)
	if err != nil {
		return err
	}
	oldest := fmt.Sprintf("%d.000000", time.Now().Add(-reconcileWindow).Unix())
	for _, chat := range chats {
		c, err := e.cases.CaseOf(ctx, chat)
		if err != nil || c.ThreadTS == "" || !c.Open() {
			continue
		}
		msgs, _, _, err := e.members.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: c.Channel, Timestamp: c.ThreadTS, Oldest: oldest, Limit: 200})
		if err != nil {
			return fmt.Errorf("read thread of case %s: %w", c.ID, err)
		}
		for _, m := range msgs {
			if m.SubType != "" || m.BotID != "" || m.User == "" || m.User == e.botUser || m.Timestamp == c.ThreadTS || m.Text == "" {
				continue
			}
			if !e.isConsultant(ctx, m.User, c.Channel) {
				continue
			}
			if err := e.relay(ctx, chat, c.Channel, m.Timestamp, m.Text); err != nil {
				return err
			}
		}
	}
	return nil
}

// RunReconcile reconciles every interval until ctx ends.
func (e *Events) RunReconcile(ctx context.Context, every time.Duration) {
	periodically(ctx, every, e.log, "slack reconciliation", e.Reconcile)
}
