package deploy

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

const (
	textFormat     = "text/plain; version=0.0.4"
	protobufFormat = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
)

// gatewayPush is one push to the gateway: a group's path and a body in
// the text format, or, when family is set, in the protobuf format.
type gatewayPush struct {
	path   string
	text   string
	family *dto.MetricFamily
}

const invalid = `^pushed metrics are invalid or inconsistent with existing metrics: `

// TestGatewayRefusals provokes from a real Pushgateway each 400 that
// docs/OPERATIONS.md lists, and requires the gateway's answer and one of
// the guide's quotes (a code span) to match the same pattern, so that the
// guide stays true to the gateway it is for. Patterns, not the answers
// themselves: where two groups clash, the gateway names them in the order
// it happens to gather them, and the series it quotes is written one way
// by 1.5 ({ label:<name:"job" value:"x" > gauge:<value:1 > }), another by
// 1.11 ({ label:{name:"job"  value:"x"}  gauge:{value:1}}).
func TestGatewayRefusals(t *testing.T) {
	var quotes []string
	for _, line := range strings.Split(string(readFile(t, "docs/OPERATIONS.md")), "\n") {
		if strings.HasPrefix(line, "```") {
			continue // a fence, not a span
		}
		for _, span := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(line, -1) {
			quotes = append(quotes, span[1])
		}
	}
	collision := regexp.MustCompile(invalid + `collected (metric named "duration_seconds_(count|bucket)" collides with previously collected histogram named "duration_seconds"|histogram( or summary)? named "duration_seconds" collides with previously collected metric named "duration_seconds_(count|bucket)")$`)
	for _, tc := range []struct {
		name    string
		before  []gatewayPush
		refused gatewayPush
		answer  *regexp.Regexp
		// acceptedFrom, when set, is the gateway version (major.minor)
		// from which the push is accepted.
		acceptedFrom string
	}{{
		name:    "a name another group holds with another type",
		before:  []gatewayPush{{path: "/metrics/job/other-job", text: "# TYPE rows_processed counter\nrows_processed 1\n"}},
		refused: gatewayPush{path: "/metrics/job/nightly-etl", text: "# TYPE rows_processed gauge\nrows_processed 1\n"},
		answer:  regexp.MustCompile(invalid + `collected metric "rows_processed" \{ .*\} is not a (COUNTER|GAUGE)$`),
	}, {
		name:    "a name another group's histogram owns",
		before:  []gatewayPush{{path: "/metrics/job/other-job", text: "# TYPE duration_seconds histogram\nduration_seconds_bucket{le=\"+Inf\"} 1\nduration_seconds_sum 1\nduration_seconds_count 1\n"}},
		refused: gatewayPush{path: "/metrics/job/nightly-etl", text: "# TYPE duration_seconds_count gauge\nduration_seconds_count 1\n"},
		answer:  collision,
	}, {
		name:    "a histogram whose names another group holds",
		before:  []gatewayPush{{path: "/metrics/job/other-job", text: "# TYPE duration_seconds_bucket gauge\nduration_seconds_bucket 1\n"}},
		refused: gatewayPush{path: "/metrics/job/nightly-etl", text: "# TYPE duration_seconds histogram\nduration_seconds_bucket{le=\"+Inf\"} 1\nduration_seconds_sum 1\nduration_seconds_count 1\n"},
		answer:  collision,
	}, {
		name:    "one of the gateway's own names with another type",
		refused: gatewayPush{path: "/metrics/job/nightly-etl", text: "# TYPE process_cpu_seconds_total gauge\nprocess_cpu_seconds_total 1\n"},
		answer:  regexp.MustCompile(invalid + `gathered metric family process_cpu_seconds_total has type GAUGE but should have COUNTER$`),
	}, {
		name:    "a label name Prometheus 2 does not accept",
		refused: gatewayPush{path: "/metrics/job/nightly-etl", family: gauge("rows", "http.method", "GET")},
		answer:  regexp.MustCompile(invalid + `collected metric "rows" \{ .*\} has a label with an invalid name: http\.method$`),
		// 1.11 takes UTF-8 names, and escapes them (http_method) for a
		// scraper that does not ask for them.
		acceptedFrom: "1.11",
	}, {
		name:    "a label name starting with __",
		refused: gatewayPush{path: "/metrics/job/nightly-etl", family: gauge("rows", "__shard", "1")},
		answer:  regexp.MustCompile(invalid + `collected metric "rows" \{ .*\} has a label with an invalid name: __shard$`),
	}, {
		name: "a timestamp",
		refused: gatewayPush{path: "/metrics/job/nightly-etl", family: func() *dto.MetricFamily {
			f := gauge("rows", "", "")
			f.Metric[0].TimestampMs = proto.Int64(1700000000000)
			return f
		}()},
		answer: regexp.MustCompile(invalid + `pushed metrics must not have timestamps$`),
	}, {
		name:    "a series twice in one push",
		refused: gatewayPush{path: "/metrics/job/nightly-etl", text: "# TYPE rows gauge\nrows{shard=\"1\"} 1\nrows{shard=\"1\"} 2\n"},
		answer:  regexp.MustCompile(invalid + `collected metric "rows" \{ .*\} was collected before with the same name and label values$`),
	}, {
		name:    "a grouping label name the gateway does not accept",
		refused: gatewayPush{path: "/metrics/job/nightly-etl/k8s.pod/x", text: "# TYPE rows gauge\nrows 1\n"},
		answer:  regexp.MustCompile(`^improper label name "k8s\.pod"$`),
	}, {
		name:    "text the parser cannot read",
		refused: gatewayPush{path: "/metrics/job/nightly-etl", text: "# TYPE rows.done gauge\nrows.done 1\n"},
		answer:  regexp.MustCompile(`^text format parsing error in line 1: invalid metric name in comment$`),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			gateway := testgateway.Start(t)
			for _, push := range tc.before {
				status, body := pushTo(t, gateway.URL, push)
				require.Equal(t, http.StatusOK, status, "setting up: %s", body)
			}
			status, body := pushTo(t, gateway.URL, tc.refused)
			if tc.acceptedFrom != "" && gateway.AtLeast(t, tc.acceptedFrom) {
				assert.Equal(t, http.StatusOK, status, "a gateway from %s accepts this: %s", tc.acceptedFrom, body)
				return
			}
			require.Equal(t, http.StatusBadRequest, status, "the gateway accepted the push: %s", body)
			assert.Regexp(t, tc.answer, strings.TrimSpace(body), "the gateway's answer")
			assert.True(t, slices.ContainsFunc(quotes, tc.answer.MatchString),
				"docs/OPERATIONS.md quotes no answer matching %s; the gateway answered:\n%s", tc.answer, body)
		})
	}
}

func pushTo(t *testing.T, gatewayURL string, push gatewayPush) (int, string) {
	t.Helper()
	var body bytes.Buffer
	contentType := textFormat
	if push.family != nil {
		contentType = protobufFormat
		_, err := protodelim.MarshalTo(&body, push.family)
		require.NoError(t, err)
	} else {
		body.WriteString(push.text)
	}
	req, err := http.NewRequest(http.MethodPut, gatewayURL+push.path, &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(answer)
}

// gauge is a one-series gauge family, with one label when name is set.
func gauge(family, name, value string) *dto.MetricFamily {
	m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(1)}}
	if name != "" {
		m.Label = []*dto.LabelPair{{Name: proto.String(name), Value: proto.String(value)}}
	}
	return &dto.MetricFamily{Name: proto.String(family), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{m}}
}
