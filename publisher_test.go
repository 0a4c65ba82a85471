package pushgatewayexporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
)

// TestPushesAtOnceAreBounded holds every push at a gateway that answers
// only when told (a real one cannot be made to wait): with three queue
// consumers, three pushes are under way at once, never more, whether they
// come from one batch of many groups or from several batches; then every
// group is pushed.
func TestPushesAtOnceAreBounded(t *testing.T) {
	const consumers = 3
	for _, tc := range []struct {
		name    string
		batches []int // groups per batch
	}{
		{"one batch of ten groups", []int{10}},
		{"two batches of five groups", []int{5, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				mu       sync.Mutex
				inFlight int
				most     int
				pushed   = map[string]bool{}
			)
			arrived := make(chan struct{}, 100)
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if answerFamilies(w, r) {
					return
				}
				mu.Lock()
				inFlight++
				most = max(most, inFlight)
				pushed[r.URL.Path] = true
				mu.Unlock()
				arrived <- struct{}{}
				<-release
				mu.Lock()
				inFlight--
				mu.Unlock()
				w.WriteHeader(http.StatusOK)
			}))
			defer srv.Close()
			exp := startExporter(t, srv.URL, func(c *Config) {
				q := exporterhelper.NewDefaultQueueConfig()
				q.NumConsumers = consumers
				c.QueueConfig = configoptional.Some(q)
			})

			groups := 0
			for k, n := range tc.batches {
				b := testbatch.New()
				for i := range n {
					b.Resource(map[string]any{"service.name": fmt.Sprintf("job-%d-%d", k, i)}).Gauge("a", "", 1, float64(i), nil)
				}
				require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD)) // queued
				groups += n
			}

			timeout := time.After(time.Minute) // only a broken exporter takes it
			wait := func(n int, what string) {
				for range n {
					select {
					case <-arrived:
					case <-timeout:
						t.Fatalf("%s did not reach the gateway", what)
					}
				}
			}
			wait(consumers, fmt.Sprintf("%d pushes at once", consumers))
			// The others wait for a slot; none may come while these are
			// held. The exporter does nothing with time here: the wait only
			// gives a broken bound the chance to show.
			early := 0
			select {
			case <-arrived:
				t.Errorf("a push went out while %d were under way", consumers)
				early = 1
			case <-time.After(200 * time.Millisecond):
			}
			close(release)
			wait(groups-consumers-early, "every group's push")
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, consumers, most, "the most pushes under way at once")
			assert.Len(t, pushed, groups, "every group pushed")
		})
	}
}
