package gateway

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// keyOf makes a grouping key of name, value pairs, in the order given.
func keyOf(pairs ...string) prom.GroupKey {
	var key prom.GroupKey
	for i := 0; i+1 < len(pairs); i += 2 {
		key = append(key, prom.LabelPair{Name: pairs[i], Value: pairs[i+1]})
	}
	return key
}

func TestGroupKeyURLPath(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name string
		key  prom.GroupKey
		want string
	}{
		{"plain", keyOf(prom.JobLabel, "etl", prom.InstanceLabel, "w-1"), "job/etl/instance/w-1"},
		{"space stays a space", keyOf(prom.JobLabel, "my job"), "job/my%20job"},
		{"plus stays a plus", keyOf(prom.JobLabel, "a+b"), "job/a+b"},
		{"percent is escaped", keyOf(prom.JobLabel, "100%"), "job/100%25"},
		{"unicode", keyOf(prom.JobLabel, "José"), "job/Jos%C3%A9"},
		{"slash goes base64", keyOf(prom.JobLabel, "batch/etl"), "job@base64/" + b64("batch/etl")},
		{"empty goes base64 as =", keyOf(prom.JobLabel, "etl", prom.InstanceLabel, ""), "job/etl/instance@base64/="},
		{"dot segments go base64", keyOf(prom.JobLabel, "..", prom.InstanceLabel, "."), "job@base64/" + b64("..") + "/instance@base64/" + b64(".")},
		{"question mark and hash are escaped", keyOf(prom.JobLabel, "a?b#c"), "job/a%3Fb%23c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, urlPath(tt.key))
		})
	}
}

// validGroupingLabelName accepts what the exporter's configuration takes
// as a grouping label name: a legacy Prometheus label name not starting
// with "__" (the gateway's and Prometheus's own).
func validGroupingLabelName(name string) bool {
	return model.LegacyValidation.IsValidLabelName(name) && !strings.HasPrefix(name, "__")
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
		require.True(t, validGroupingLabelName(name) || name == prom.JobLabel, "label name %q", name)
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
			key := keyOf(prom.JobLabel, "j"+v, "env", v, prom.InstanceLabel, v)
			got := gatewayDecode(t, "http://127.0.0.1:9091/metrics/"+urlPath(key))
			assert.Equal(t, map[string]string{prom.JobLabel: "j" + v, "env": v, prom.InstanceLabel: v}, got)
		})
	}
}

// TestGroupKeyURLPathParses is the URL half of prom's
// TestGroupKeyIDsDoNotCollide: the key whose ID would collide with
// {job="a",instance="b"}'s without a separator that never occurs in UTF-8
// still makes a push URL that parses.
func TestGroupKeyURLPathParses(t *testing.T) {
	b := keyOf(prom.JobLabel, "a\xffinstance", prom.InstanceLabel, "b")
	_, err := url.Parse("http://h/metrics/" + urlPath(b))
	assert.NoError(t, err)
}
