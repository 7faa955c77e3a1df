package memstore

import (
	"container/heap"
	"strconv"

	"github.com/witaj/witaj/bot"
)

// schedule is the send schedule (Redis: the sendq sorted set): each chat
// with messages to send, by the time (ms) it is due. It is ordered as a
// Redis sorted set is — by score, then by member bytes — so that Due
// hands out chats in the same order as the Redis store. A min-heap with
// an index keeps claiming O(log n) per chat with many chats scheduled.
type schedule struct {
	items []*entry
	index map[bot.ChatID]*entry
}

type entry struct {
	chat   bot.ChatID
	member string // the chat id in decimal, as Redis orders it
	score  int64
	pos    int
}

func newSchedule() *schedule { return &schedule{index: map[bot.ChatID]*entry{}} }

// heap.Interface, on the items.
type byDue schedule

func (h *byDue) Len() int { return len(h.items) }
func (h *byDue) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.score != b.score {
		return a.score < b.score
	}
	return a.member < b.member
}
func (h *byDue) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].pos, h.items[j].pos = i, j
}
func (h *byDue) Push(x any) {
	e := x.(*entry)
	e.pos = len(h.items)
	h.items = append(h.items, e)
}
func (h *byDue) Pop() any {
	n := len(h.items) - 1
	e := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	return e
}

func (s *schedule) h() *byDue { return (*byDue)(s) }

func (s *schedule) len() int { return len(s.items) }

func (s *schedule) has(chat bot.ChatID) bool { _, ok := s.index[chat]; return ok }

// score returns the chat's due time (ms) and whether it is scheduled.
func (s *schedule) score(chat bot.ChatID) (int64, bool) {
	e, ok := s.index[chat]
	if !ok {
		return 0, false
	}
	return e.score, true
}

// add is ZADD: the chat due at score, scheduled or not.
func (s *schedule) add(chat bot.ChatID, score int64) {
	if e, ok := s.index[chat]; ok {
		e.score = score
		heap.Fix(s.h(), e.pos)
		return
	}
	e := &entry{chat: chat, member: strconv.FormatInt(int64(chat), 10), score: score}
	s.index[chat] = e
	heap.Push(s.h(), e)
}

// addNX is ZADD NX: only a chat not scheduled yet is added; an entry
// already there is due already, claimed, or deferred on purpose.
func (s *schedule) addNX(chat bot.ChatID, score int64) {
	if !s.has(chat) {
		s.add(chat, score)
	}
}

// addXX is ZADD XX: only a chat scheduled already moves; a chat that
// left the schedule (its outbox emptied) is not put back.
func (s *schedule) addXX(chat bot.ChatID, score int64) {
	if s.has(chat) {
		s.add(chat, score)
	}
}

// remove is ZREM.
func (s *schedule) remove(chat bot.ChatID) {
	e, ok := s.index[chat]
	if !ok {
		return
	}
	heap.Remove(s.h(), e.pos)
	delete(s.index, chat)
}

// claim is the Due script: up to max chats due at now (all of them when
// max < 0, as LIMIT 0 -1), in schedule order, each moved to till.
func (s *schedule) claim(now, till int64, max int) []bot.ChatID {
	var out []bot.ChatID
	var taken []*entry
	for len(s.items) > 0 && (max < 0 || len(taken) < max) && s.items[0].score <= now {
		taken = append(taken, heap.Pop(s.h()).(*entry))
	}
	for _, e := range taken {
		out = append(out, e.chat)
		e.score = till
		heap.Push(s.h(), e)
	}
	return out
}

// first returns the earliest due time, if any chat is scheduled.
func (s *schedule) first() (int64, bool) {
	if len(s.items) == 0 {
		return 0, false
	}
	return s.items[0].score, true
}
