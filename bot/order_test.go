package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
)

// Checklist item 5: when three messages from one chat arrive back to
// back, they are processed and relayed in update_id order, while a slow
// handler for chat A does not delay chat B by more than 1 s.

// fakeConsultants is the consultants' side: it opens a case at once (or
// when told to, for a chat whose Open hangs) and records what is
// relayed, in the order the service relays it.
type fakeConsultants struct {
	mu      sync.Mutex
	hang    map[bot.ChatID]chan struct{} // Open for the chat blocks until closed
	opening chan bot.ChatID              // told when Open starts, if set
	relays  map[bot.ChatID][]string
}

func (f *fakeConsultants) Open(ctx context.Context, chat bot.ChatID, _ flows.Escalate) (bot.Opened, error) {
	f.mu.Lock()
	hang, opening := f.hang[chat], f.opening
	f.mu.Unlock()
	if opening != nil {
		opening <- chat
	}
	if hang != nil {
		select {
		case <-hang:
		case <-ctx.Done():
			return bot.Opened{}, ctx.Err()
		}
	}
	return bot.Opened{CaseID: fmt.Sprintf("case-%d", chat)}, nil
}

func (f *fakeConsultants) Relay(_ context.Context, chat bot.ChatID, _ string, r flows.Relay) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.relays == nil {
		f.relays = map[bot.ChatID][]string{}
	}
	f.relays[chat] = append(f.relays[chat], r.Text)
	return false, nil
}

func (f *fakeConsultants) relayed(chat bot.ChatID) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.relays[chat]...)
}

func (f *fakeConsultants) Close(context.Context, bot.ChatID, flows.CloseCase) error { return nil }
func (f *fakeConsultants) Rate(context.Context, bot.ChatID, flows.Rate) error       { return nil }
func (f *fakeConsultants) Forget(context.Context, bot.ChatID) error                 { return nil }

// commitLog records, for each chat, the updates whose outcome was stored
// and the messages each queued, in the order of the commits.
type commitLog struct {
	bot.Store
	mu      sync.Mutex
	updates map[bot.ChatID][]int64
	out     map[bot.ChatID][]string // message ids
}

func (s *commitLog) Commit(ctx context.Context, chat bot.ChatID, token string, c bot.Commit) error {
	// Logged before Handle returns, while the service still holds the
	// chat's turn: the log's order is the order of the commits.
	err := s.Store.Commit(ctx, chat, token, c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.updates == nil {
		s.updates, s.out = map[bot.ChatID][]int64{}, map[bot.ChatID][]string{}
	}
	s.updates[chat] = append(s.updates[chat], c.UpdateID)
	for _, m := range c.Out {
		s.out[chat] = append(s.out[chat], m.ID)
	}
	return nil
}

func (s *commitLog) log(chat bot.ChatID) (updates []int64, out []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.updates[chat]...), append([]string(nil), s.out[chat]...)
}

// TestBackToBackInOrder: three messages of a chat with an open case,
// arriving back to back, are processed, relayed to the consultant and
// answered in update_id order, while the sender runs and is woken by
// every commit. They arrive one after another, or at once from three
// goroutines while the chat is busy opening its case (a slow Slack): the
// service lets a chat's updates through one at a time in the order they
// reached it (chatLocks), so the later ones must not overtake.
func TestBackToBackInOrder(t *testing.T) {
	const chat = bot.ChatID(70)
	setup := []bot.Update{command(1, chat, "start", "en"), command(2, chat, "human", ""), press(3, chat, "consent:yes")}
	burst := []bot.Update{text(4, chat, "pesel"), text(5, chat, "minimum wage"), text(6, chat, "residence card")}
	// While the case waits for a consultant, the bot still answers what it
	// is sure of: each message gets an answer, so that the order of the
	// answers shows.
	answers := []string{"PESEL", "Minimum wage", "Residence card"}
	tests := []struct {
		name   string
		handle func(t *testing.T, svc *bot.Service, cons *fakeConsultants, setup, burst []bot.Update)
	}{
		{"one after another", handleInTurn},
		{"concurrently", handleWhileBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, h *harness) {
				cons := &fakeConsultants{}
				store := &commitLog{Store: h.st()}
				sender := h.sender(fastSend())
				svc := bot.NewService(store, h.migrants, cons, h.faq, bot.DefaultConfig(), h.log, nil, sender.Wake())
				h.runSender(t, sender)
				tt.handle(t, svc, cons, setup, burst)

				updates, out := store.log(chat)
				if diff := cmp.Diff([]int64{1, 2, 3, 4, 5, 6}, updates); diff != "" {
					t.Errorf("updates processed out of order (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"pesel", "minimum wage", "residence card"}, cons.relayed(chat)); diff != "" {
					t.Errorf("relays out of order (-want +got):\n%s", diff)
				}
				sent := h.migrants.waitSent(t, chat, len(out), 5*time.Second)
				var ids []string
				for _, m := range sent {
					ids = append(ids, m.ID)
				}
				if diff := cmp.Diff(out, ids); diff != "" {
					t.Errorf("messages not sent in the order stored (-stored +sent):\n%s", diff)
				}
				for i, u := range burst {
					if m, ok := firstOf(sent, u.ID); !ok || !strings.Contains(m.Text, answers[i]) {
						t.Errorf("update %d (%q): first reply %.60q, want the answer %q", u.ID, u.Event.Text, m.Text, answers[i])
					}
				}
			})
		})
	}
}

