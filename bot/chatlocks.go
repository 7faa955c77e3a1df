package bot

import (
	"context"
	"sync"
)

// chatLocks queues a replica's own concurrent updates of one chat before
// they take the chat's Redis lock: they wait their turn here rather than
// retry the lock with backoff (which put hundreds of milliseconds on
// busy chats' replies). The Redis lock still orders replicas.
type chatLocks struct {
	mu sync.Mutex
	m  map[ChatID]*chatLock
}

type chatLock struct {
	turn    chan struct{} // holds a token while an update of the chat runs
	waiters int           // updates holding or waiting; the entry goes at 0
}

func newChatLocks() *chatLocks { return &chatLocks{m: map[ChatID]*chatLock{}} }

// acquire waits for the chat's turn until ctx ends; release gives it up.
func (l *chatLocks) acquire(ctx context.Context, chat ChatID) (release func(), err error) {
	l.mu.Lock()
	c := l.m[chat]
	if c == nil {
		c = &chatLock{turn: make(chan struct{}, 1)}
		l.m[chat] = c
	}
	c.waiters++
	l.mu.Unlock()
	done := func() {
		l.mu.Lock()
		if c.waiters--; c.waiters == 0 {
			delete(l.m, chat)
		}
		l.mu.Unlock()
	}
	select {
	case c.turn <- struct{}{}:
		return func() { <-c.turn; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
