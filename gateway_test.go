package pushgatewayexporter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// recordedRequest is what a test server saw of one push.
type recordedRequest struct {
	method, path, contentType, contentEncoding string
	body                                       []byte
}

func TestPushRequestShape(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mutate   func(*Config)
		method   string
		ctype    string
		encoding string
	}{
		{"defaults", nil, "PUT", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", ""},
		{"post text gzip", func(c *Config) { c.Method, c.Format, c.Compression = MethodPost, FormatText, "gzip" }, "POST", "text/plain; version=0.0.4; charset=utf-8", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []recordedRequest
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if answerFamilies(w, r) {
					return
				}
				body, _ := io.ReadAll(r.Body)
				got = append(got, recordedRequest{r.Method, r.URL.EscapedPath(), r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"), body})
			}))
			defer srv.Close()
			exp := startExporter(t, srv.URL+"/prefix/", tc.mutate)

			b := testbatch.New()
			// Two resources of one group: one request for the group.
			b.Resource(map[string]any{"service.name": "my job", "service.namespace": "ns"}).Gauge("a", "", 1, 1, nil)
			b.Resource(map[string]any{"service.name": "my job", "service.namespace": "ns"}).Gauge("b", "", 1, 2, nil)
			require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))

			require.Len(t, got, 1)
			assert.Equal(t, tc.method, got[0].method)
			assert.Equal(t, "/prefix/metrics/job@base64/bnMvbXkgam9i", got[0].path)
			assert.Equal(t, tc.ctype, got[0].contentType)
			assert.Equal(t, tc.encoding, got[0].contentEncoding)
			assert.NotEmpty(t, got[0].body)
		})
	}
}

func TestPushErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case answerFamilies(w, r):
		case strings.Contains(r.URL.Path, "/job/bad"):
			http.Error(w, "pushed metrics are invalid: "+strings.Repeat("x", 2000), http.StatusBadRequest)
		case strings.Contains(r.URL.Path, "/job/busy"):
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case strings.Contains(r.URL.Path, "/job/down"):
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	u.User = url.UserPassword("alice", "s3cret-pass")
	exp := startExporter(t, u.String(), nil)

	t.Run("permanent, with the group and a bounded reason, never the password", func(t *testing.T) {
		b := testbatch.New()
		b.Resource(map[string]any{"service.name": "bad"}).Gauge("a", "", 1, 1, nil)
		err := exp.ConsumeMetrics(context.Background(), b.MD)
		require.Error(t, err)
		assert.True(t, consumererror.IsPermanent(err))
		assert.ErrorContains(t, err, `pushing group {job="bad"} to http://alice:xxxxx@`+u.Host+`: 400 Bad Request: pushed metrics are invalid: xxx`)
		assert.NotContains(t, err.Error(), "s3cret-pass")
		assert.Less(t, len(err.Error()), 1300, "the gateway's reason is cut")
	})

	t.Run("retryable groups come back alone, permanent ones are dropped", func(t *testing.T) {
		b := testbatch.New()
		b.Resource(map[string]any{"service.name": "bad"}).Gauge("a", "", 1, 1, nil)
		b.Resource(map[string]any{"service.name": "busy"}).Gauge("a", "", 1, 1, nil)
		b.Resource(map[string]any{"service.name": "fine"}).Gauge("a", "", 1, 1, nil)
		b.Resource(map[string]any{"service.name": "down"}).Gauge("a", "", 1, 1, nil)
		err := exp.ConsumeMetrics(context.Background(), b.MD)
		require.Error(t, err)
		assert.False(t, consumererror.IsPermanent(err))
		assert.ErrorContains(t, err, `pushing group {job="busy"}`)
		assert.ErrorContains(t, err, "429 Too Many Requests: slow down")
		assert.ErrorContains(t, err, `pushing group {job="down"}`)
		assert.NotContains(t, err.Error(), `{job="bad"}`)

		var partial consumererror.Metrics
		require.ErrorAs(t, err, &partial)
		var jobs []string
		rms := partial.Data().ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			name, _ := rms.At(i).Resource().Attributes().Get("service.name")
			jobs = append(jobs, name.Str())
		}
		assert.Equal(t, []string{"busy", "down"}, jobs)
	})
}

