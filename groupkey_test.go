package pushgatewayexporter

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func resourceWith(attrs map[string]any) pcommon.Resource {
	res := pcommon.NewResource()
	if err := res.Attributes().FromRaw(attrs); err != nil {
		panic(err)
	}
	return res
}

func TestGroupKeyFor(t *testing.T) {
	defaults := createDefaultConfig().(*Config).Grouping
	withExtras := defaults
	withExtras.Labels = []GroupingLabel{
		{Name: "env", Attribute: "deployment.environment.name"},
		{Name: "cluster", Attribute: "k8s.cluster.name"},
	}
	fixedJob := defaults
	fixedJob.Job = "nightly"
	hostInstance := defaults
	hostInstance.InstanceAttribute = []string{"host.name"}
	noInstance := defaults
	noInstance.InstanceAttribute = nil
	stableInstance := defaults
	stableInstance.InstanceAttribute = []string{"k8s.pod.name", "host.name"}

	tests := []struct {
		name  string
		cfg   GroupingConfig
		attrs map[string]any
		want  string
	}{
		{"service name only", defaults, map[string]any{"service.name": "etl"}, `{job="etl"}`},
		{"namespace joins with a slash", defaults, map[string]any{"service.name": "etl", "service.namespace": "batch"}, `{job="batch/etl"}`},
		{"instance from service.instance.id", defaults, map[string]any{"service.name": "etl", "service.instance.id": "w-1"}, `{job="etl",instance="w-1"}`},
		{"no service.name", defaults, map[string]any{"host.name": "h"}, `{job="unknown_service"}`},
		{"fixed job wins", fixedJob, map[string]any{"service.name": "etl", "service.namespace": "batch"}, `{job="nightly"}`},
		{"instance from another attribute", hostInstance, map[string]any{"service.name": "etl", "service.instance.id": "w-1", "host.name": "h"}, `{job="etl",instance="h"}`},
		{"empty attributes add no label", withExtras, map[string]any{"service.name": "etl", "service.instance.id": "", "k8s.cluster.name": ""}, `{job="etl"}`},
		{"empty service.name", defaults, map[string]any{"service.name": "", "service.namespace": "batch"}, `{job="batch/unknown_service"}`},
		{"the first attribute present wins", stableInstance, map[string]any{"service.name": "etl", "service.instance.id": "uuid", "host.name": "h", "k8s.pod.name": "p"}, `{job="etl",instance="p"}`},
		{"then the next", stableInstance, map[string]any{"service.name": "etl", "service.instance.id": "uuid", "host.name": "h", "k8s.pod.name": ""}, `{job="etl",instance="h"}`},
		{"none of them: no instance", stableInstance, map[string]any{"service.name": "etl", "service.instance.id": "uuid"}, `{job="etl"}`},
		{"instance disabled", noInstance, map[string]any{"service.name": "etl", "service.instance.id": "w-1"}, `{job="etl"}`},
		{
			"extra labels sorted after job, missing ones left out", withExtras,
			map[string]any{"service.name": "etl", "service.instance.id": "w-1", "deployment.environment.name": "prod"},
			`{job="etl",env="prod",instance="w-1"}`,
		},
		{
			"non-string attributes", withExtras,
			map[string]any{"service.name": "etl", "k8s.cluster.name": 42, "deployment.environment.name": true},
			`{job="etl",cluster="42",env="true"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, groupKeyFor(resourceWith(tt.attrs), tt.cfg).String())
		})
	}
}

func TestGroupKeyURLPath(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name string
		key  groupKey
		want string
	}{
		{"plain", groupKey{{jobLabel, "etl"}, {instanceLabel, "w-1"}}, "job/etl/instance/w-1"},
		{"space stays a space", groupKey{{jobLabel, "my job"}}, "job/my%20job"},
		{"plus stays a plus", groupKey{{jobLabel, "a+b"}}, "job/a+b"},
		{"percent is escaped", groupKey{{jobLabel, "100%"}}, "job/100%25"},
		{"unicode", groupKey{{jobLabel, "José"}}, "job/Jos%C3%A9"},
		{"slash goes base64", groupKey{{jobLabel, "batch/etl"}}, "job@base64/" + b64("batch/etl")},
		{"empty goes base64 as =", groupKey{{jobLabel, "etl"}, {instanceLabel, ""}}, "job/etl/instance@base64/="},
		{"dot segments go base64", groupKey{{jobLabel, ".."}, {instanceLabel, "."}}, "job@base64/" + b64("..") + "/instance@base64/" + b64(".")},
		{"question mark and hash are escaped", groupKey{{jobLabel, "a?b#c"}}, "job/a%3Fb%23c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.key.urlPath())
		})
	}
}

// gatewayDecode reads a push URL's grouping key the way Pushgateway does:
// the router works on the percent-decoded path (after cleaning . and ..),
// splits it at every slash into name/value pairs, and base64-decodes the
// value of a name ending in @base64 (trailing = trimmed).
func gatewayDecode(t *testing.T, rawURL string) map[string]string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, rawURL, nil)
	require.NoError(t, err)
	p := req.URL.Path
	require.Equal(t, p, path.Clean(p), "the router would rewrite this path")
	rest, ok := strings.CutPrefix(p, "/metrics/")
	require.True(t, ok, p)
	parts := strings.Split(rest, "/")
	require.Zero(t, len(parts)%2, "odd number of path components in %q", p)
	out := map[string]string{}
	for i := 0; i < len(parts); i += 2 {
		name, value := parts[i], parts[i+1]
		if trimmed, isB64 := strings.CutSuffix(name, "@base64"); isB64 {
			decoded, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
			require.NoError(t, err)
			name, value = trimmed, string(decoded)
		}
		require.True(t, isValidGroupingLabelName(name) || name == jobLabel, "label name %q", name)
		_, dup := out[name]
		require.False(t, dup, "label %q twice in %q", name, p)
		out[name] = value
	}
	return out
}

// TestGroupKeyURLRoundTrip checks that hostile values address exactly their
// own group: what the gateway decodes is what the exporter meant.
func TestGroupKeyURLRoundTrip(t *testing.T) {
	values := []string{
		"plain", "with space", "a+b", "100%", "%2F", "%252F", "a/b", "/", "//", "../x", "..", ".", "./",
		"x/../../metrics/job/other", "job@base64", "@base64", "=", "==", "a=b", "José 🚀", "?q=1", "#frag",
		";", ",", "\\", "a\x00b", "\t\n", "", " ", "~", "a%zz", "\u202e",
	}
	for _, v := range values {
		t.Run(fmt.Sprintf("%q", v), func(t *testing.T) {
			key := groupKey{{jobLabel, "j" + v}, {"env", v}, {instanceLabel, v}}
			got := gatewayDecode(t, "http://127.0.0.1:9091/metrics/"+key.urlPath())
			assert.Equal(t, map[string]string{jobLabel: "j" + v, "env": v, instanceLabel: v}, got)
		})
	}
}

func TestGroupKeyIDsDoNotCollide(t *testing.T) {
	a := groupKey{{jobLabel, "a"}, {instanceLabel, "b"}}
	b := groupKey{{jobLabel, "a\xffinstance"}, {instanceLabel, "b"}}
	c := groupKey{{jobLabel, "a"}, {"instanceb", ""}}
	assert.NotEqual(t, a.id(), b.id())
	assert.NotEqual(t, a.id(), c.id())
	_, err := url.Parse("http://h/metrics/" + b.urlPath())
	assert.NoError(t, err)
}
