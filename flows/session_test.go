package flows

import (
	"encoding/json"
	"reflect"
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

// TestSessionEncoding: the stores' Encode and DecodeSession read and
// write what encoding/json does, sessions with turns in the earlier form
// included, and a session comes back as it went.
func TestSessionEncoding(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	s := Session{Schema: SchemaVersion, Lang: "uk", LangConfirmed: true, Topic: "legal.pesel", TopicAt: at,
		Case: &Case{ID: "W-1", Status: StatusOpen, Opened: at}, Subs: []string{"legal.pesel"}, Updated: at,
		Transcript: []Turn{{From: FromUser, Text: "песель?", At: at}, {From: FromBot, Text: "[legal.pesel]", At: at.Add(time.Second)}}}
	enc, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if viaJSON, _ := json.Marshal(s); string(viaJSON) != string(enc) {
		t.Errorf("Encode = %s\njson.Marshal = %s", enc, viaJSON)
	}
	if !strings.Contains(string(enc), `{"f":"user","t":"песель?","s":1796466600}`) {
		t.Errorf("turns not stored short: %s", enc)
	}
	back, err := DecodeSession(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("DecodeSession(Encode(s)) = %+v\nwant %+v", back, s)
	}
	old := `{"schema":1,"lang":"uk","transcript":[{"from":"user","text":"песель?","at":"2026-12-05T10:30:00Z"}],"updated":"2026-12-05T10:30:00Z"}`
	got, err := DecodeSession([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Transcript) != 1 || got.Transcript[0] != (Turn{From: FromUser, Text: "песель?", At: at}) || got.Lang != "uk" {
		t.Errorf("the earlier form read as %+v", got)
	}
	var viaJSON Session
	if err := json.Unmarshal([]byte(old), &viaJSON); err != nil || !reflect.DeepEqual(viaJSON, got) {
		t.Errorf("json.Unmarshal = %+v, %v; want %+v", viaJSON, err, got)
	}
}

// BenchmarkSessionJSON reads and writes a session with a full transcript
// (Config.TranscriptTurns), as every update does in the store.
func BenchmarkSessionJSON(b *testing.B) {
	at := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	s := Session{Schema: SchemaVersion, Lang: "uk", LangConfirmed: true, Topic: "legal.pesel", TopicAt: at, Updated: at}
	for i := range DefaultConfig().TranscriptTurns {
		from := FromUser
		if i%2 == 1 {
			from = FromBot
		}
		s.Transcript = append(s.Transcript, Turn{From: from, Text: "як отримати песель, якщо я живу в Гдині?", At: at})
	}
	b.ReportAllocs()
	for b.Loop() {
		raw, err := s.Encode()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeSession(raw); err != nil {
			b.Fatal(err)
		}
	}
}
