package bot

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/witaj/witaj/flows"
)

// chatLocks queues a replica's own concurrent updates of one chat before
// they take the chat's Redis lock: they wait their turn here, first come
// first served, rather than retry the lock with backoff (which put
// hundreds of milliseconds on busy chats' replies). The Redis lock still
// orders replicas.
//
// An update whose chat has another update waiting here may keep the
// Redis lock for it (keep): the next update then goes on with the
// session just stored, without asking Redis for the lock and the
// session again.
type chatLocks struct {
	mu sync.Mutex
	m  map[ChatID]*chatQueue
	// free releases a Redis lock kept for an update that then did not
	// take its turn (it gave up waiting).
	free func(chat ChatID, token string)
}

type chatQueue struct {
	waiting []*waiter // in order of arrival; the head is next
	kept    *keptLock
}

// waiter is an update waiting for its chat's turn.
type waiter struct {
	update int64
	ready  chan struct{} // closed when the turn is the waiter's
}

// keptLock is a chat's Redis lock, kept by the last commit for the
// update that waited next, with what that commit stored.
type keptLock struct {
	token   string
	session flows.Session
	until   time.Time // the lock's lease ends
	// update is the update it was kept for, and dup whether that one was
	// handled before (the commit looked).
	update int64
	dup    bool
}

// turn is an update's turn at its chat.
type turn struct {
	l    *chatLocks
	chat ChatID
	q    *chatQueue
}

func newChatLocks(free func(ChatID, string)) *chatLocks {
	return &chatLocks{m: map[ChatID]*chatQueue{}, free: free}
}

// acquire waits for the chat's turn until ctx ends.
func (l *chatLocks) acquire(ctx context.Context, chat ChatID, update int64) (*turn, error) {
	l.mu.Lock()
	q := l.m[chat]
	if q == nil {
		q = &chatQueue{}
		l.m[chat] = q
		l.mu.Unlock()
		return &turn{l: l, chat: chat, q: q}, nil
	}
	w := &waiter{update: update, ready: make(chan struct{})}
	q.waiting = append(q.waiting, w)
	l.mu.Unlock()
	t := &turn{l: l, chat: chat, q: q}
	select {
	case <-w.ready:
		return t, nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	select {
	case <-w.ready:
		// The turn came as the wait ended: pass it on.
		l.mu.Unlock()
		t.release()
		return nil, ctx.Err()
	default:
	}
	if i := slices.Index(q.waiting, w); i >= 0 {
		q.waiting = slices.Delete(q.waiting, i, i+1)
	}
	l.mu.Unlock()
	return nil, ctx.Err()
}

// next returns the update waiting next, if any.
func (t *turn) next() (int64, bool) {
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	if len(t.q.waiting) == 0 {
		return 0, false
	}
	return t.q.waiting[0].update, true
}

// keep leaves the chat's Redis lock to the next update.
func (t *turn) keep(k *keptLock) {
	t.l.mu.Lock()
	t.q.kept = k
	t.l.mu.Unlock()
}

// take returns the Redis lock kept for this turn, if any: the caller now
// holds it.
func (t *turn) take() *keptLock {
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	k := t.q.kept
	t.q.kept = nil
	return k
}

// release ends the turn: the next waiting update has it, else the chat
// leaves the queue, and a Redis lock kept for no one is freed.
func (t *turn) release() {
	l := t.l
	l.mu.Lock()
	if len(t.q.waiting) > 0 {
		w := t.q.waiting[0]
		t.q.waiting = t.q.waiting[1:]
		close(w.ready)
		l.mu.Unlock()
		return
	}
	kept := t.q.kept
	t.q.kept = nil
	delete(l.m, t.chat)
	l.mu.Unlock()
	if kept != nil && l.free != nil {
		l.free(t.chat, kept.token)
	}
}
