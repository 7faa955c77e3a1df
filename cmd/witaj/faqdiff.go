package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strings"
	"testing/fstest"

	"github.com/witaj/witaj/knowledge"
)

func (env *environment) faqDiff(args []string) error {
	fl := env.flagSet("faq diff")
	sub := fl.String("path", embeddedFAQPath, "where the FAQ lives inside a git revision")
	if err := fl.Parse(args); err != nil {
		return parseError(err)
	}
	if fl.NArg() != 2 {
		fmt.Fprintln(env.stderr, "usage: witaj faq diff [--path knowledge/faq] OLD NEW   (folders or git revisions)")
		return errUsage
	}
	old, err := env.faqTree(fl.Arg(0), *sub)
	if err != nil {
		return err
	}
	cur, err := env.faqTree(fl.Arg(1), *sub)
	if err != nil {
		return err
	}
	oldEntries, oldProbs := knowledge.Parse(old)
	newEntries, newProbs := knowledge.Parse(cur)
	for _, p := range oldProbs.Errors() {
		p.Warning = true // the old tree is history; its problems don't block
		p.Path = fl.Arg(0) + ":" + p.Path
		fmt.Fprintln(env.stdout, p)
	}
	for _, p := range newProbs.Errors() {
		p.Path = path.Join(fl.Arg(1), p.Path)
		fmt.Fprintln(env.stdout, p)
	}
	d := knowledge.Diff(oldEntries, newEntries)
	env.printDiff(d, fl.Arg(1))
	if len(newProbs.Errors()) > 0 || len(d.Problems().Errors()) > 0 {
		return exitError(1)
	}
	return nil
}

func (env *environment) printDiff(d knowledge.DiffResult, newName string) {
	w := env.stdout
	fmt.Fprintf(w, "knowledge base %s -> %s: %d added, %d removed, %d changed\n",
		d.Old, d.New, len(d.Added), len(d.Removed), len(d.Changed))
	for _, e := range d.Added {
		fmt.Fprintf(w, "+ %s (new, version %d)\n", e.ID, e.Version)
	}
	for _, e := range d.Removed {
		fmt.Fprintf(w, "- %s (removed, was version %d)\n", e.ID, e.Version)
	}
	for _, c := range d.Changed {
		ver := fmt.Sprintf("version %d", c.New.Version)
		if c.New.Version != c.Old.Version {
			ver = fmt.Sprintf("version %d -> %d", c.Old.Version, c.New.Version)
		}
		fmt.Fprintf(w, "~ %s (%s): %s\n", c.ID, ver, strings.Join(c.Fields, ", "))
	}
	for _, p := range d.Problems() {
		p.Path = path.Join(newName, p.Path)
		fmt.Fprintln(w, p)
	}
}

// faqTree opens a FAQ tree named on the command line: a folder if one
// exists by that name, otherwise a git revision of the repository in the
// current directory, read at sub.
func (env *environment) faqTree(name, sub string) (fs.FS, error) {
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		return os.DirFS(name), nil
	}
	return gitTree(env, name, sub)
}

// gitTree reads the files under sub at revision rev with `git archive`,
// without touching the working tree.
func gitTree(env *environment, rev, sub string) (fs.FS, error) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(env.ctx, "git", "archive", "--format=tar", rev+":"+sub)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%q is neither a folder nor a git revision with %s: %s", rev, sub, firstLine(errOut.String(), err))
	}
	files := fstest.MapFS{}
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s:%s: %w", rev, sub, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read %s:%s/%s: %w", rev, sub, h.Name, err)
		}
		files[h.Name] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
}

func firstLine(s string, fallback error) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return fallback.Error()
	}
	line, _, _ := strings.Cut(s, "\n")
	return line
}
