package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// witaj runs the command line in-process with the given environment.
func witaj(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err = run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func wantExit(t *testing.T, err error, code int) {
	t.Helper()
	var got exitError
	switch {
	case code == 0 && err != nil:
		t.Fatalf("err = %v, want success", err)
	case code != 0 && (!errors.As(err, &got) || int(got) != code):
		t.Fatalf("err = %v, want exit status %d", err, code)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/witaj -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

const fixtures = "../../knowledge/testdata"

func TestLint(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		exit int
	}{
		{"valid", []string{"--required=false", fixtures + "/valid"}, nil, 0},
		{"valid-from-env", []string{"--required=false"}, map[string]string{"WITAJ_FAQ_DIR": fixtures + "/valid"}, 0},
		{"missing-required", []string{fixtures + "/valid"}, nil, 1},
		{"broken-markup", []string{"--required=false", fixtures + "/broken/markup"}, nil, 1},
		{"warnings-only", []string{"--required=false", fixtures + "/broken/outlier"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"faq", "lint", "--today", "2026-11-23"}, tt.args...)
			stdout, _, err := witaj(t, tt.env, args...)
			wantExit(t, err, tt.exit)
			golden(t, "lint-"+tt.name+".golden", stdout)
		})
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"faq"}, {"faq", "nope"}, {"faq", "lint", "a", "b"}, {"faq", "diff", "one"}} {
		_, stderr, err := witaj(t, nil, args...)
		if !errors.Is(err, errUsage) || !strings.Contains(stderr, "sage") {
			t.Errorf("witaj %q: err = %v, stderr = %q; want a usage error", args, err, stderr)
		}
	}
}

func TestDiffFolders(t *testing.T) {
	stdout, _, err := witaj(t, nil, "faq", "diff", fixtures+"/diff/old", fixtures+"/diff/new")
	wantExit(t, err, 1)
	golden(t, "diff-folders.golden", stdout)

	stdout, _, err = witaj(t, nil, "faq", "diff", fixtures+"/diff/old", fixtures+"/diff/old")
	wantExit(t, err, 0)
	if want := "0 added, 0 removed, 0 changed"; !strings.Contains(stdout, want) {
		t.Errorf("diff of a tree with itself = %q, want %q", stdout, want)
	}
}

// TestDiffGitRevisions commits the two fixture trees in a scratch repository
// and compares the revisions by name.
func TestDiffGitRevisions(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	gitIn := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	faq := filepath.Join(repo, "knowledge", "faq")
	gitIn("init", "-q")
	copyTree(t, fixtures+"/diff/old", faq)
	gitIn("add", ".")
	gitIn("commit", "-qm", "old")
	gitIn("tag", "v1")
	if err := os.RemoveAll(faq); err != nil {
		t.Fatal(err)
	}
	copyTree(t, fixtures+"/diff/new", faq)
	gitIn("add", "-A")
	gitIn("commit", "-qm", "new")

	t.Chdir(repo)
	stdout, _, err := witaj(t, nil, "faq", "diff", "v1", "HEAD")
	wantExit(t, err, 1)
	want, _ := witajFoldersOutput(t)
	want = strings.ReplaceAll(want, fixtures+"/diff/new", "HEAD")
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("diff v1 HEAD differs from the folder diff (-want +got):\n%s", diff)
	}
	_, _, err = witaj(t, nil, "faq", "diff", "no-such-rev", "HEAD")
	if err == nil || !strings.Contains(err.Error(), "neither a folder nor a git revision") {
		t.Errorf("diff with an unknown revision: err = %v", err)
	}
}

func witajFoldersOutput(t *testing.T) (string, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(mustGetwdAtStart, "testdata", "diff-folders.golden"))
	return string(b), err
}

var mustGetwdAtStart = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return wd
}()

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