// TestRetryAfterIsHonoured puts a gateway that first answers 503 with
// Retry-After in front of a real Pushgateway and lets the collector's retry
// deliver the push.
func TestRetryAfterIsHonoured(t *testing.T) {
	gw := testgateway.Start(t)
	target, err := url.Parse(gw.URL)
	require.NoError(t, err)

	var (
		mu       sync.Mutex
		attempts []time.Time
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if answerFamilies(w, r) {
			return
		}
		mu.Lock()
		attempts = append(attempts, time.Now())
		n := len(attempts)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		forward(t, w, r, target)
	}))
	defer proxy.Close()

	exp := startExporter(t, proxy.URL, func(c *Config) {
		c.RetryConfig.Enabled = true
		c.RetryConfig.InitialInterval = 10 * time.Millisecond
		c.RetryConfig.RandomizationFactor = 0
		c.RetryConfig.MaxElapsedTime = 10 * time.Second
	})
	b := testbatch.New()
	b.Resource(map[string]any{"service.name": "etl"}).Gauge("a", "", 1, 5, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, attempts, 2)
	assert.GreaterOrEqual(t, attempts[1].Sub(attempts[0]), time.Second, "the retry waited for Retry-After, not the 10ms backoff")
	grp := gw.Group(t, map[string]string{"job": "etl"})
	require.NotNil(t, grp)
	assert.Equal(t, "5", grp.Families["a"].Metrics[0].Value)
}

// forward passes a request on to the real gateway and its answer back.
// isFamiliesRead says r is the exporter's read of the gateway's groups
// (GET /api/v1/metrics, once before its first batch), which recorders of
// pushes leave out.
func isFamiliesRead(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/api/v1/metrics")
}

// answerFamilies answers the exporter's read of the gateway's groups with
// none, for fake gateways, and says whether r was that read.
func answerFamilies(w http.ResponseWriter, r *http.Request) bool {
	if !isFamiliesRead(r) {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"success","data":[]}`)
	return true
}

func forward(t *testing.T, w http.ResponseWriter, r *http.Request, target *url.URL) {
	u := *target
	u.Path, u.RawPath = r.URL.Path, r.URL.RawPath
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), r.Body)
	if err != nil {
		t.Error(err)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// TestRetriesAreIdempotent loses the gateway's answer to a push that it
// did store: the collector retries, and because a push carries the group's
// whole state, storing it twice changes nothing (a counter is not doubled).
func TestRetriesAreIdempotent(t *testing.T) {
	gw := testgateway.Start(t)
	target, err := url.Parse(gw.URL)
	require.NoError(t, err)
	var (
		mu       sync.Mutex
		attempts int
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isFamiliesRead(r) {
			forward(t, w, r, target)
			return
		}
		mu.Lock()
		attempts++
		first := attempts == 1
		mu.Unlock()
		if first {
			forward(t, httptest.NewRecorder(), r, target) // stored, answer lost
			http.Error(w, "answer lost", http.StatusBadGateway)
			return
		}
		forward(t, w, r, target)
	}))
	defer proxy.Close()
	exp := startExporter(t, proxy.URL, func(c *Config) {
		c.RetryConfig.Enabled = true
		c.RetryConfig.InitialInterval = 10 * time.Millisecond
	})

	b := testbatch.New()
	b.Resource(map[string]any{"service.name": "etl"}).Sum("rows", "", true, 1, 100, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))

	mu.Lock()
	assert.Equal(t, 2, attempts, "stored once, then retried")
	mu.Unlock()
	grp := gw.Group(t, map[string]string{"job": "etl"})
	require.NotNil(t, grp)
	assert.Equal(t, "100", grp.Families["rows_total"].Metrics[0].Value)
}
