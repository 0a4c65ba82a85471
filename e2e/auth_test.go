package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"golang.org/x/crypto/bcrypt"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// Retry settings short enough for failing runs to end quickly. A 401 is
// permanent for the exporter, so it must not retry at all.
const shortRetry = `{initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 2s}`

// authConfig is a collector configuration: OTLP in, batch, the pushgateway
// exporter out. extensions maps extension ids to their flow-style YAML;
// exporter and telemetry are flow-style YAML mappings.
func authConfig(extensions map[string]string, exporter, telemetry string) string {
	var exts, ids []string
	for id, cfg := range extensions {
		exts = append(exts, fmt.Sprintf("  %s: %s\n", id, cfg))
		ids = append(ids, id)
	}
	extBlock := "extensions: {}\n"
	if len(exts) > 0 {
		extBlock = "extensions:\n" + strings.Join(exts, "")
	}
	return `
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "@GRPC@"}
      http: {endpoint: "@HTTP@"}
processors:
  batch: {timeout: 200ms}
` + extBlock + `exporters:
  pushgateway: ` + exporter + `
service:
  extensions: [` + strings.Join(ids, ", ") + `]
  pipelines:
    metrics: {receivers: [otlp], processors: [batch], exporters: [pushgateway]}
  telemetry: ` + telemetry + "\n"
}

// basicAuthWebConfig is a gateway --web.config.file requiring user:password.
func basicAuthWebConfig(t *testing.T, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(t, err)
	return fmt.Sprintf("basic_auth_users:\n  %s: %q\n", user, hash)
}

// sendJob runs the SDK batch job of service.name job over OTLP/HTTP.
func sendJob(t *testing.T, col *collector, job string) {
	t.Helper()
	exp, err := otlpmetrichttp.New(context.Background(),
		otlpmetrichttp.WithEndpoint(col.httpAddr), otlpmetrichttp.WithInsecure())
	require.NoError(t, err)
	runBatchJob(t, exp, attribute.String("service.name", job))
}

// waitJobGroup waits until the job's complete group is on the gateway and
// checks its counter.
func waitJobGroup(t *testing.T, gw *testgateway.Gateway, job string) {
	t.Helper()
	grp := gw.WaitGroup(t, map[string]string{"job": job}, 20*time.Second, func(g testgateway.Group) bool {
		return len(g.Families["job_step_duration_seconds"].Metrics) == 1
	})
	assert.Equal(t, map[string]string{"orders": "1000", "customers": "5"},
		valuesBy(grp.Families["job_rows_processed_total"], "table"))
	assert.Equal(t, "5", grp.Families["job_step_duration_seconds"].Metrics[0].Count)
}

// authProxy is a reverse proxy in front of a real gateway. With a wanted
// Authorization value it answers 401 to any request without it, as a
// gateway behind a bearer-token checking proxy would; without one it only
// forwards. Either way it records the Authorization headers of pushes.
type authProxy struct {
	*httptest.Server
	mu       sync.Mutex
	pushAuth []string // Authorization of each push (PUT/POST /metrics/…)
}

