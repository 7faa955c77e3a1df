// Package bot is the shell around the conversation engine: it renders the
// engine's actions into messages in the user's language, and (in its
// sub-packages) connects the engine to the outside systems — Telegram,
// Slack, Redis, and a console for trying the FAQ without any of them.
//
// Sub-packages talk in flows and bot types and never import each other.
package bot
