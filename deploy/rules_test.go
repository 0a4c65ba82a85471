package deploy

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
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
