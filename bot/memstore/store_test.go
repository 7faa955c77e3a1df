package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/bot/storetest"
)

var ctx = context.Background()

// clock is a store clock that tests move; it starts at the real time,
// because some contract tests pass real times (Defer reads the clock).
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// inspector reads the store's state for the contract tests, by the Redis
// store's key names; it lives in this test file so that the store has no
// inspection API.
type inspector struct {
	st  *Store
	clk *clock
}

func (in inspector) chat(id bot.ChatID) *chat {
	in.st.mu.Lock()
	defer in.st.mu.Unlock()
	c := in.st.get(id, in.st.clock())
	if c == nil {
		return &chat{}
	}
	cp := *c
	return &cp
}

func (in inspector) ChatKeys(id bot.ChatID) []string {
	c := in.chat(id)
	var keys []string
	for name, there := range map[string]bool{
		"session": c.session != nil, "seen": len(c.seen) > 0, "lock": c.lock != "", "out": c.queued() > 0,
		"audit": len(c.audit) > 0, "blocked": c.blocked, "fails": len(c.fails) > 0, "uncertain": len(c.uncertain) > 0,
	} {
		if there {
			keys = append(keys, name)
		}
	}
	slices.Sort(keys)
	return keys
}

func (in inspector) OutLen(id bot.ChatID) int   { return len(in.chat(id).out) }
func (in inspector) Blocked(id bot.ChatID) bool { return in.chat(id).blocked }
func (in inspector) Failed(id bot.ChatID, upd int64) bool {
	_, ok := in.chat(id).fails[upd]
	return ok
}

func (in inspector) LoseLock(id bot.ChatID) {
	in.st.mu.Lock()
	defer in.st.mu.Unlock()
	if c := in.st.get(id, in.st.clock()); c != nil {
		c.lock, c.lockExp = "", time.Time{}
	}
}

func (in inspector) Advance(d time.Duration) bool { in.clk.Advance(d); return true }

func open(*testing.T) (*Store, *clock) {
	clk := newClock()
	return New(Options{Retention: time.Hour, Clock: clk.Now}), clk
}

// TestContract: the store keeps the contract the Redis store keeps.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		st, clk := open(t)
		return storetest.Backend{Store: st, Inspect: inspector{st, clk}}
	})
}

// TestSeenTTL: handled ids live as long as in the Redis store, so that
// a redelivery is recognised the same way by either.
func TestSeenTTL(t *testing.T) {
	if SeenTTL != redis.SeenTTL {
		t.Fatalf("SeenTTL = %v, the Redis store's is %v", SeenTTL, redis.SeenTTL)
	}
}

// TestSweepFreesMemory: chats that never come back are deleted once
// their data expired, without anyone touching them (as Redis expires
// keys actively), so that memory does not grow with every chat ever seen.
func TestSweepFreesMemory(t *testing.T) {
	st, clk := open(t)
	for chat := range bot.ChatID(50) {
		mustBegin(t, st, chat, 1)
		if err := st.Commit(ctx, chat, "a", bot.Commit{UpdateID: 1, Now: clk.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	st.DeadLetter(ctx, bot.DeadLetter{Chat: 1, UpdateID: 9, At: clk.Now()})
	st.Lead(ctx, "poller", "a", time.Minute)
	st.Reserve(ctx, clk.Now(), 30, 1)
	clk.Advance(SeenTTL + time.Minute)
	st.Ping(ctx)
	if err := st.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	st.Pending(ctx) // any operation sweeps once a minute
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.chats) != 0 || len(st.dead) != 0 || len(st.leaders) != 0 || st.rate != 0 {
		t.Errorf("after every TTL: %d chats, %d dead letters, %d leaders, rate %d left", len(st.chats), len(st.dead), len(st.leaders), st.rate)
	}
}

// TestDeadLetters: parked updates are kept newest first, at most 1000,
// for the retention period, as witaj:dead in Redis.
func TestDeadLetters(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		advance time.Duration
		want    int
		first   int64
	}{
		{"kept newest first", 3, 0, 3, 3},
		{"bounded", 1005, 0, 1000, 1005},
		{"expire", 2, time.Hour, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, clk := open(t)
			for i := 1; i <= tt.n; i++ {
				if err := st.DeadLetter(ctx, bot.DeadLetter{Chat: 1, UpdateID: int64(i), Error: "x", At: clk.Now()}); err != nil {
					t.Fatal(err)
				}
			}
			clk.Advance(tt.advance)
			got, err := st.DeadLetters(ctx)
			if err != nil || len(got) != tt.want || (tt.want > 0 && got[0].UpdateID != tt.first) {
				t.Fatalf("DeadLetters = %d records, %v", len(got), err)
			}
		})
	}
}

