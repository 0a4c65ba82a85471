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
)

// TestBatchPushesOverlapUpToTheBound holds every push at a gateway that
// answers only when told (a real one cannot be made to wait): a batch of
// ten groups has pushesInFlight of them in flight at once, never more, and
// returns once all ten were answered.
func TestBatchPushesOverlapUpToTheBound(t *testing.T) {
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
	exp := startExporter(t, srv.URL, nil)

	const groups = 10
	b := newTestBatch()
	for i := range groups {
		b.resource(map[string]any{"service.name": fmt.Sprintf("job-%d", i)}).gauge("a", "", 1, float64(i), nil)
	}
	done := make(chan error, 1)
	go func() { done <- exp.ConsumeMetrics(context.Background(), b.md) }()

	timeout := time.After(time.Minute) // only a broken exporter takes it
	for range pushesInFlight {
		select {
		case <-arrived:
		case <-timeout:
			t.Fatalf("fewer than %d pushes of one batch were in flight at once", pushesInFlight)
		}
	}
	// The others wait for a slot; none may come while these are held. The
	// exporter does nothing with time here: the wait only gives a broken
	// bound the chance to show.
	select {
	case <-arrived:
		t.Errorf("a push went out while %d of the same batch were in flight", pushesInFlight)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-timeout:
		t.Fatal("the batch did not return once its pushes were answered")
	}
	assert.Equal(t, pushesInFlight, most, "the most pushes in flight at once")
	assert.Len(t, pushed, groups, "every group pushed")
}
