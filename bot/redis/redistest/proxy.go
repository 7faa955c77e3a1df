package redistest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy in front of a Redis server that injects faults:
// it can pause all traffic, delay replies, and lose the next reply (the
// server runs the command, the client sees its connection reset), the
// faults a network and a busy server cause in production.
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener

	mu       sync.Mutex
	paused   bool
	resume   chan struct{}
	delay    time.Duration
	loseNext int // replies still to lose
	lost     int
	conns    map[net.Conn]struct{}
	// loseAfter: the reply to a command containing these bytes is lost,
	// loseAfterN more times.
	loseAfter  []byte
	loseAfterN int
	// dropMatch: a request containing these bytes is not forwarded, and
	// its connection is reset, dropN more times.
	dropMatch []byte
	dropN     int
}

// link is one client connection and its server connection.
type link struct {
	mu    sync.Mutex
	armed int // replies of this link to lose
}

// NewProxy starts a proxy to target on a free loopback port, closed when
// the test ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, resume: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	go p.accept()
	tb.Cleanup(p.Close)
	return p
}

// Close stops the proxy and drops every connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// LoseReplies makes the proxy lose the next n replies from the server:
// the command has run, and the client's connection is reset instead of
// answered.
func (p *Proxy) LoseReplies(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loseNext = n
}

// LoseReplyTo makes the proxy lose the reply to the next n commands
// whose request contains match (a script's SHA1, a key name): the server
// runs the command, and the client's connection is reset instead of
// answered.
func (p *Proxy) LoseReplyTo(match []byte, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loseAfter, p.loseAfterN = append([]byte(nil), match...), n
}

// DropRequestTo makes the proxy drop the next n requests containing
// match: the server never sees them, and the client's connection is
// reset.
func (p *Proxy) DropRequestTo(match []byte, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropMatch, p.dropN = append([]byte(nil), match...), n
}

// Lost returns how many replies the proxy has lost.
func (p *Proxy) Lost() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost
}

// Delay holds every reply for d (0 to stop).
func (p *Proxy) Delay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// Pause stops all traffic until Resume: Redis is unreachable, though its
// connections stay open.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		p.paused = true
		p.resume = make(chan struct{})
	}
}

// Resume lets traffic through again.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		p.paused = false
		close(p.resume)
	}
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		l := &link{}
		go p.pipe(s, c, l, false)
		go p.pipe(c, s, l, true)
	}
}

// gate waits while the proxy is paused and returns the reply delay.
func (p *Proxy) gate() time.Duration {
	p.mu.Lock()
	paused, resume, delay := p.paused, p.resume, p.delay
	p.mu.Unlock()
	if paused {
		<-resume
	}
	return delay
}

// pipe copies from src to dst; replies (server to client) may be
// delayed or lost.
func (p *Proxy) pipe(dst, src net.Conn, l *link, reply bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			delay := p.gate()
			if !reply && p.drops(buf[:n]) {
				if tc, ok := src.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				return
			}
			if !reply && p.matches(buf[:n]) {
				l.mu.Lock()
				l.armed++
				l.mu.Unlock()
			}
			if reply {
				if delay > 0 {
					time.Sleep(delay)
				}
				l.mu.Lock()
				armed := l.armed > 0
				if armed {
					l.armed--
				}
				l.mu.Unlock()
				if armed {
					p.mu.Lock()
					p.lost++
					p.mu.Unlock()
				}
				if armed || p.takeLoss() {
					// The server has answered; the client never hears it.
					if tc, ok := dst.(*net.TCPConn); ok {
						_ = tc.SetLinger(0) // a reset, as a failing network gives
					}
					return
				}
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			return
		}
	}
}

// drops reports a request that a DropRequestTo rule picks out.
func (p *Proxy) drops(req []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropN == 0 || !bytes.Contains(req, p.dropMatch) {
		return false
	}
	p.dropN--
	p.lost++
	return true
}

// matches reports a request that a LoseReplyTo rule picks out.
func (p *Proxy) matches(req []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loseAfterN == 0 || !bytes.Contains(req, p.loseAfter) {
		return false
	}
	p.loseAfterN--
	return true
}

func (p *Proxy) takeLoss() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loseNext == 0 {
		return false
	}
	p.loseNext--
	p.lost++
	return true
}
