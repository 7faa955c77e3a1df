package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/witaj/witaj/knowledge"
)

// embeddedFAQPath is where the built-in FAQ lives in the repository; problems
// in it are reported with this prefix so an editor can open the file.
const embeddedFAQPath = "knowledge/faq"

func (env *environment) faq(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "lint":
		return env.faqLint(args[1:])
	case "diff":
		return env.faqDiff(args[1:])
	case "ask":
		return env.faqAsk(args[1:])
	case "eval":
		return env.faqEval(args[1:])
	case "gaps":
		return env.faqGaps(args[1:])
	case "dialogues":
		return env.faqDialogues(args[1:])
	}
	fmt.Fprintf(env.stderr, "witaj faq: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}

// faqSource picks the FAQ to work on: an explicit folder, WITAJ_FAQ_DIR, or
// the copy built into the binary. It returns the files and the prefix that
// turns their paths into paths an editor can open.
func (env *environment) faqSource(dir string) (fs.FS, string) {
	if dir == "" {
		dir = env.getenv("WITAJ_FAQ_DIR")
	}
	if dir == "" {
		return knowledge.DefaultFS(), embeddedFAQPath
	}
	return os.DirFS(dir), dir
}

// flagSet returns a subcommand's flags. --help prints to stdout (it was
// asked for); mistakes print to stderr.
func (env *environment) flagSet(name string) *flag.FlagSet {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(env.stderr)
	fl.Usage = func() {
		fmt.Fprintf(fl.Output(), "usage: witaj %s [flags]\n", name)
		fl.PrintDefaults()
	}
	return fl
}

func (env *environment) faqLint(args []string) error {
	fl := env.flagSet("faq lint")
	today := fl.String("today", "", "judge review dates against this day (YYYY-MM-DD) instead of today")
	required := fl.Bool("required", true, "require every topic of knowledge/topics.yaml")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	if fl.NArg() > 1 {
		fmt.Fprintln(env.stderr, "usage: witaj faq lint [--today YYYY-MM-DD] [DIR]")
		return errUsage
	}
	opts := knowledge.Options{Today: knowledge.DateOf(time.Now())}
	if *today != "" {
		d, err := knowledge.ParseDate(*today)
		if err != nil {
			return fmt.Errorf("--today: %w", err)
		}
		opts.Today = d
	}
	if *required {
		opts.Required = knowledge.RequiredIDs()
	}
	fsys, prefix := env.faqSource(fl.Arg(0))
	base, probs, err := knowledge.Load(fsys, opts)
	for _, p := range probs {
		p.Path = path.Join(prefix, p.Path)
		fmt.Fprintln(env.stdout, p)
	}
	nerr, nwarn := len(probs.Errors()), len(probs.Warnings())
	if err != nil {
		fmt.Fprintf(env.stdout, "%s: %d errors, %d warnings\n", prefix, nerr, nwarn)
		return exitError(1)
	}
	fmt.Fprintf(env.stdout, "%s: %d topics in %d languages, %d warnings, knowledge base version %s\n",
		prefix, base.Version().Count, len(knowledge.Langs()), nwarn, base.Version())
	return nil
}
