package main

import (
	"fmt"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/console"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/knowledge"
	"github.com/witaj/witaj/locales"
)

// chat runs a console conversation on the local FAQ.
func (env *environment) chat(args []string) error {
	fl := env.flagSet("chat")
	lang := fl.String("lang", "", "start in this language (pl, en, uk, ru) instead of asking")
	dir := fl.String("faq", "", "FAQ folder (default: WITAJ_FAQ_DIR or the built-in FAQ)")
	consultants := fl.Bool("consultants", false, "act as if consultants answered cases (the console only pretends to hand over)")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	if *lang != "" && !knowledge.Lang(*lang).Known() {
		return fmt.Errorf("--lang %q: use pl, en, uk or ru", *lang)
	}
	base, m, err := env.loadMatcher(*dir)
	if err != nil {
		return err
	}
	cat, err := locales.New()
	if err != nil {
		return err
	}
	cfg := flows.DefaultConfig()
	cfg.Consultants = *consultants
	engine := flows.New(base, m, cfg)
	fmt.Fprintf(env.stdout, "witaj console chat — knowledge base %s. Type a question, a number to choose, /help, or /quit.\n", base.Version())
	c := console.New(engine, bot.NewRenderer(base, cat), env.stdout, time.Now)
	return c.Run(env.ctx, env.stdin, knowledge.Lang(*lang))
}
