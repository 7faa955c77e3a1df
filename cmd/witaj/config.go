package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/bot/slack"
)

// config is everything `serve` reads from the environment, with defaults
// in one place (loadConfig).
type config struct {
	TelegramToken   string
	TelegramAPIURL  string
	WebhookURL      string
	WebhookSecret   string
	Listen          string
	AdminListen     string
	RedisURL        string
	FAQDir          string
	Retention       time.Duration
	SendRate        float64
	SendRatePerChat float64
	// BroadcastShare is the share of SendRate that broadcasts (alerts,
	// announcements) may use; replies to questions keep the rest.
	BroadcastShare float64
	LogFormat      string

	SlackBotToken      string
	SlackAppToken      string
	SlackSigningSecret string
	SlackAPIURL        string
	SlackChannel       string
	SlackLangChannels  map[string]string
	Consultants        []string
	Hours              string
	TimeZone           string
	ClaimReminder      time.Duration
	SlackRate          float64
	SlackReconcile     time.Duration
	// Digest is when the weekly digest goes to the consultants' channel
	// ("Mon 09:00" in TimeZone); empty: none.
	Digest string
}

// loadConfig reads and checks the configuration. Every problem is
// reported, one per line.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		TelegramToken:   getenv("WITAJ_TELEGRAM_TOKEN"),
		TelegramAPIURL:  or(getenv("WITAJ_TELEGRAM_API_URL"), "https://api.telegram.org"),
		WebhookURL:      getenv("WITAJ_TELEGRAM_WEBHOOK_URL"),
		WebhookSecret:   getenv("WITAJ_TELEGRAM_WEBHOOK_SECRET"),
		Listen:          or(getenv("WITAJ_LISTEN"), ":8080"),
		AdminListen:     or(getenv("WITAJ_ADMIN_LISTEN"), "127.0.0.1:9090"),
		RedisURL:        getenv("WITAJ_REDIS_URL"),
		FAQDir:          getenv("WITAJ_FAQ_DIR"),
		LogFormat:       or(getenv("WITAJ_LOG_FORMAT"), "text"),
		Retention:       30 * 24 * time.Hour,
		SendRate:        bot.DefaultSendConfig().Rate,
		SendRatePerChat: 1,
		BroadcastShare:  0.5,
	}
	c.SlackBotToken = getenv("WITAJ_SLACK_BOT_TOKEN")
	c.SlackAppToken = getenv("WITAJ_SLACK_APP_TOKEN")
	c.SlackSigningSecret = getenv("WITAJ_SLACK_SIGNING_SECRET")
	c.SlackAPIURL = or(getenv("WITAJ_SLACK_API_URL"), "https://slack.com/api/")
	c.SlackChannel = getenv("WITAJ_SLACK_CHANNEL")
	c.SlackLangChannels = map[string]string{}
	for _, l := range []string{"pl", "en", "uk", "ru"} {
		if ch := getenv("WITAJ_SLACK_CHANNEL_" + strings.ToUpper(l)); ch != "" {
			c.SlackLangChannels[l] = ch
		}
	}
	for _, u := range strings.Split(getenv("WITAJ_CONSULTANTS"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.Consultants = append(c.Consultants, u)
		}
	}
	c.Hours = or(getenv("WITAJ_HOURS"), "Mon-Fri 09:00-17:00")
	c.TimeZone = or(getenv("WITAJ_TIMEZONE"), "Europe/Warsaw")
	c.ClaimReminder = 15 * time.Minute
	c.SlackRate = 1
	c.SlackReconcile = 2 * time.Minute
	var errs []error
	if v := getenv("WITAJ_SLACK_RECONCILE"); v != "" {
		d, err := parseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("WITAJ_SLACK_RECONCILE=%q: want a duration such as 2m", v))
		}
		c.SlackReconcile = d
	}
	if v := getenv("WITAJ_CLAIM_REMINDER"); v != "" {
		d, err := parseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("WITAJ_CLAIM_REMINDER=%q: want a duration such as 15m", v))
		}
		c.ClaimReminder = d
	}
	if c.SlackBotToken != "" {
		if c.SlackChannel == "" {
			errs = append(errs, errors.New("WITAJ_SLACK_CHANNEL must name the consultants' channel (its id, e.g. C0123456789) when WITAJ_SLACK_BOT_TOKEN is set"))
		}
		if c.SlackAppToken == "" && c.SlackSigningSecret == "" {
			errs = append(errs, errors.New("Slack needs WITAJ_SLACK_APP_TOKEN (Socket Mode) or WITAJ_SLACK_SIGNING_SECRET (Events API over HTTP)"))
		}
		if err := checkURL("WITAJ_SLACK_API_URL", c.SlackAPIURL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.TelegramToken == "" {
		errs = append(errs, errors.New("WITAJ_TELEGRAM_TOKEN is not set (ask @BotFather for one; to try witaj without Telegram, run: witaj chat)"))
	}
	if err := checkURL("WITAJ_TELEGRAM_API_URL", c.TelegramAPIURL); err != nil {
		errs = append(errs, err)
	}
	if c.WebhookURL != "" {
		if err := checkURL("WITAJ_TELEGRAM_WEBHOOK_URL", c.WebhookURL); err != nil {
			errs = append(errs, err)
		} else if !strings.HasPrefix(c.WebhookURL, "https://") {
			errs = append(errs, errors.New("WITAJ_TELEGRAM_WEBHOOK_URL must be https:// (Telegram only calls HTTPS webhooks)"))
		}
		if !validSecret(c.WebhookSecret) {
			errs = append(errs, errors.New("WITAJ_TELEGRAM_WEBHOOK_SECRET must be set in webhook mode: 1–256 characters of A-Z a-z 0-9 _ -"))
		}
	}
	if v := getenv("WITAJ_RETENTION"); v != "" {
		d, err := parseDuration(v)
		if err != nil || d < time.Hour {
			errs = append(errs, fmt.Errorf("WITAJ_RETENTION=%q: want a duration of at least 1h, such as 720h or 30d", v))
		}
		c.Retention = d
	}
	for _, r := range []struct {
		name string
		dst  *float64
	}{{"WITAJ_SEND_RATE", &c.SendRate}, {"WITAJ_SEND_RATE_PER_CHAT", &c.SendRatePerChat}, {"WITAJ_SLACK_RATE", &c.SlackRate}} {
		if v := getenv(r.name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q: want a positive number of messages per second", r.name, v))
			}
			*r.dst = f
		}
	}
	if v := getenv("WITAJ_BROADCAST_SHARE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			errs = append(errs, fmt.Errorf("WITAJ_BROADCAST_SHARE=%q: want a share of WITAJ_SEND_RATE between 0 and 1, such as 0.5", v))
		}
		c.BroadcastShare = f
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("WITAJ_LOG_FORMAT=%q: want text or json", c.LogFormat))
	}
	// Checked with Slack or without: a typo must not wait for the first
	// case to show.
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		errs = append(errs, fmt.Errorf("WITAJ_TIMEZONE=%q: want a zone such as Europe/Warsaw", c.TimeZone))
		loc = time.UTC
	}
	if _, err := slack.ParseHours(c.Hours, loc); err != nil {
		errs = append(errs, fmt.Errorf("WITAJ_HOURS=%q: %v", c.Hours, err))
	}
	c.Digest = getenv("WITAJ_DIGEST")
	if c.Digest != "" {
		if _, err := slack.ParseWeekly(c.Digest, loc); err != nil {
			errs = append(errs, fmt.Errorf("WITAJ_DIGEST=%v", err))
		}
	}
	return c, errors.Join(errs...)
}

