package flows

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestTurnEncoding: turns are stored short, and sessions stored in the
// earlier form are still read.
func TestTurnEncoding(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	b, err := json.Marshal(Turn{From: FromUser, Text: "pesel?", At: at})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"f":"user","t":"pesel?","s":1796466600}`; got != want {
		t.Errorf("stored as %s, want %s", got, want)
	}
	for _, src := range []string{string(b), `{"from":"user","text":"pesel?","at":"2026-12-05T10:30:00Z"}`} {
		var got Turn
		if err := json.Unmarshal([]byte(src), &got); err != nil {
			t.Fatal(err)
		}
		if got.From != FromUser || got.Text != "pesel?" || !got.At.Equal(at) {
			t.Errorf("%s read as %+v", src, got)
		}
	}
	s := Session{Schema: SchemaVersion, Transcript: []Turn{{From: FromBot, Text: "[welcome]", At: at}}}
	b, _ = json.Marshal(s)
	if strings.Contains(string(b), `"at"`) {
		t.Errorf("session still stores long turns: %s", b)
	}
}
