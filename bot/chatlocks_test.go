package bot

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestChatLocksFirstComeFirstServed: updates of one chat get their turn
// in the order they arrived, and the holder sees who is next.
func TestChatLocksFirstComeFirstServed(t *testing.T) {
	l := newChatLocks(nil)
	first, err := l.acquire(context.Background(), 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		order []int64
		wg    sync.WaitGroup
	)
	for _, u := range []int64{101, 102, 103} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			turn, err := l.acquire(context.Background(), 1, u)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, u)
			mu.Unlock()
			turn.release()
		}()
		waitWaiting(t, l, 1, int(u-100)) // arrive in this order
	}
	if next, ok := first.next(); !ok || next != 101 {
		t.Fatalf("next = %d, %v; want 101", next, ok)
	}
	first.release()
	wg.Wait()
	if len(order) != 3 || order[0] != 101 || order[1] != 102 || order[2] != 103 {
		t.Fatalf("turns in order %v, want [101 102 103]", order)
	}
	if len(l.m) != 0 {
		t.Fatalf("%d chats left in the queue", len(l.m))
	}
}

// TestChatLocksFreeAKeptLockNoOneTakes: a Redis lock kept for an update
// that then gives up waiting is freed when the turn ends, and one kept
// for an update that takes its turn is that update's.
func TestChatLocksFreeAKeptLockNoOneTakes(t *testing.T) {
	var freed []string
	l := newChatLocks(func(_ ChatID, token string) { freed = append(freed, token) })
	holder, _ := l.acquire(context.Background(), 1, 100)
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error)
	go func() {
		_, err := l.acquire(ctx, 1, 101)
		gaveUp <- err
	}()
	waitWaiting(t, l, 1, 1)
	holder.keep(&keptLock{token: "t1", update: 101})
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("acquire returned without error after its context ended")
	}
	holder.release()
	if len(freed) != 1 || freed[0] != "t1" {
		t.Fatalf("freed %v, want the kept lock t1", freed)
	}

	holder, _ = l.acquire(context.Background(), 1, 200)
	next := make(chan *turn)
	go func() {
		turn, _ := l.acquire(context.Background(), 1, 201)
		next <- turn
	}()
	waitWaiting(t, l, 1, 1)
	holder.keep(&keptLock{token: "t2", update: 201})
	holder.release()
	turn := <-next
	if k := turn.take(); k == nil || k.token != "t2" {
		t.Fatalf("the next update took %+v, want the kept lock t2", k)
	}
	turn.release()
	if len(freed) != 1 {
		t.Fatalf("a lock taken by its update was freed too: %v", freed)
	}
}

// waitWaiting waits until n updates wait for chat's turn.
func waitWaiting(t *testing.T, l *chatLocks, chat ChatID, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		l.mu.Lock()
		q := l.m[chat]
		got := 0
		if q != nil {
			got = len(q.waiting)
		}
		l.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d updates waiting, want %d", got, n)
		}
	}
}
