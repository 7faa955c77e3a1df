package slackfake

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clock hands out message timestamps. It is the package's one piece of
// shared state, on purpose: a (channel, ts) pair keys a Slack message, and
// tests mix messages posted to a Server with events built by the package
// functions (and may run several Servers), so every ts in the test binary
// must be unique.
var clock tsClock

// tsClock gives out the current time in microseconds, bumped past the last
// value it gave, so that two messages in the same second (or microsecond)
// still differ and sort in the order they were made.
type tsClock struct {
	mu   sync.Mutex
	last int64 // microseconds since the Unix epoch
}

func (c *tsClock) next() string {
	now := time.Now().UnixMicro()
	c.mu.Lock()
	if now <= c.last {
		now = c.last + 1
	}
	c.last = now
	c.mu.Unlock()
	return fmt.Sprintf("%d.%06d", now/1e6, now%1e6)
}

// NewTS returns a new message timestamp in Slack's format, such as
// "1795444233.000100": Unix seconds, a dot and six digits. Every call (and
// every ts the Server or the builders make) returns a later, unique value.
func NewTS() string { return clock.next() }

// tsSeconds is the whole-second part of ts, as Slack puts in event_time.
func tsSeconds(ts string) int64 {
	sec, _, _ := strings.Cut(ts, ".")
	n, _ := strconv.ParseInt(sec, 10, 64)
	return n
}
