package flows

import "github.com/witaj/witaj/knowledge"

func (st *step) command(ev Event) {
	st.ensureLang(ev.LangHint)
	st.s.Awaiting = AwaitNothing
	switch ev.Command {
	case "start":
		st.start(ev.Arg)
	case "help":
		key := "help"
		if !st.e.cfg.Consultants {
			key = "help_alone"
		}
		st.say(key, nil, menuRow())
	case "menu":
		st.menu()
	case "language":
		if l := knowledge.Lang(ev.Arg); l.Known() {
			st.setLanguage(l) // "/language en" switches at once
			return
		}
		st.chooseLanguage()
	case "human":
		st.requestHuman()
	case "forget":
		st.s.Awaiting = AwaitForget
		st.say("forget.confirm", nil, []Button{{LabelKey: "button.delete", Data: dataForgetYes}, {LabelKey: "button.cancel", Data: dataForgetNo}})
	case "privacy":
		st.say("privacy", Data{"Days": st.e.cfg.RetentionDays})
	case "end":
		st.endCase()
	case "subscribe":
		st.subscribeMenu()
	case "unsubscribe":
		st.unsubscribeMenu()
	default:
		st.say("command.unknown", nil)
	}
}

// start greets. A deep-link argument naming a language ("/start uk", as
// in t.me/bot?start=uk) sets it without asking.
func (st *step) start(arg string) {
	if l := knowledge.Lang(arg); l.Known() {
		st.s.Lang, st.s.LangConfirmed = l, true
	}
	if !st.s.LangConfirmed {
		st.chooseLanguage()
		return
	}
	st.welcome()
}

func (st *step) welcome() {
	st.say(st.welcomeKey(), nil, append(menuRows(st.e.cfg.Consultants), st.newsOffer()...)...)
}

func (st *step) chooseLanguage() {
	st.s.Awaiting = AwaitLanguage
	st.say("lang.choose", nil, languageRow())
}

func (st *step) menu() {
	st.say("menu.prompt", nil, menuRows(st.e.cfg.Consultants)...)
}

// category lists a category's topics as buttons.
func (st *step) category(c knowledge.Category) {
	var rows [][]Button
	for _, e := range st.e.kb.InCategory(c) {
		rows = append(rows, []Button{topicButton(e, st.s.Lang)})
	}
	rows = append(rows, []Button{{LabelKey: "button.back", Data: dataMenu}})
	st.say("menu.topics", Data{"CategoryKey": "category." + string(c)}, rows...)
}

// welcomeKey picks the welcome that mentions consultants only where they
// work.
func (st *step) welcomeKey() string {
	if st.e.cfg.Consultants {
		return "welcome"
	}
	return "welcome_alone"
}
