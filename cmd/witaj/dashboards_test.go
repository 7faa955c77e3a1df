package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/witaj/witaj/bot"
)

// recorder is a Registerer that keeps what is registered, to list the
// metric names witaj exports (a metric vector with no series yet does
// not appear in /metrics, but its name is real).
type recorder struct{ cs []prometheus.Collector }

func (r *recorder) Register(c prometheus.Collector) error   { r.cs = append(r.cs, c); return nil }
func (r *recorder) MustRegister(cs ...prometheus.Collector) { r.cs = append(r.cs, cs...) }
func (r *recorder) Unregister(prometheus.Collector) bool    { return false }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func exportedMetrics(t *testing.T) []string {
	t.Helper()
	var r recorder
	bot.NewMetrics(&r)
	var names []string
	for _, c := range r.cs {
		ch := make(chan *prometheus.Desc, 16)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if m := fqName.FindStringSubmatch(d.String()); m != nil {
				names = append(names, m[1])
			}
		}
	}
	return names
}

// usedMetric finds witaj's metric names in a PromQL expression; a
// histogram's series end in _bucket, _sum or _count.
var usedMetric = regexp.MustCompile(`\bwitaj_[a-z_]+`)

func metricsIn(expr string) []string {
	var out []string
	for _, m := range usedMetric.FindAllString(expr, -1) {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			m = strings.TrimSuffix(m, suffix)
		}
		out = append(out, m)
	}
	return out
}

// TestDashboardAndAlerts: the Grafana dashboard and the Prometheus alert
// rules are valid files and use only metrics witaj exports.
func TestDashboardAndAlerts(t *testing.T) {
	exported := exportedMetrics(t)
	if len(exported) < 20 {
		t.Fatalf("only %d metrics found: %v", len(exported), exported)
	}
	check := func(file, expr string) {
		if strings.TrimSpace(expr) == "" {
			t.Errorf("%s: an empty expression", file)
		}
		if strings.Count(expr, "(") != strings.Count(expr, ")") {
			t.Errorf("%s: unbalanced parentheses in %q", file, expr)
		}
		for _, m := range metricsIn(expr) {
			if !slices.Contains(exported, m) {
				t.Errorf("%s uses %s, which witaj does not export (in %q)", file, m, expr)
			}
		}
	}

	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	src, err := os.ReadFile("../../deploy/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalWithOptions(src, &rules, yaml.Strict()); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			if r.Alert == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("alerts.yaml: rule %q needs alert, labels.severity and annotations.summary", r.Alert)
			}
			check("alerts.yaml", r.Expr)
		}
	}
	for _, want := range []string{"WitajNotReady", "WitajOutboxGrowing", "WitajUrgentCaseUnclaimed", "WitajSlackFailing", "WitajFAQReloadRefused", "WitajReviewOverdue"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("alerts.yaml lacks %s", want)
		}
	}

	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	src, err = os.ReadFile("../../deploy/grafana/witaj.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(src, &dash); err != nil {
		t.Fatalf("witaj.json: %v", err)
	}
	if len(dash.Panels) < 8 {
		t.Errorf("the dashboard has %d panels", len(dash.Panels))
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			check("witaj.json", tg.Expr)
		}
	}
}
