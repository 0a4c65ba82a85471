package deploy

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

var update = flag.Bool("update", false, "rewrite generated files (deploy/kubernetes/prometheusrule.yaml)")

type ruleFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Record      string            `json:"record"`
			Expr        string            `json:"expr"`
			For         string            `json:"for"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	var rules ruleFile
	require.NoError(t, yaml.UnmarshalStrict(readFile(t, "deploy/prometheus/alerts.yaml"), &rules))
	require.NotEmpty(t, rules.Groups)
	return rules
}

// TestAlertStyle holds the rules to the monitoring-mixin conventions: one
// CamelCase prefix, a known severity, a summary and a description.
func TestAlertStyle(t *testing.T) {
	name := regexp.MustCompile(`^Pushgateway[A-Z][a-z0-9]+([A-Z][a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, group := range loadRules(t).Groups {
		for _, rule := range group.Rules {
			if rule.Alert == "" {
				continue
			}
			assert.Regexp(t, name, rule.Alert)
			assert.False(t, seen[rule.Alert], "alert %s defined twice", rule.Alert)
			seen[rule.Alert] = true
			assert.Contains(t, []string{"critical", "warning", "info"}, rule.Labels["severity"], "severity of %s", rule.Alert)
			assert.Len(t, rule.Annotations, 2, "%s: summary and description, nothing else", rule.Alert)
			assert.NotEmpty(t, rule.Annotations["summary"], "summary of %s", rule.Alert)
			assert.NotEmpty(t, rule.Annotations["description"], "description of %s", rule.Alert)
			assert.True(t, strings.HasSuffix(rule.Annotations["summary"], "."), "summary of %s is a sentence", rule.Alert)
		}
	}
	assert.NotEmpty(t, seen)
}

// TestAlertUnitTests requires, for every alert, a promtool unit test in
// which it fires and one in which it does not.
func TestAlertUnitTests(t *testing.T) {
	var tests struct {
		RuleFiles          []string `json:"rule_files"`
		EvaluationInterval string   `json:"evaluation_interval"`
		Tests              []struct {
			Name          string           `json:"name"`
			Interval      string           `json:"interval"`
			InputSeries   []map[string]any `json:"input_series"`
			AlertRuleTest []struct {
				EvalTime  string           `json:"eval_time"`
				AlertName string           `json:"alertname"`
				ExpAlerts []map[string]any `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	require.NoError(t, yaml.UnmarshalStrict(readFile(t, "deploy/prometheus/alerts_test.yaml"), &tests))
	assert.Equal(t, []string{"alerts.yaml"}, tests.RuleFiles)
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, test := range tests.Tests {
		for _, check := range test.AlertRuleTest {
			if len(check.ExpAlerts) > 0 {
				fires[check.AlertName] = true
			} else {
				quiet[check.AlertName] = true
			}
		}
	}
	for _, group := range loadRules(t).Groups {
		for _, rule := range group.Rules {
			if rule.Alert == "" {
				continue
			}
			assert.True(t, fires[rule.Alert], "no unit test in which %s fires", rule.Alert)
			assert.True(t, quiet[rule.Alert], "no unit test in which %s stays quiet", rule.Alert)
		}
	}
}

const prometheusRuleFile = "deploy/kubernetes/prometheusrule.yaml"

// TestPrometheusRule keeps deploy/kubernetes/prometheusrule.yaml what it is
// made from: alerts.yaml's groups under a PrometheusRule's spec, comments
// included. -update rewrites it.
func TestPrometheusRule(t *testing.T) {
	var out bytes.Buffer
	out.WriteString(`# The alerting rules of deploy/prometheus/alerts.yaml for the
# prometheus-operator. Generated from that file: edit it, then run
# go test -run TestPrometheusRule -update in deploy/.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: pushgateway-alerts
  labels:
    app.kubernetes.io/name: pushgateway
spec:
`)
	scanner := bufio.NewScanner(bytes.NewReader(readFile(t, "deploy/prometheus/alerts.yaml")))
	header := true
	for scanner.Scan() {
		line := scanner.Text()
		if header && (strings.HasPrefix(line, "#") || line == "") {
			continue // the file's own header speaks of the file
		}
		header = false
		if line != "" {
			out.WriteString("  ")
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	require.NoError(t, scanner.Err())
	path := filepath.Join(repoRoot(t), prometheusRuleFile)
	if *update {
		require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
	}
	assert.Equal(t, out.String(), string(readFile(t, prometheusRuleFile)),
		"%s is not what alerts.yaml makes: run go test -run TestPrometheusRule -update in deploy/", prometheusRuleFile)
}

// TestAlertMetricsExist runs the built collector against a real gateway,
// makes it drop, ignore, limit and have refused some points, and requires
// every metric the alerting rules read, with every label they select or
// aggregate by, on its own /metrics: a rule on a misspelt metric would
// never fire.
func TestAlertMetricsExist(t *testing.T) {
	gateway := testgateway.Start(t)
	c := startCollector(t, `
receivers:
  otlp:
    protocols:
      http: {endpoint: "@HTTP@"}
exporters:
  pushgateway:
    endpoint: `+gateway.URL+`
    max_series_per_group: 2
    retry_on_failure: {enabled: false}
service:
  pipelines:
    metrics: {receivers: [otlp], exporters: [pushgateway]}
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: @TELEMETRY_PORT@}}}
`)
	now := time.Now().UnixNano()
	second := int64(time.Second)
	one := []float64{1}
	// Delivered: pushes{outcome="success"}.
	require.Equal(t, http.StatusOK, c.post(t, otlpGauges("ok", "rows", now, one)))
	// The gateway's own name: points_dropped{reason="reserved_name"}.
	c.post(t, otlpGauges("reserved", "push_time_seconds", now, one))
	// An older point of a series held: stale_points. The queue's consumers
	// may take two requests in either order, so the older goes in only
	// once the newer is held.
	require.Equal(t, http.StatusOK, c.post(t, otlpGauges("stale", "rows", now, one)))
	gateway.WaitGroup(t, map[string]string{"job": "stale", "instance": "i"}, 10*time.Second, nil)
	c.post(t, otlpGauges("stale", "rows", now-60*second, []float64{2}))
	// A third series in a group of at most two: series_limit_reached.
	c.post(t, otlpGauges("limit", "rows", now, []float64{1, 2, 3}))
	// A name another pusher holds as a counter: the gateway answers 400,
	// groups_rejected.
	gateway.Push(t, http.MethodPut, "/metrics/job/other-pusher", "text/plain", "# TYPE conflict counter\nconflict 1\n")
	c.post(t, otlpGauges("rejected", "conflict", now, one))
	// Two pods writing one series of one group, turn about:
	// writer_conflicts.
	for i := range int64(4) {
		pod := []string{"pod-a", "pod-b"}[i%2]
		c.post(t, otlpGauges("conflicts", "rows", now+i*second, []float64{float64(i)}, "k8s.pod.name", pod))
	}

	type use struct{ metric, label, matcher string }
	var uses []use
	metricRef := regexp.MustCompile(`(otelcol_[a-z0-9_]+)(\{([^}]*)\})?`)
	matcherRef := regexp.MustCompile(`([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	byRef := regexp.MustCompile(`by\s*\(([^)]*)\)`)
	for _, group := range loadRules(t).Groups {
		for _, rule := range group.Rules {
			var metrics []string
			for _, ref := range metricRef.FindAllStringSubmatch(rule.Expr, -1) {
				metrics = append(metrics, ref[1])
				uses = append(uses, use{metric: ref[1]})
				for _, m := range matcherRef.FindAllStringSubmatch(ref[3], -1) {
					uses = append(uses, use{metric: ref[1], label: m[1], matcher: m[2] + m[3]})
				}
			}
			for _, by := range byRef.FindAllStringSubmatch(rule.Expr, -1) {
				for _, label := range strings.Split(by[1], ",") {
					label = strings.TrimSpace(label)
					if label == "job" || label == "instance" { // the scrape's target labels
						continue
					}
					for _, metric := range metrics {
						uses = append(uses, use{metric: metric, label: label})
					}
				}
			}
		}
	}
	require.NotEmpty(t, uses)

	var missing []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		fams := c.selfMetrics(t)
		missing = missing[:0]
		for _, u := range uses {
			if !hasSeries(fams[u.metric], u.label, u.matcher) {
				missing = append(missing, fmt.Sprintf("%s with label %q %s", u.metric, u.label, u.matcher))
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Empty(t, missing, "what the alerting rules read is not on the built collector's /metrics")
}

// hasSeries reports whether the family has a series with the label (any
// label when empty) whose value satisfies the matcher (=x, =~re, !=x,
// !~re; any value when empty).
func hasSeries(fam *dto.MetricFamily, label, matcher string) bool {
	if fam == nil {
		return false
	}
	for _, m := range fam.GetMetric() {
		if label == "" {
			return true
		}
		for _, pair := range m.GetLabel() {
			if pair.GetName() != label {
				continue
			}
			value := pair.GetValue()
			switch {
			case matcher == "":
				return true
			case strings.HasPrefix(matcher, "=~"):
				if regexp.MustCompile("^(?:" + matcher[2:] + ")$").MatchString(value) {
					return true
				}
			case strings.HasPrefix(matcher, "!~"):
				if !regexp.MustCompile("^(?:" + matcher[2:] + ")$").MatchString(value) {
					return true
				}
			case strings.HasPrefix(matcher, "!="):
				if value != matcher[2:] {
					return true
				}
			case strings.HasPrefix(matcher, "="):
				if value == matcher[1:] {
					return true
				}
			}
		}
	}
	return false
}
