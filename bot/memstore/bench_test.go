package memstore

import (
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/redis"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// BenchmarkCycle is one answered update as the service and the sender
// see it — Begin, Commit of one message, Due, Next, Finish — on this
// store and on the Redis store over miniredis (what `serve` embeds
// today without WITAJ_REDIS_URL).
func BenchmarkCycle(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) bot.Store
	}{
		{"memstore", func(*testing.B) bot.Store { return New(Options{Retention: time.Hour}) }},
		{"miniredis", func(b *testing.B) bot.Store {
			m := miniredis.RunT(b)
			c := goredis.NewClient(&goredis.Options{Addr: m.Addr()})
			b.Cleanup(func() { c.Close() })
			return redis.New(c, redis.Options{Retention: time.Hour})
		}},
	}
	sess := flows.Session{Schema: flows.SchemaVersion, Lang: knowledge.UK, LangConfirmed: true}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b)
			now := time.Now()
			b.ReportAllocs()
			var upd int64
			for b.Loop() {
				upd++
				// A few chats, so that the schedule and the maps hold more
				// than one entry.
				chat := bot.ChatID(upd % 16)
				if _, err := st.Begin(ctx, chat, upd, "t", time.Minute); err != nil {
					b.Fatal(err)
				}
				out := []bot.OutMessage{{ID: "m", Text: "answer"}}
				if err := st.Commit(ctx, chat, "t", bot.Commit{UpdateID: upd, Session: sess, Now: now, Out: out}); err != nil {
					b.Fatal(err)
				}
				chats, _, err := st.Due(ctx, now, 1, time.Minute)
				if err != nil || len(chats) != 1 {
					b.Fatalf("Due = %v, %v", chats, err)
				}
				m, _, _, err := st.Next(ctx, chats[0], now)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := st.Settle(ctx, chats[0], m.ID, now, 0, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
