package flows

import (
	"slices"
	"strings"

	"github.com/witaj/witaj/knowledge"
)

// Subscriptions: a chat may follow a topic, a category of topics, or news
// from witaj. Following is opt-in and kept in the session, so it is
// deleted with everything else by /forget and by the retention period. A
// followed topic whose answer changes brings an alert (its change note);
// news are announcements editors send to everyone who opted in.

// SubNews is the subscription to announcements for everyone.
const SubNews = "news"

// SubCategory returns the subscription key of a whole category.
func SubCategory(c knowledge.Category) string { return prefixCategory + string(c) }

// maxSubs bounds what one chat follows: the session must stay small.
const maxSubs = 30

// Button payloads of subscriptions ("sub:legal.pesel", "unsub:cat:work").
const (
	prefixSub    = "sub:"
	prefixUnsub  = "unsub:"
	dataUnsubAll = "unsub:*"
)

// Names is a list of things the user follows, for a message: the
// renderer shows each by its label or message key, joined.
type Names []Button

// Follows reports whether the session follows key.
func (s Session) Follows(key string) bool { return slices.Contains(s.Subs, key) }

// FollowsTopic reports whether an alert about entry e concerns the
// session: it follows the topic or its category.
func (s Session) FollowsTopic(e *knowledge.Entry) bool {
	return s.Follows(e.ID) || s.Follows(SubCategory(e.Category))
}

// validSub reports whether key names something one can follow in kb.
func validSub(kb *knowledge.Base, key string) bool {
	if key == SubNews {
		return true
	}
	if c, ok := strings.CutPrefix(key, prefixCategory); ok {
		return knowledge.Category(c).Known()
	}
	_, ok := kb.Entry(key)
	return ok
}

// subName is how a subscription is named to the user.
func (st *step) subName(key string) Button {
	switch {
	case key == SubNews:
		return Button{LabelKey: "sub.news_name"}
	case strings.HasPrefix(key, prefixCategory):
		return Button{LabelKey: "category." + strings.TrimPrefix(key, prefixCategory)}
	}
	if e, ok := st.e.kb.Entry(key); ok {
		return Button{Label: e.Title[st.s.Lang]}
	}
	return Button{Label: key}
}

func (st *step) following() Names {
	var out Names
	for _, k := range st.s.Subs {
		out = append(out, st.subName(k))
	}
	return out
}

// followButton is the third button of an answer's feedback row.
func (st *step) followButton(e *knowledge.Entry) Button {
	if st.s.Follows(e.ID) {
		return Button{LabelKey: "button.unfollow", Data: prefixUnsub + e.ID}
	}
	return Button{LabelKey: "button.follow", Data: prefixSub + e.ID}
}

// subscribe follows key, from a button.
func (st *step) subscribe(key string) {
	if !validSub(st.e.kb, key) {
		st.menu() // an old button whose topic is gone, or a forged one
		return
	}
	if !st.s.Follows(key) {
		if len(st.s.Subs) >= maxSubs {
			st.say("sub.too_many", Data{"Count": maxSubs}, []Button{{LabelKey: "button.unsubscribe", Data: prefixUnsub}})
			return
		}
		st.s.Subs = append(st.s.Subs, key)
		slices.Sort(st.s.Subs)
	}
	if key == SubNews {
		st.say("sub.news_done", nil, menuRow())
		return
	}
	st.say("sub.done", Data{"Name": Names{st.subName(key)}}, menuRow())
}

// unsubscribe stops following key ("*": everything), from a button. An
// empty key lists what the chat follows, to choose from.
func (st *step) unsubscribe(key string) {
	switch {
	case key == "":
		st.unsubscribeMenu()
	case key == "*":
		st.s.Subs = nil
		st.say("sub.removed_all", nil, menuRow())
	case st.s.Follows(key):
		name := st.subName(key)
		st.s.Subs = slices.DeleteFunc(st.s.Subs, func(k string) bool { return k == key })
		st.say("sub.removed", Data{"Name": Names{name}}, menuRow())
	default:
		st.say("sub.removed", Data{"Name": Names{st.subName(key)}}, menuRow())
	}
}

// subscribeMenu is /subscribe: a button for news and for each category
// not followed yet; what is followed already is listed, with a button to
// stop it.
func (st *step) subscribeMenu() {
	var rows [][]Button
	if !st.s.Follows(SubNews) {
		rows = append(rows, []Button{{LabelKey: "sub.news_button", Data: prefixSub + SubNews}})
	}
	for _, c := range knowledge.Categories() {
		if !st.s.Follows(SubCategory(c)) {
			rows = append(rows, []Button{{LabelKey: "category." + string(c), Data: prefixSub + SubCategory(c)}})
		}
	}
	if len(st.s.Subs) == 0 {
		st.say("sub.choose", nil, append(rows, menuRow())...)
		return
	}
	rows = append(rows, []Button{{LabelKey: "button.unsubscribe", Data: prefixUnsub}}, menuRow())
	st.say("sub.choose_following", Data{"List": st.following()}, rows...)
}

// unsubscribeMenu is /unsubscribe: a button per followed item, and one
// for all.
func (st *step) unsubscribeMenu() {
	if len(st.s.Subs) == 0 {
		st.say("sub.none", nil, menuRow())
		return
	}
	var rows [][]Button
	for _, k := range st.s.Subs {
		n := st.subName(k)
		rows = append(rows, []Button{{LabelKey: n.LabelKey, Label: n.Label, Data: prefixUnsub + k}})
	}
	rows = append(rows, []Button{{LabelKey: "button.unfollow_all", Data: dataUnsubAll}}, menuRow())
	st.say("sub.unsubscribe", Data{"List": st.following()}, rows...)
}

// newsOffer is the row under the first welcome that offers news from
// witaj, once per chat.
func (st *step) newsOffer() [][]Button {
	if st.s.NewsOffered || st.s.Follows(SubNews) {
		return nil
	}
	st.s.NewsOffered = true
	return [][]Button{{{LabelKey: "button.news", Data: prefixSub + SubNews}}}
}

// Alert tells a subscriber that the answer of a topic they follow has
// changed: the entry's change note in Lang, with a button to the new
// answer and one to stop these alerts.
type Alert struct {
	EntryID string
	Ref     string
	KB      string
	Lang    knowledge.Lang
	Buttons [][]Button
}

func (Alert) isAction() {}

// AlertFor returns the alert about entry id in lang, or false when the
// entry has no change note. Alerts go to many chats at once, so they
// depend on the language only, never on one session.
func (e *Engine) AlertFor(id string, lang knowledge.Lang) (Alert, bool) {
	entry, ok := e.kb.Entry(id)
	if !ok {
		return Alert{}, false
	}
	if _, ok := entry.ChangeNote(lang); !ok {
		return Alert{}, false
	}
	return Alert{
		EntryID: id, Ref: entry.Ref(), KB: e.kb.Version().String(), Lang: lang,
		Buttons: [][]Button{
			{{LabelKey: "button.full_answer", Data: prefixTopic + id}},
			{{LabelKey: "button.stop_alerts", Data: prefixUnsub + id}},
		},
	}, true
}

// TopicButtonFor is a button that opens topic id, for messages made
// outside a conversation (announcements).
func TopicButtonFor(id, label string) Button { return Button{Label: label, Data: prefixTopic + id} }

// StopAlertsButton lists what the chat follows, to stop some of it.
func StopAlertsButton() Button { return Button{LabelKey: "button.unsubscribe", Data: prefixUnsub} }
