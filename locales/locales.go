// Package locales holds witaj's own user-facing texts — greetings, menus,
// buttons, errors — in every language the bot speaks, as go-i18n message
// files embedded in the binary. FAQ answers are not here: they live in
// knowledge/faq.
package locales

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed *.yaml
var files embed.FS

// Fallback is the language used for a message missing in the user's
// language (tests keep that from happening).
const Fallback = "en"

// Catalog renders messages by key in a language. It is safe for
// concurrent use.
type Catalog struct {
	bundle     *i18n.Bundle
	localizers map[string]*i18n.Localizer
	ids        map[string][]string // language -> message ids
	plural     map[string]bool     // message ids with plural forms
}

// Data is the template data of a message. For a plural message, a "Count"
// entry selects the form.
type Data map[string]any

// New loads the embedded message files.
func New() (*Catalog, error) {
	return Load(files)
}

// Load reads every <lang>.yaml message file in fsys.
func Load(fsys fs.FS) (*Catalog, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	c := &Catalog{bundle: b, localizers: map[string]*i18n.Localizer{}, ids: map[string][]string{}, plural: map[string]bool{}}
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		mf, err := b.LoadMessageFileFS(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
		lang := strings.TrimSuffix(path.Base(name), ".yaml")
		if mf.Tag.String() != lang {
			return nil, fmt.Errorf("load %s: language tag %q does not match the file name", name, mf.Tag)
		}
		for _, m := range mf.Messages {
			c.ids[lang] = append(c.ids[lang], m.ID)
			if m.One != "" || m.Few != "" || m.Many != "" {
				c.plural[m.ID] = true
			}
		}
		sort.Strings(c.ids[lang])
		c.localizers[lang] = i18n.NewLocalizer(b, lang, Fallback)
	}
	if _, ok := c.localizers[Fallback]; !ok {
		return nil, errors.New("locales: no message file for the fallback language " + Fallback)
	}
	return c, nil
}

// Langs returns the languages that have message files, sorted.
func (c *Catalog) Langs() []string {
	var ls []string
	for l := range c.localizers {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	return ls
}

// IDs returns the message ids of lang, sorted.
func (c *Catalog) IDs(lang string) []string { return c.ids[lang] }

// Text renders message key in lang. A missing message falls back to
// English; the returned error then says so, and the text is still usable.
func (c *Catalog) Text(lang, key string, data Data) (string, error) {
	loc, ok := c.localizers[lang]
	if !ok {
		loc = c.localizers[Fallback]
	}
	cfg := &i18n.LocalizeConfig{MessageID: key}
	if len(data) > 0 {
		cfg.TemplateData = map[string]any(data)
		// Only plural messages take a count: go-i18n refuses a count for a
		// message that has a single form.
		if n, ok := data["Count"]; ok && c.plural[key] {
			cfg.PluralCount = n
		}
	}
	s, err := loc.Localize(cfg)
	if err != nil {
		if s == "" {
			return key, fmt.Errorf("message %q in %s: %w", key, lang, err)
		}
		return s, fmt.Errorf("message %q in %s: %w", key, lang, err)
	}
	return s, nil
}