// handleInTurn handles setup, then burst, each update once the one
// before is stored.
func handleInTurn(t *testing.T, svc *bot.Service, _ *fakeConsultants, setup, burst []bot.Update) {
	t.Helper()
	for _, u := range append(slices.Clip(setup), burst...) {
		if err := svc.Handle(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
}

// handleWhileBusy handles setup, whose last update opens a case, and
// while Open hangs, starts each update of burst on its own goroutine in
// their order, each once the one before waits for the chat's turn: they
// queue behind the case's opening, in a known order of arrival. Then it
// lets Open return and waits for all.
func handleWhileBusy(t *testing.T, svc *bot.Service, cons *fakeConsultants, setup, burst []bot.Update) {
	t.Helper()
	last := setup[len(setup)-1]
	for _, u := range setup[:len(setup)-1] {
		if err := svc.Handle(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	release := make(chan struct{})
	cons.mu.Lock()
	cons.hang = map[bot.ChatID]chan struct{}{last.Chat: release}
	cons.opening = make(chan bot.ChatID, 1)
	cons.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)
	for i, u := range append([]bot.Update{last}, burst...) {
		wg.Go(func() {
			if err := svc.Handle(ctx, u); err != nil {
				t.Errorf("update %d: %v", u.ID, err)
			}
		})
		if i == 0 {
			<-cons.opening // the chat is busy
			continue
		}
		for deadline := time.Now().Add(5 * time.Second); svc.ChatTurns(u.Chat) < i+1; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("update %d did not reach the chat's queue", u.ID)
			}
		}
	}
}

// firstOf returns the first message sent for update id.
func firstOf(sent []sentMsg, id int64) (sentMsg, bool) {
	for _, m := range sent {
		if strings.HasPrefix(m.ID, fmt.Sprintf("%d-", id)) {
			return m, true
		}
	}
	return sentMsg{}, false
}

// TestSlowChatDoesNotDelayOthers: while one chat is slow — its send hangs,
// or its handler does (Slack takes its time to open the case) — other
// chats' updates are handled and their replies go out at once.
func TestSlowChatDoesNotDelayOthers(t *testing.T) {
	const slow = bot.ChatID(60)
	tests := []struct {
		name string
		// hold makes chat slow until release is closed, and returns once it is.
		hold func(t *testing.T, h *harness, svc *bot.Service, cons *fakeConsultants, release chan struct{})
	}{
		{"send hangs", func(t *testing.T, h *harness, svc *bot.Service, _ *fakeConsultants, release chan struct{}) {
			h.migrants.mu.Lock()
			h.migrants.hang = map[bot.ChatID]chan struct{}{slow: release}
			h.migrants.mu.Unlock()
			if err := svc.Handle(ctx, command(1, slow, "start", "en")); err != nil {
				t.Fatal(err)
			}
			// Wait until the send to the chat is under way and hangs.
			for deadline := time.Now().Add(5 * time.Second); h.migrants.callsTo(slow) == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no send to the slow chat started")
				}
			}
		}},
		{"handler hangs", func(t *testing.T, h *harness, svc *bot.Service, cons *fakeConsultants, release chan struct{}) {
			for _, u := range []bot.Update{command(1, slow, "start", "en"), command(2, slow, "human", "")} {
				if err := svc.Handle(ctx, u); err != nil {
					t.Fatal(err)
				}
			}
			cons.mu.Lock()
			cons.hang = map[bot.ChatID]chan struct{}{slow: release}
			cons.opening = make(chan bot.ChatID, 1)
			cons.mu.Unlock()
			done := make(chan struct{})
			go func() {
				defer close(done)
				if err := svc.Handle(ctx, press(3, slow, "consent:yes")); err != nil {
					t.Errorf("the slow update: %v", err)
				}
			}()
			t.Cleanup(func() { <-done })
			<-cons.opening // the handler waits for Slack
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, h *harness) {
				cons := &fakeConsultants{}
				sender := h.sender(fastSend())
				svc := bot.NewService(h.st(), h.migrants, cons, h.faq, bot.DefaultConfig(), h.log, nil, sender.Wake())
				h.runSender(t, sender)
				release := make(chan struct{})
				defer close(release) // before the cleanups, which wait for the slow chat

				tt.hold(t, h, svc, cons, release)
				start := time.Now()
				for i := range 5 {
					chat := bot.ChatID(61 + i)
					if err := svc.Handle(ctx, command(int64(i+10), chat, "start", "en")); err != nil {
						t.Fatal(err)
					}
					h.migrants.waitSent(t, chat, 1, 5*time.Second)
				}
				if took := time.Since(start); took > time.Second {
					t.Errorf("other chats waited %v behind a slow chat", took)
				}
			})
		})
	}
}

// callsTo is how many sends to chat were started.
func (f *fakeMigrants) callsTo(chat bot.ChatID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[chat]
}
