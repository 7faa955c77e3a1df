package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/witaj/witaj/flows"
)

// maxFeedback bounds how often one update may feed results back into the
// engine (escalate → case opened → …); the engine never loops, but an
// adapter bug must not hang a worker.
const maxFeedback = 4

// performer carries out the actions of one update: replies and answers
// are rendered into messages, the consultants' side is called, and its
// results are fed back into the engine as events.
type performer struct {
	s        *Service
	ctx      context.Context
	chat     ChatID
	updateID int64
	f        *FAQ
	now      time.Time
	relays   int // relays so far, for their keys

	messages []Message
	audit    []AuditRecord
	gaps     []flows.Gap
	forget   bool
	// decision and topic sum the update up for the log: the first
	// answer's id@version, or the matcher's decision without one.
	decision, topic string
	topics          []string // every topic shown, for the day's counts
}

func (p *performer) perform(session flows.Session, actions []flows.Action) (flows.Session, error) {
	for round := 0; len(actions) > 0; round++ {
		if round > maxFeedback {
			return session, errors.New("engine feedback loop")
		}
		var events []flows.Event
		for _, a := range actions {
			ev, err := p.one(session, a)
			if err != nil {
				return session, err
			}
			if ev != nil {
				events = append(events, *ev)
			}
		}
		actions = nil
		for _, ev := range events {
			var more []flows.Action
			session, more = p.f.Engine.Step(session, ev, p.now)
			actions = append(actions, more...)
		}
	}
	return session, nil
}

// one performs an action and returns the event it results in, if any.
func (p *performer) one(session flows.Session, a flows.Action) (*flows.Event, error) {
	switch a := a.(type) {
	case flows.Reply:
		p.messages = append(p.messages, p.f.Render.Reply(session.Lang, a))
	case flows.Answer:
		m, err := p.f.Render.Answer(a)
		if err != nil {
			return nil, err
		}
		p.messages = append(p.messages, m)
		p.audit = append(p.audit, AuditRecord{Ref: a.Ref, KB: a.KB, At: p.now, Facet: string(a.Facet)})
		p.s.metrics.decision("answer")
		p.s.metrics.answered(a.EntryID)
		p.topics = append(p.topics, a.EntryID)
		if p.topic == "" {
			p.decision, p.topic = "answer", a.Ref
		}
	case flows.Deliver:
		p.messages = append(p.messages, p.f.Render.Consultant(session.Lang, a.Text))
	case flows.Gap:
		p.gaps = append(p.gaps, a)
		p.s.metrics.decision(a.Decision.String())
		if p.decision == "" {
			p.decision = a.Decision.String()
		}
	case flows.Forget:
		p.forget = true
		p.messages, p.audit = nil, nil
		if p.s.consultants != nil {
			if err := p.s.consultants.Forget(p.ctx, p.chat); err != nil {
				return nil, fmt.Errorf("forget on the consultants' side: %w", err)
			}
		}
	case flows.Escalate:
		return p.escalate(a)
	case flows.Relay:
		if p.s.consultants != nil {
			key := fmt.Sprintf("c%d-u%d-r%d", p.chat, p.updateID, p.relays)
			p.relays++
			delayed, err := p.s.consultants.Relay(p.ctx, p.chat, key, a)
			if delayed {
				p.messages = append(p.messages, p.f.Render.Reply(session.Lang, flows.Reply{Key: "relay.waiting"}))
			}
			return nil, err
		}
	case flows.CloseCase:
		if p.s.consultants != nil {
			return nil, p.s.consultants.Close(p.ctx, p.chat, a)
		}
	case flows.Rate:
		if p.s.consultants != nil {
			return nil, p.s.consultants.Rate(p.ctx, p.chat, a)
		}
	}
	return nil, nil
}

func (p *performer) escalate(e flows.Escalate) (*flows.Event, error) {
	if p.s.consultants == nil {
		return &flows.Event{Kind: flows.CaseUnavailable}, nil
	}
	o, err := p.s.consultants.Open(p.ctx, p.chat, e)
	if err != nil {
		return nil, fmt.Errorf("open case: %w", err)
	}
	return &flows.Event{Kind: flows.CaseOpened, CaseID: o.CaseID, Ahead: o.Ahead, AfterHours: o.AfterHours, Hours: o.Hours, Back: o.Back}, nil
}
