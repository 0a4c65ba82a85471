package gateway

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"
)

// FuzzGroupKeyURL checks that the push URL of the grouping key of any
// resource addresses exactly that group at the gateway. The keys come from
// translation, as the exporter's do.
//
// Short runs (CI):  go test -run='^$' -fuzz='^FuzzGroupKeyURL$' -fuzztime=10s .
// Seed and corpus inputs (testdata/fuzz/FuzzGroupKeyURL) also run as unit
// tests.
func FuzzGroupKeyURL(f *testing.F) {
	const all = 0b1111
	for _, s := range []struct {
		name, ns, instance, env string
		present                 uint8
	}{
		{"etl", "", "", "", 0b0001},
		{"etl", "batch", "w-1", "prod", all},
		{"", "", "", "", 0},
		{"", "", "", "", all},
		{"", "batch", "", "", all},
		{"../", "..", ".", "./", all},
		{"..", "../..", "x/../../metrics/job/other", "/", all},
		{"%2F", "%2f", "%252F", "a%zz", all},
		{"a@base64", "job@base64", "@base64", "=", all},
		{"\xff", "a\xffb", "\xc3", "\xed\xa0\x80", all},
		{"José 🚀", "日本", "\u202e", "é", all},
		{"a/b", "/", "//", "a//b", all},
		{"a b+c", "?q=1", "#frag", ";,", all},
		{"\x00", "\t\n", "\\", "~", all},
		{"job", "instance", "env", "__name__", all},
		{"etl", "batch", "w-1", "prod", 0b1010},
	} {
		f.Add(s.name, s.ns, s.instance, s.env, s.present)
	}
	// The exporter's default grouping plus one extra label, so that all
	// three kinds of grouping label are exercised.
	grouping := translate.Grouping{
		InstanceAttributes: []string{"service.instance.id"},
		Labels:             []translate.GroupingLabel{{Name: "env", Attribute: "deployment.environment.name"}},
	}
	tr := translate.New(translate.Options{Grouping: grouping})
	f.Fuzz(func(t *testing.T, name, ns, instance, env string, present uint8) {
		res := pcommon.NewResource()
		attrs := res.Attributes()
		for i, kv := range []struct{ key, value string }{
			{"service.name", name},
			{"service.namespace", ns},
			{"service.instance.id", instance},
			{"deployment.environment.name", env},
		} {
			if present&(1<<i) != 0 {
				attrs.PutStr(kv.key, kv.value)
			}
		}
		// No label length limit: the key's validation refuses only
		// invalid UTF-8.
		key, err := tr.GroupKey(res)

		// What the key must be, from the inputs alone.
		value := func(bit int, s string) string {
			if present&(1<<bit) == 0 {
				return ""
			}
			return strings.ToValidUTF8(s, "\uFFFD")
		}
		job := value(0, name)
		if job == "" {
			job = "unknown_service"
		}
		if v := value(1, ns); v != "" {
			job = v + "/" + job
		}
		want := map[string]string{prom.JobLabel: job}
		if v := value(2, instance); v != "" {
			want[prom.InstanceLabel] = v
		}
		if v := value(3, env); v != "" {
			want["env"] = v
		}
		got := map[string]string{}
		for _, l := range key {
			got[l.Name] = l.Value
		}
		require.Equal(t, want, got, "key %s", key)

		fuzzCheckGroupKey(t, key, grouping)

		// The key's validation refuses exactly the keys a repair changed.
		invalid := false
		for i, s := range []string{name, ns, instance, env} {
			if present&(1<<i) != 0 && !utf8.ValidString(s) {
				invalid = true
			}
		}
		assert.Equal(t, invalid, err != nil, "validateGroupKey: %v", err)
	})
}

// fuzzCheckGroupKey checks a key's labels and that its push URL addresses it.
func fuzzCheckGroupKey(t *testing.T, key prom.GroupKey, grouping translate.Grouping) {
	t.Helper()
	require.NotEmpty(t, key)
	require.Equal(t, prom.JobLabel, key[0].Name)
	require.NotEmpty(t, key[0].Value, "job")
	names := map[string]bool{prom.JobLabel: true, prom.InstanceLabel: len(grouping.InstanceAttributes) > 0}
	for _, l := range grouping.Labels {
		names[l.Name] = true
	}
	want := map[string]string{}
	for i, l := range key {
		if i > 1 {
			require.Less(t, key[i-1].Name, l.Name, "key %s: labels after job sorted, unique", key)
		}
		if i > 0 {
			require.True(t, validGroupingLabelName(l.Name), "key %s: label %q", key, l.Name)
			require.True(t, names[l.Name], "key %s: label %q is not configured", key, l.Name)
			require.NotEmpty(t, l.Value, "key %s: label %q", key, l.Name)
		}
		require.True(t, utf8.ValidString(l.Value), "key %s: label %q", key, l.Name)
		want[l.Name] = l.Value
	}
	rawURL := "http://127.0.0.1:9091/metrics/" + urlPath(key)
	_, err := url.Parse(rawURL)
	require.NoError(t, err)
	require.NotContains(t, strings.ToUpper(rawURL), "%2F", "an encoded slash: proxies and routers treat it differently")
	require.Equal(t, want, gatewayDecode(t, rawURL), "URL %s", rawURL)
}
