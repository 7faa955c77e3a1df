package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/witaj/witaj/bot"
	"github.com/witaj/witaj/flows"
	"github.com/witaj/witaj/locales"
)

// TestFAQReload: a broken edit is refused with file and line in the log
// and the last good FAQ keeps serving; the fixed file is picked up, by the
// folder watcher and by SIGHUP.
func TestFAQReload(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, "../../knowledge/faq", dir)
	cat, _ := locales.New()
	var logs syncBuffer
	src := &faqSource{dir: dir, cat: cat, flows: flows.DefaultConfig(), log: slog.New(slog.NewTextHandler(&logs, nil))}
	first, _, err := src.load()
	if err != nil {
		t.Fatal(err)
	}
	used := make(chan *bot.FAQ, 4)
	hup := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { src.watch(ctx, hup, 10*time.Millisecond, func(f *bot.FAQ) { used <- f }); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	file := filepath.Join(dir, "legalisation", "legal.pesel.yaml")
	good, _ := os.ReadFile(file)
	broken := bytes.Replace(good, []byte("version: "), []byte("version: x"), 1)
	writeLater(t, file, broken)
	waitLog(t, &logs, "legal.pesel.yaml:3:")
	select {
	case <-used:
		t.Fatal("a broken FAQ was put to use")
	default:
	}
	writeLater(t, file, append(good, []byte("\n# edited\n")...))
	select {
	case f := <-used:
		if f == first {
			t.Error("the old FAQ came back")
		}
	case <-time.After(loadWait):
		t.Fatalf("fixed FAQ not reloaded; log:\n%s", logs.String())
	}
	hup <- syscall.SIGHUP
	select {
	case <-used:
	case <-time.After(loadWait):
		t.Fatal("SIGHUP did not reload")
	}
}

// loadWait bounds waiting for an FAQ load: about a second normally, half a
// minute under -race on a slow CI machine.
const loadWait = 90 * time.Second

// writeLater writes a file with a modification time that differs from the
// previous one even on coarse file-system clocks.
func writeLater(t *testing.T, path string, data []byte) {
	t.Helper()
	info, _ := os.Stat(path)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	later := info.ModTime().Add(time.Second)
	os.Chtimes(path, later, later)
}

func waitLog(t *testing.T, logs *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(loadWait)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", want, logs.String())
		}
		time.Sleep(10 * time.Millisecond) // the watcher polls the folder; so does this
	}
}