// serveUsage is `witaj serve --help`: every variable with its default.
const serveUsage = `usage: witaj serve

witaj serve is configured by environment variables (see README.md):

  WITAJ_TELEGRAM_TOKEN           (required) the bot's token from @BotFather
  WITAJ_TELEGRAM_API_URL         https://api.telegram.org
  WITAJ_TELEGRAM_WEBHOOK_URL     empty: long polling; else the public https URL of the webhook
  WITAJ_TELEGRAM_WEBHOOK_SECRET  (required with a webhook) checked on every webhook request
  WITAJ_LISTEN                   :8080  public listener (webhook, Slack Events API)
  WITAJ_ADMIN_LISTEN             127.0.0.1:9090  /healthz, /readyz, /metrics
  WITAJ_REDIS_URL                empty: embedded in-process Redis, state lost on restart
  WITAJ_FAQ_DIR                  empty: the built-in FAQ
  WITAJ_RETENTION                30d  how long a chat's data lives after its last message
  WITAJ_SEND_RATE                25   messages per second overall (all replicas)
  WITAJ_SEND_RATE_PER_CHAT       1    messages per second per chat
  WITAJ_BROADCAST_SHARE          0.5  share of WITAJ_SEND_RATE for alerts and announcements
  WITAJ_LOG_FORMAT               text (or json)
  WITAJ_SLACK_BOT_TOKEN          empty: no consultants
  WITAJ_SLACK_APP_TOKEN          empty: Events API over HTTP; set: Socket Mode
  WITAJ_SLACK_SIGNING_SECRET     (required without Socket Mode) checks Slack's requests
  WITAJ_SLACK_CHANNEL            (required with Slack) the consultants' channel id
  WITAJ_SLACK_CHANNEL_PL/_EN/_UK/_RU  route a language to another channel
  WITAJ_CONSULTANTS              empty: members of the case's channel; else extra Slack user ids
  WITAJ_HOURS                    Mon-Fri 09:00-17:00  consultants' working hours
  WITAJ_TIMEZONE                 Europe/Warsaw
  WITAJ_CLAIM_REMINDER           15m  one reminder for a case unclaimed this long
  WITAJ_DIGEST                   empty: none; else the weekly digest's time in the channel, e.g. Mon 09:00
  WITAJ_SLACK_API_URL            https://slack.com/api/
  WITAJ_SLACK_RATE               1    Slack posts per second per channel
  WITAJ_SLACK_RECONCILE          2m   how often open case threads are read back
`

// parseDuration accepts Go durations and whole days ("30d").
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func checkURL(name, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s=%q is not an http(s) URL", name, v)
	}
	return nil
}

func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// masked is the configuration for the log, secrets hidden.
func (c config) masked() []any {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	redis := c.RedisURL
	if u, err := url.Parse(redis); err == nil && u.User != nil {
		u.User = url.User("***")
		redis = u.String()
	}
	return []any{"telegram_token", mask(c.TelegramToken), "telegram_api", c.TelegramAPIURL, "webhook_url", c.WebhookURL,
		"webhook_secret", mask(c.WebhookSecret), "listen", c.Listen, "admin_listen", c.AdminListen, "redis", or(redis, "embedded"),
		"faq_dir", or(c.FAQDir, "built-in"), "retention", c.Retention, "send_rate", c.SendRate, "send_rate_per_chat", c.SendRatePerChat,
		"slack_bot_token", mask(c.SlackBotToken), "slack_app_token", mask(c.SlackAppToken), "slack_signing_secret", mask(c.SlackSigningSecret),
		"slack_channel", c.SlackChannel, "consultants", len(c.Consultants), "hours", c.Hours, "timezone", c.TimeZone}
}