func startAuthProxy(t *testing.T, gatewayURL, wantAuth string) *authProxy {
	t.Helper()
	target, err := url.Parse(gatewayURL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	p := &authProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		p.mu.Lock()
		if strings.HasPrefix(r.URL.Path, "/metrics/") && (r.Method == http.MethodPut || r.Method == http.MethodPost) {
			p.pushAuth = append(p.pushAuth, auth)
		}
		p.mu.Unlock()
		refuse := wantAuth != "" && auth != wantAuth
		if refuse {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pushgateway"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *authProxy) pushes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.pushAuth...)
}

func TestAuthBasicAuthExtension(t *testing.T) {
	const user, password = "alice", "s3cret-basic-ok-4e8"
	gw := testgateway.StartWith(t, testgateway.Options{
		WebConfig: basicAuthWebConfig(t, user, password),
		Username:  user,
		Password:  password,
	})

	// The gateway does refuse requests without the credentials.
	resp, err := http.Get(gw.URL + "/api/v1/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the gateway must require basic auth")

	col := startCollectorWithConfig(t, authConfig(
		map[string]string{"basicauth/client": fmt.Sprintf(`{client_auth: {username: %q, password: %q}}`, user, password)},
		fmt.Sprintf(`{endpoint: %q, auth: {authenticator: basicauth/client}, retry_on_failure: %s}`, gw.URL, shortRetry),
		`{metrics: {level: none}}`,
	))
	sendJob(t, col, "auth-basic")
	waitJobGroup(t, gw, "auth-basic")
	assert.Len(t, gw.Groups(t), 1)

	col.stop(t)
	assertNoErrorLogged(t, col)
}

func TestAuthBearerToken(t *testing.T) {
	const token = "tok-e2e-ok-2d9"
	for _, tt := range []struct {
		name, job  string
		extensions map[string]string
		exporter   string // extra exporter keys
	}{
		{
			name:       "bearertokenauth extension",
			job:        "auth-bearer-extension",
			extensions: map[string]string{"bearertokenauth/client": fmt.Sprintf(`{token: %q}`, token)},
			exporter:   `auth: {authenticator: bearertokenauth/client}`,
		},
		{
			name:     "headers",
			job:      "auth-bearer-headers",
			exporter: fmt.Sprintf(`headers: {Authorization: %q}`, "Bearer "+token),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw := testgateway.Start(t)
			proxy := startAuthProxy(t, gw.URL, "Bearer "+token)

			// The proxy does refuse requests without the token.
			resp, err := http.Get(proxy.URL + "/api/v1/metrics")
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

			col := startCollectorWithConfig(t, authConfig(tt.extensions,
				fmt.Sprintf(`{endpoint: %q, %s, retry_on_failure: %s}`, proxy.URL, tt.exporter, shortRetry),
				`{metrics: {level: none}}`,
			))
			sendJob(t, col, tt.job)
			waitJobGroup(t, gw, tt.job)
			assert.Len(t, gw.Groups(t), 1)

			pushes := proxy.pushes()
			require.NotEmpty(t, pushes)
			for _, auth := range pushes {
				assert.Equal(t, "Bearer "+token, auth)
			}
			col.stop(t)
			assertNoErrorLogged(t, col)
		})
	}
}

func TestAuthSecretsNeverLeak(t *testing.T) {
	const (
		gwUser, gwPassword = "alice", "gw-pass-1a7" // what the gateway requires
		wrongPassword      = "s3cret-basic-9f2"     // basicauth extension's
		userinfoPassword   = "s3cret-userinfo-7d3"  // in the endpoint
		wantToken          = "tok-e2e-required-8b4" // what the bearer proxy requires
		wrongToken         = "tok-e2e-5c1"          // bearertokenauth extension's
		wrongHeaderToken   = "tok-e2e-header-3e6"   // in headers
	)
	secrets := []string{gwPassword, wrongPassword, userinfoPassword, wantToken, wrongToken, wrongHeaderToken}

	basicGateway := func(t *testing.T) *testgateway.Gateway {
		return testgateway.StartWith(t, testgateway.Options{
			WebConfig: basicAuthWebConfig(t, gwUser, gwPassword),
			Username:  gwUser,
			Password:  gwPassword,
		})
	}
	bearerGateway := func(t *testing.T) *testgateway.Gateway { return testgateway.Start(t) }

	for _, tt := range []struct {
		name, job string
		gateway   func(*testing.T) *testgateway.Gateway
		// wantAuth is the proxy's requirement; empty: the proxy only
		// forwards and records, and the 401 comes from the real gateway.
		wantAuth   string
		extensions map[string]string
		// exporter returns the exporter's extra keys and the endpoint, given
		// the proxy's URL.
		exporter func(proxyURL string) (keys, endpoint string)
		// sentAuth is the Authorization the collector must have sent.
		sentAuth string
		// display is how the endpoint must appear in the error.
		display func(proxyURL string) string
	}{
		{
			name:       "wrong password in the basicauth extension",
			job:        "leak-basicauth",
			gateway:    basicGateway,
			extensions: map[string]string{"basicauth/client": fmt.Sprintf(`{client_auth: {username: %q, password: %q}}`, gwUser, wrongPassword)},
			exporter: func(u string) (string, string) {
				return `auth: {authenticator: basicauth/client}`, u
			},
			sentAuth: basicAuthHeader(gwUser, wrongPassword),
			display:  func(u string) string { return u },
		},
		{
			name:       "wrong token in the bearertokenauth extension",
			job:        "leak-bearertokenauth",
			gateway:    bearerGateway,
			wantAuth:   "Bearer " + wantToken,
			extensions: map[string]string{"bearertokenauth/client": fmt.Sprintf(`{token: %q}`, wrongToken)},
			exporter: func(u string) (string, string) {
				return `auth: {authenticator: bearertokenauth/client}`, u
			},
			sentAuth: "Bearer " + wrongToken,
			display:  func(u string) string { return u },
		},
		{
			name:     "wrong token in headers",
			job:      "leak-headers",
			gateway:  bearerGateway,
			wantAuth: "Bearer " + wantToken,
			exporter: func(u string) (string, string) {
				return fmt.Sprintf(`headers: {Authorization: %q}`, "Bearer "+wrongHeaderToken), u
			},
			sentAuth: "Bearer " + wrongHeaderToken,
			display:  func(u string) string { return u },
		},
		{
			name:    "password in the endpoint's userinfo",
			job:     "leak-userinfo",
			gateway: basicGateway,
			exporter: func(u string) (string, string) {
				return "", strings.Replace(u, "http://", "http://pusher:"+userinfoPassword+"@", 1)
			},
			sentAuth: basicAuthHeader("pusher", userinfoPassword),
			display:  func(u string) string { return strings.Replace(u, "http://", "http://pusher:xxxxx@", 1) },
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw := tt.gateway(t)
			proxy := startAuthProxy(t, gw.URL, tt.wantAuth)
			keys, endpoint := tt.exporter(proxy.URL)
			if keys != "" {
				keys += ", "
			}
			metricsAddr := testgateway.FreeAddr(t)
			host, port, _ := strings.Cut(metricsAddr, ":")
			col := startCollectorWithConfig(t, authConfig(tt.extensions,
				fmt.Sprintf(`{endpoint: %q, %sretry_on_failure: %s}`, endpoint, keys, shortRetry),
				fmt.Sprintf(`{logs: {level: debug, encoding: json}, metrics: {level: detailed, readers: [{pull: {exporter: {prometheus: {host: %q, port: %s}}}}]}}`, host, port),
			))
			sendJob(t, col, tt.job)

			group := fmt.Sprintf(`{job=%q}`, tt.job)
			wantErr := fmt.Sprintf(`pushing group %s to %s: 401 Unauthorized`, group, tt.display(proxy.URL))
			failure := waitLogEntry(t, col, 20*time.Second, func(e logEntry) bool {
				return e.Level == "error" && strings.Contains(e.Error, "pushing group "+group)
			})
			assert.Contains(t, failure.Error, wantErr, "the error names the group, the (redacted) endpoint and the 401")

			// The collector did send the configured credentials: the 401 is
			// about them, not about missing ones.
			pushes := proxy.pushes()
			require.NotEmpty(t, pushes)
			assert.Equal(t, tt.sentAuth, pushes[0])

			// 401 is permanent: one push, no retry, even after the retry
			// interval has passed several times.
			time.Sleep(time.Second)
			assert.Len(t, proxy.pushes(), 1, "a 401 must not be retried")
			assert.Equal(t, 1, countLogEntries(col, func(e logEntry) bool { return e.Msg == "Pushed group" }),
				"one push attempt logged")
			assert.Zero(t, countLogEntries(col, func(e logEntry) bool { return strings.Contains(e.Msg, "Will retry") }),
				"a 401 must not be retried")

			// The collector's own metrics: the refusal is counted, no secret.
			scrape := testgateway.GetOK(t, "http://"+metricsAddr+"/metrics")
			// (The collector's Prometheus reader adds no _total suffix.)
			assert.Regexp(t, `(?m)^otelcol_exporter_pushgateway_pushes(_total)?\{[^}]*outcome="permanent"[^}]*status_class="4xx"[^}]*\} 1$`, scrape)
			assert.Regexp(t, `(?m)^otelcol_exporter_pushgateway_groups_rejected(_total)?(\{[^}]*\})? 1$`, scrape)
			for _, s := range secrets {
				assertNoSecret(t, "the collector's /metrics", scrape, s)
			}

			// Nothing reached the gateway.
			assert.Empty(t, gw.Groups(t))

			col.stop(t)
			logs := col.logs.String()
			for _, s := range secrets {
				assertNoSecret(t, "the collector's logs", logs, s)
			}
			// Nor the credentials as they travel (base64 for basic auth).
			sent := strings.Fields(tt.sentAuth)[1]
			assertNoSecret(t, "the collector's logs", logs, sent)
			assertNoSecret(t, "the collector's /metrics", scrape, sent)
		})
	}
}

