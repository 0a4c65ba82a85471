package deploy

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// BenchmarkSizing measures what docs/OPERATIONS.md's sizing table quotes:
// the resident memory of the built collector (on deploy/otelcol.yaml) and
// of a real Pushgateway, idle and holding 100,000 series in 10 groups
// (10 OTLP/JSON requests of 10,000 gauge points: 100 metrics × 100
// attribute sets), and the size of the gateway's persistence file for
// them. make sizing runs it; one iteration is the whole measurement.
func BenchmarkSizing(b *testing.B) {
	const groups, metrics, setsPerMetric = 10, 100, 100
	for b.Loop() {
		gateway := testgateway.StartWith(b, testgateway.Options{})
		c := startImageConfigCollector(b, gateway.URL)
		time.Sleep(5 * time.Second) // settle after start
		idleCollector, _ := residentKiB(b, c.pid)
		idleGateway, _ := residentKiB(b, gateway.PID())

		now := time.Now().UnixNano()
		for g := range groups {
			status := c.post(b, otlpRows(fmt.Sprintf("i-%d", g), now, metrics, setsPerMetric))
			require.Equal(b, http.StatusOK, status)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for c.successfulPushes(b) < groups {
			require.True(b, time.Now().Before(deadline), "the 10 groups were not pushed within 2 minutes")
			time.Sleep(100 * time.Millisecond)
		}
		heldCollector, peakCollector := residentKiB(b, c.pid)
		heldGateway, _ := residentKiB(b, gateway.PID())
		gateway.Stop() // writes the persistence file
		info, err := os.Stat(gateway.PersistenceFile)
		require.NoError(b, err)

		b.ReportMetric(float64(idleCollector)/1024, "collector-idle-MiB")
		b.ReportMetric(float64(heldCollector)/1024, "collector-100k-MiB")
		b.ReportMetric(float64(peakCollector)/1024, "collector-peak-MiB")
		b.ReportMetric(float64(idleGateway)/1024, "gateway-idle-MiB")
		b.ReportMetric(float64(heldGateway)/1024, "gateway-100k-MiB")
		b.ReportMetric(float64(info.Size())/1e6, "persistence-MB")
	}
}

// residentKiB reads VmRSS and VmHWM (the peak) of a process, in KiB.
func residentKiB(tb testing.TB, pid int) (rss, peak int) {
	tb.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(tb, err)
	for _, line := range strings.Split(string(status), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		n, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "VmRSS:":
			rss = n
		case "VmHWM:":
			peak = n
		}
	}
	return rss, peak
}

// otlpRows is one resource (service sizing, the given instance) with
// metrics × sets gauge points: metric_<m> with attributes host, region and
// status, as in the anchor batch of docs/PERFORMANCE.md.
func otlpRows(instance string, unixNano int64, metrics, sets int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"resourceMetrics":[{"resource":{"attributes":[`+
		`{"key":"service.name","value":{"stringValue":"sizing"}},{"key":"service.instance.id","value":{"stringValue":%q}}]},`+
		`"scopeMetrics":[{"scope":{"name":"sizing","version":"1"},"metrics":[`, instance)
	for m := range metrics {
		if m > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"metric_%d","gauge":{"dataPoints":[`, m)
		for i := range sets {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"asDouble":%d,"timeUnixNano":"%d","attributes":[`+
				`{"key":"host","value":{"stringValue":"host-%d"}},{"key":"region","value":{"stringValue":"region-%d"}},`+
				`{"key":"status","value":{"stringValue":"ok"}}]}`, i, unixNano, i%10, i/10)
		}
		b.WriteString(`]}}`)
	}
	b.WriteString(`]}]}]}`)
	return b.String()
}
