package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
)

// Action ids of the parent message's controls.
const (
	actionClaim   = "witaj_claim"
	actionResolve = "witaj_resolve"
	actionFAQ     = "witaj_faq"
)

// Slack limits: section text ≤ 3,000 characters, option text ≤ 75.
const (
	maxSection = 2900
	maxOption  = 75
	// transcriptTurns are the last turns shown in the parent message.
	transcriptTurns = 12
)

// plain is a plain_text object: no mrkdwn at all, so migrant text cannot
// format, mention or link.
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, clip(s, maxSection), false, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, clip(s, maxSection), false, true)
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// caseBlocks is the parent message of a case: what a consultant needs to
// take it on without reading the migrant's language — the bot's guesses
// and a one-click way to send a vetted FAQ answer in that language.
func caseBlocks(c bot.Case, kb *knowledge.Base) []slack.Block {
	title := "Case " + c.ID
	if c.Urgent {
		title = "🆘 URGENT case " + c.ID
	}
	status := "🟡 open — waiting for a consultant"
	switch c.Status {
	case flows.StatusClaimed:
		status = "🟢 claimed by <@" + c.ClaimedBy + ">"
	case flows.StatusResolved:
		status = "✅ resolved"
	}
	name := c.FirstName
	if name == "" {
		name = "(no name)"
	}
	fields := []*slack.TextBlockObject{
		mrkdwn("*Status*\n" + status),
		mrkdwn("*Language*\n" + string(c.Lang)),
		plain("Name: " + name),
		mrkdwn("*Topic guess*\n" + string(or(c.Category, "—"))),
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, title, true, false)),
		slack.NewSectionBlock(nil, fields, nil),
	}
	if c.Question != "" {
		blocks = append(blocks, slack.NewSectionBlock(plain("Question: "+c.Question), nil, nil))
	}
	if len(c.Guesses) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(plain("The bot's best guesses: "+strings.Join(guessTitles(c.Guesses, kb), "; ")), nil, nil))
	}
	if t := transcript(c.Transcript); t != "" {
		blocks = append(blocks, slack.NewSectionBlock(plain("Conversation with the bot:\n"+t), nil, nil))
	}
	if c.Status != flows.StatusResolved {
		blocks = append(blocks, slack.NewActionBlock("witaj_actions",
			slack.NewButtonBlockElement(actionClaim, c.ID, slack.NewTextBlockObject(slack.PlainTextType, "Claim", false, false)).WithStyle(slack.StylePrimary),
			slack.NewButtonBlockElement(actionResolve, c.ID, slack.NewTextBlockObject(slack.PlainTextType, "Resolve", false, false)),
			faqSelect(kb, c.Lang),
		))
	}
	return blocks
}

func or[T ~string](v, def T) T {
	if v == "" {
		return def
	}
	return v
}

// faqSelect lists every topic by category; choosing one sends its answer
// in the migrant's language.
func faqSelect(kb *knowledge.Base, lang knowledge.Lang) *slack.SelectBlockElement {
	var groups []*slack.OptionGroupBlockObject
	for _, cat := range knowledge.Categories() {
		var opts []*slack.OptionBlockObject
		for _, e := range kb.InCategory(cat) {
			label := clip(e.Title[knowledge.EN]+" ("+e.ID+")", maxOption)
			opts = append(opts, slack.NewOptionBlockObject(e.ID, slack.NewTextBlockObject(slack.PlainTextType, label, false, false), nil))
		}
		if len(opts) > 0 {
			groups = append(groups, slack.NewOptionGroupBlockElement(slack.NewTextBlockObject(slack.PlainTextType, string(cat), false, false), opts...))
		}
	}
	placeholder := fmt.Sprintf("Send FAQ answer (%s)", lang)
	return slack.NewOptionsGroupSelectBlockElement(slack.OptTypeStatic, slack.NewTextBlockObject(slack.PlainTextType, placeholder, false, false), actionFAQ, groups...)
}

func guessTitles(ids []string, kb *knowledge.Base) []string {
	var out []string
	for _, id := range ids {
		if e, ok := kb.Entry(id); ok {
			out = append(out, e.Title[knowledge.EN]+" ("+id+")")
		}
	}
	return out
}

// transcript renders the last turns, each line marked with who spoke.
func transcript(turns []flows.Turn) string {
	if len(turns) > transcriptTurns {
		turns = turns[len(turns)-transcriptTurns:]
	}
	var b strings.Builder
	for _, t := range turns {
		who := map[flows.Speaker]string{flows.FromUser: "migrant", flows.FromBot: "bot", flows.FromConsultant: "consultant"}[t.From]
		fmt.Fprintf(&b, "[%s %s] %s\n", t.At.UTC().Format("15:04"), who, clip(t.Text, 300))
	}
	return strings.TrimSpace(b.String())
}

// encodeBlocks stores blocks in a queued item.
func encodeBlocks(blocks []slack.Block) []byte {
	b, err := json.Marshal(slack.Blocks{BlockSet: blocks})
	if err != nil {
		panic(err) // blocks built here always marshal
	}
	return b
}

func decodeBlocks(b []byte) ([]slack.Block, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var bs slack.Blocks
	if err := json.Unmarshal(b, &bs); err != nil {
		return nil, err
	}
	return bs.BlockSet, nil
}

// plainSection is one plain_text section: text that must not format.
func plainSection(text string) []slack.Block {
	return []slack.Block{slack.NewSectionBlock(plain(text), nil, nil)}
}
