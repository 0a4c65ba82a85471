package testgateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testproc"
)

// Promtool returns the promtool binary ($PROMTOOL_BIN, else promtool on
// PATH), skipping the test (or failing it in CI) when there is none.
func Promtool(t testing.TB) string {
	t.Helper()
	return testproc.Program(t, "PROMTOOL_BIN", []string{"promtool"},
		"no promtool: set PROMTOOL_BIN or install prometheus (make tools does); a dedicated gateway's checks need it")
}

// promtoolTolerated are the problems `promtool check metrics` (Prometheus
// 2.42, client_golang 1.14's promlint) may report about a scrape of a
// dedicated gateway. Each is a naming lint that follows only from the
// names, units and descriptions the sender chose (or from
// translation_strategy: UnderscoreEscapingWithoutSuffixes, which leaves
// counters without _total): a metric without a description, a gauge named
// like a counter or a histogram's parts, a unit that is not a base unit, a
// type or ':' in a name, an attribute called le or quantile on a gauge. The
// exporter pushes such names as the sender chose them, so do Prometheus'
// own clients, and Prometheus ingests them. Anything else promtool says —
// above all a text it cannot parse — fails the check.
var promtoolTolerated = []*regexp.Regexp{
	regexp.MustCompile(`^no help text$`),
	regexp.MustCompile(`^metric names should be written in 'snake_case' not 'camelCase'$`),
	regexp.MustCompile(`^label names should be written in 'snake_case' not 'camelCase'$`),
	regexp.MustCompile(`^counter metrics should have "_total" suffix$`),
	regexp.MustCompile(`^non-counter metrics should not have "_total" suffix$`),
	regexp.MustCompile(`^non-histogram metrics should not have "_bucket" suffix$`),
	regexp.MustCompile(`^non-histogram and non-summary metrics should not have "_count" suffix$`),
	regexp.MustCompile(`^non-histogram and non-summary metrics should not have "_sum" suffix$`),
	regexp.MustCompile(`^non-histogram metrics should not have "le" label$`),
	regexp.MustCompile(`^non-summary metrics should not have "quantile" label$`),
	regexp.MustCompile(`^metric name should not include type '(counter|gauge|histogram|summary|gaugehistogram)'$`),
	regexp.MustCompile(`^metric names should not contain ':'$`),
	regexp.MustCompile(`^metric names should not contain abbreviated units$`),
	regexp.MustCompile(`^use base unit "[a-z]+" instead of "[a-z]+"$`),
}

// runPromtool runs `promtool check metrics` on a text exposition and
// returns the problems it reports that promtoolTolerated does not list.
func (c *checker) runPromtool(ctx context.Context, exposition []byte) error {
	cmd := exec.CommandContext(ctx, c.promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return fmt.Errorf("running promtool: %w", err)
	}
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !promtoolToleratedLine(line) {
			problems = append(problems, line)
		}
	}
	switch {
	case len(problems) > 0:
		return fmt.Errorf("promtool check metrics: %s", strings.Join(problems, "; "))
	case err != nil && exit.ExitCode() != 3: // 3: lint problems, all tolerated
		return fmt.Errorf("promtool check metrics: %w: %s", err, out)
	}
	return nil
}

// promtoolToleratedLine says a line of promtool's output is
// "<metric> <problem>" with a tolerated problem.
func promtoolToleratedLine(line string) bool {
	_, problem, ok := strings.Cut(line, " ")
	if !ok {
		return false
	}
	for _, re := range promtoolTolerated {
		if re.MatchString(problem) {
			return true
		}
	}
	return false
}