// assertNoSecret fails the test with the lines of text that hold secret.
func assertNoSecret(t *testing.T, where, text, secret string) {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, secret) {
			lines = append(lines, line)
		}
	}
	assert.Empty(t, lines, "secret %q in %s", secret, where)
}

func basicAuthHeader(user, password string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	r.SetBasicAuth(user, password)
	return r.Header.Get("Authorization")
}

// logEntry is one line of the collector's JSON log.
type logEntry struct {
	Level, Msg, Error string
	// Fields holds every key of the line.
	Fields map[string]any
}

func logEntries(col *collector) []logEntry {
	var entries []logEntry
	sc := bufio.NewScanner(strings.NewReader(col.logs.String()))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		var fields map[string]any
		if json.Unmarshal(sc.Bytes(), &fields) != nil {
			continue
		}
		text := func(key string) string { v, _ := fields[key].(string); return v }
		entries = append(entries, logEntry{Level: text("level"), Msg: text("msg"), Error: text("error"), Fields: fields})
	}
	return entries
}

func countLogEntries(col *collector, match func(logEntry) bool) int {
	n := 0
	for _, e := range logEntries(col) {
		if match(e) {
			n++
		}
	}
	return n
}

// waitLogEntry polls the collector's JSON log for a matching entry.
func waitLogEntry(t *testing.T, col *collector, timeout time.Duration, match func(logEntry) bool) logEntry {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, e := range logEntries(col) {
			if match(e) {
				return e
			}
		}
		require.True(t, time.Now().Before(deadline), "no such log entry after %s", timeout)
		time.Sleep(50 * time.Millisecond)
	}
}

// assertNoErrorLogged checks the collector's (console) log for error lines.
func assertNoErrorLogged(t *testing.T, col *collector) {
	t.Helper()
	for _, line := range strings.Split(col.logs.String(), "\n") {
		assert.NotContains(t, line, "\terror\t", "the collector logged an error")
	}
}
