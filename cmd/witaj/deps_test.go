package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps the layout honest: the core (flows,
// knowledge) imports no adapter and no network library, and the
// adapters (telegram, slack, redis) never import each other.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/witaj/witaj/"
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		{"flows", []string{mod + "bot", "github.com/go-telegram/", "github.com/slack-go/", "github.com/redis/", "net/http"}},
		{"knowledge", []string{mod + "bot", mod + "flows", "github.com/go-telegram/", "github.com/slack-go/", "github.com/redis/", "net/http"}},
		{"bot/telegram", []string{mod + "bot/slack", mod + "bot/redis"}},
		{"bot/slack", []string{mod + "bot/telegram", mod + "bot/redis"}},
		{"bot/redis", []string{mod + "bot/telegram", mod + "bot/slack"}},
	}
	for _, r := range rules {
		for _, d := range deps(r.pkg) {
			for _, f := range r.forbidden {
				if d == f || strings.HasPrefix(d, strings.TrimSuffix(f, "/")+"/") || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) {
					t.Errorf("%s imports %s", r.pkg, d)
				}
			}
		}
	}
}
