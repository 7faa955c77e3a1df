// Command witaj is the witaj help desk in one binary: the service, a
// console chat on the local FAQ, and the editors' FAQ tools.
//
//	witaj serve                      the Telegram service (WITAJ_* environment)
//	witaj chat [--lang xx]           a console conversation on the local FAQ
//	witaj faq lint [DIR]             check FAQ files; exit 1 on errors
//	witaj faq diff OLD NEW           compare two FAQ trees (folders or git revisions)
//	witaj faq ask [--lang xx] "q"    how the matcher ranks a question
//	witaj faq eval FILE.tsv          measure the matcher on labelled questions
//	witaj faq dialogues FILE.tsv     measure whole conversations
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitStatus(err, os.Stderr))
}

// exitError ends the program with a status and no further message: the
// command has already printed what went wrong.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func exitStatus(err error, stderr io.Writer) int {
	var code exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintln(stderr, "witaj:", err)
	return 1
}

var errUsage = errors.New("usage")

// parseError turns a flag error into the command's result: --help
// printed the usage and is a success; anything else is a usage error.
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return errUsage
}

const usage = `witaj — a multilingual help desk for migrants in Pomorskie

Usage:
  witaj serve                                 run the Telegram bot (configured by WITAJ_* variables)
  witaj chat [--lang xx] [--faq DIR]          talk to the bot in the terminal (no tokens needed)
  witaj faq lint [--today YYYY-MM-DD] [DIR]   check the FAQ files (default: the built-in FAQ)
  witaj faq diff OLD NEW                      compare two FAQ trees: folders or git revisions
  witaj faq ask [--lang xx] "question"        show how the matcher ranks a question
  witaj faq eval [--lang xx] [--verbose] FILE evaluate the matcher on a labelled TSV file
  witaj faq dialogues [--verbose] FILE       evaluate whole conversations (dialogue<TAB>lang<TAB>expect<TAB>message)
  witaj healthcheck                           exit 0 when the local service is ready (WITAJ_ADMIN_LISTEN /readyz)
  witaj version                               the build and the built-in FAQ's version
  witaj faq gaps [--days 30]                  questions the running bot could not answer (WITAJ_REDIS_URL)
  witaj announce [--dry-run] FILE             send an announcement to the chats that opted in (WITAJ_REDIS_URL)
  witaj announce status ID                    how far an announcement or alert has got
  witaj report [--days 7]                     the coordinators' summary: conversations, answers, cases (WITAJ_REDIS_URL)

Environment (see README.md for all of serve's):
  WITAJ_FAQ_DIR   load the FAQ from this folder instead of the built-in copy
  WITAJ_REDIS_URL the service's Redis (serve, faq gaps, announce)
`

// run is the whole program behind main, with its outside world passed in
// so that tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := &environment{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "faq":
		return env.faq(args[1:])
	case "chat":
		return env.chat(args[1:])
	case "serve":
		return env.serve(args[1:])
	case "healthcheck":
		return env.healthcheck(args[1:])
	case "version":
		return env.version(args[1:])
	case "announce":
		return env.announce(args[1:])
	case "report":
		return env.report(args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "witaj: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}

// environment is what every subcommand may use of the outside world.
type environment struct {
	ctx    context.Context
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}
