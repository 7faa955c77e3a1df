// Package console runs the conversation engine in a terminal: the same
// flows and matcher as the Telegram bot, with numbered choices standing in
// for buttons. It needs no tokens, no network and no Redis, which makes it
// the quickest way to try the FAQ.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// Chat is one console conversation.
type Chat struct {
	engine   *flows.Engine
	render   *bot.Renderer
	out      io.Writer
	now      func() time.Time
	session  flows.Session
	choices  map[int]bot.Button // the choices on screen by number
	next     int                // the number the next choice gets
	nextCase int
	// Echo prints each line read after the prompt, for transcripts of
	// input that does not come from a terminal.
	Echo bool
}

// New returns a chat on engine, printing to out. now is the clock (tests
// pass a fixed one).
func New(engine *flows.Engine, render *bot.Renderer, out io.Writer, now func() time.Time) *Chat {
	return &Chat{engine: engine, render: render, out: out, now: now}
}

// Run starts the conversation with /start (or /start LANG) and reads the
// user's lines from in until it ends or ctx is cancelled.
func (c *Chat) Run(ctx context.Context, in io.Reader, lang knowledge.Lang) error {
	c.Handle(flows.Event{Kind: flows.CommandMessage, Command: "start", Arg: string(lang)})
	sc := bufio.NewScanner(in)
	for {
		fmt.Fprint(c.out, "\n> ")
		if !sc.Scan() {
			fmt.Fprintln(c.out)
			return sc.Err()
		}
		if err := ctx.Err(); err != nil {
			return nil
		}
		line := strings.TrimSpace(sc.Text())
		if c.Echo {
			fmt.Fprintln(c.out, line)
		}
		if line == "" {
			continue
		}
		if line == "/quit" || line == "/exit" {
			return nil
		}
		if ev, ok := c.event(line); ok {
			c.Handle(ev)
		}
	}
}

// event turns a typed line into an engine event: a number picks a choice,
// "/cmd arg" is a command, anything else is a question. A number that is
// not on screen is refused (ok is false), never read as a question.
func (c *Chat) event(line string) (ev flows.Event, ok bool) {
	if n, err := strconv.Atoi(line); err == nil {
		b, found := c.choices[n]
		if !found {
			c.print(c.render.Reply(c.session.Lang, flows.Reply{Key: "console.no_choice", Data: flows.Data{"Count": len(c.choices)}}))
			return flows.Event{}, false
		}
		return flows.Event{Kind: flows.ButtonPress, Data: b.Data}, true
	}
	if cmd, ok := strings.CutPrefix(line, "/"); ok {
		name, arg, _ := strings.Cut(cmd, " ")
		return flows.Event{Kind: flows.CommandMessage, Command: name, Arg: strings.TrimSpace(arg)}, true
	}
	return flows.Event{Kind: flows.TextMessage, Text: line}, true
}

// Handle steps the engine with ev and performs the actions.
func (c *Chat) Handle(ev flows.Event) {
	var actions []flows.Action
	c.session, actions = c.engine.Step(c.session, ev, c.now())
	c.choices, c.next = map[int]bot.Button{}, 1
	if hasRating(actions) {
		c.next = 6 // typing 5 gives 5 stars: 1–5 are the rating
	}
	for _, a := range actions {
		c.perform(a)
	}
}

// hasRating reports a rating question among the actions.
func hasRating(actions []flows.Action) bool {
	for _, a := range actions {
		if r, ok := a.(flows.Reply); ok {
			for _, row := range r.Buttons {
				for _, b := range row {
					if _, ok := flows.RatingOf(b.Data); ok {
						return true
					}
				}
			}
		}
	}
	return false
}

func (c *Chat) perform(a flows.Action) {
	lang := c.session.Lang
	switch a := a.(type) {
	case flows.Reply:
		c.print(c.render.Reply(lang, a))
	case flows.Answer:
		m, err := c.render.Answer(a)
		if err != nil {
			fmt.Fprintf(c.out, "(error: %v)\n", err)
			return
		}
		c.print(m)
		fmt.Fprintf(c.out, "   [%s, knowledge base %s]\n", m.Ref, m.KB)
	case flows.Escalate:
		urgency := ""
		if a.Urgent {
			urgency = " (urgent)"
		}
		fmt.Fprintf(c.out, "\n(console: a consultant would now be contacted%s; the real service opens a case in Slack)\n", urgency)
		c.nextCase++
		c.Handle(flows.Event{Kind: flows.CaseOpened, CaseID: fmt.Sprintf("console-%d", c.nextCase)})
	case flows.Relay:
		fmt.Fprintf(c.out, "\n(console: passed to the consultant: %q — type /end to close the case)\n", a.Text)
	case flows.Deliver:
		fmt.Fprintf(c.out, "\nConsultant: %s\n", a.Text)
	case flows.CloseCase:
		fmt.Fprintf(c.out, "\n(console: case %s closed)\n", a.CaseID)
	case flows.Forget:
		fmt.Fprintln(c.out, "\n(console: everything kept about this chat is deleted)")
	case flows.Gap:
		// Recorded for editors by the real service; nothing to show here.
	}
}

// print shows a message with its choices numbered after those already on
// screen.
func (c *Chat) print(m bot.Message) {
	fmt.Fprintf(c.out, "\n%s\n", m.Doc.PlainText())
	for _, row := range m.Buttons {
		var parts []string
		for _, b := range row {
			n, rating := flows.RatingOf(b.Data)
			if !rating {
				n = c.next
				c.next++
			}
			c.choices[n] = b
			parts = append(parts, fmt.Sprintf("[%d] %s", n, b.Label))
		}
		fmt.Fprintf(c.out, "  %s\n", strings.Join(parts, "   "))
	}
}