// TestConcurrent: many workers and senders on a few chats at once (run
// with -race). Every message committed is sent exactly once and in the
// order committed per chat, which needs Begin's lock, Due's claim and
// settle to be atomic.
func TestConcurrent(t *testing.T) {
	st, clk := open(t)
	// Every worker tries every update, as replicas given the same
	// redeliveries: each update is handled once.
	const chats, updates, workers = 5, 200, 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for u := range updates {
				chat := bot.ChatID(u % chats)
				upd := int64(u)
				token := fmt.Sprintf("w%d-%d", w, u)
				for {
					_, err := st.Begin(ctx, chat, upd, token, time.Minute)
					if err == bot.ErrDuplicate {
						break
					}
					if err == bot.ErrBusy {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					out := []bot.OutMessage{{ID: fmt.Sprintf("%d-0", upd), Text: "x"}}
					if err := st.Commit(ctx, chat, token, bot.Commit{UpdateID: upd, Now: clk.Now(), Out: out}); err != nil {
						t.Error(err)
					}
					break
				}
			}
		})
	}
	// A slice, not a channel: a broken store that sends too much must
	// fail the test, not block the senders.
	var sentMu sync.Mutex
	var sent []string
	sentLen := func() int { sentMu.Lock(); defer sentMu.Unlock(); return len(sent) }
	stop := make(chan struct{})
	var senders sync.WaitGroup
	for range 4 {
		senders.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				due, _, err := st.Due(ctx, clk.Now(), 2, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				for _, chat := range due {
					// As the Sender: keep the claim while more is queued,
					// let the chat go with the last message.
					for {
						m, queued, _, err := st.Next(ctx, chat, clk.Now())
						if err != nil {
							st.Idle(ctx, chat)
							break
						}
						sentMu.Lock()
						sent = append(sent, fmt.Sprintf("%d:%s", chat, m.ID))
						sentMu.Unlock()
						if queued > 1 {
							st.Settle(ctx, chat, m.ID, clk.Now(), 0, false)
							continue
						}
						st.Settle(ctx, chat, m.ID, clk.Now(), 0, true)
						break
					}
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if n, _ := st.Pending(ctx); n == 0 && sentLen() >= updates {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	senders.Wait()
	perChat := map[string][]int{}
	seen := map[string]bool{}
	for _, s := range sent {
		if seen[s] {
			t.Errorf("sent twice: %s", s)
		}
		seen[s] = true
		var chat, upd int
		fmt.Sscanf(s, "%d:%d-0", &chat, &upd)
		perChat[fmt.Sprint(chat)] = append(perChat[fmt.Sprint(chat)], upd)
	}
	if len(seen) != updates {
		t.Errorf("sent %d messages, want %d", len(seen), updates)
	}
	for chat, upds := range perChat {
		if !slices.IsSorted(upds) {
			t.Errorf("chat %s: sent out of order: %v", chat, upds)
		}
	}
}

// TestIsolation: a stored message shares nothing with the caller's.
func TestIsolation(t *testing.T) {
	st, clk := open(t)
	mustBegin(t, st, 1, 1)
	m := bot.OutMessage{ID: "1-0", Text: "x", Buttons: [][]bot.Button{{{Label: "a", Data: "a"}}}}
	if err := st.Commit(ctx, 1, "a", bot.Commit{UpdateID: 1, Now: clk.Now(), Out: []bot.OutMessage{m}}); err != nil {
		t.Fatal(err)
	}
	m.Buttons[0][0].Label = "changed"
	got, _, _, _ := st.Next(ctx, 1, clk.Now())
	got.Buttons[0][0].Data = "changed"
	again, _, _, _ := st.Next(ctx, 1, clk.Now())
	if again.Buttons[0][0] != (bot.Button{Label: "a", Data: "a"}) {
		t.Errorf("stored button = %+v, changed through a caller's copy", again.Buttons[0][0])
	}
}

func mustBegin(t *testing.T, st *Store, chat bot.ChatID, upd int64) {
	t.Helper()
	if _, err := st.Begin(ctx, chat, upd, "a", time.Minute); err != nil {
		t.Fatalf("Begin(%d, %d): %v", chat, upd, err)
	}
}
