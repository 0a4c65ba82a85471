package e2e

// The fleet benchmark's trace mode (FLEET_TRACE_DIR): a loopback proxy
// between a path and its gateway that records every push.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// pushRecorder is a loopback proxy in front of the gateway that records
// every push: when it went and came back, its group, and a hash of its
// body. Only for FLEET_TRACE_DIR: it adds a hop, so its runs are for
// finding out what the pushes are, not for timing them.
type pushRecorder struct {
	url    string
	target string
	client *http.Client
	server *http.Server
	mu     sync.Mutex
	pushes []pushRecord
}

type pushRecord struct {
	start, end time.Time
	method     string
	group      string // the URL path after /metrics/
	bytes      int
	hash       string
	status     int
}

func startPushRecorder(b testing.TB, target string) *pushRecorder {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	r := &pushRecorder{
		url:    "http://" + l.Addr().String(),
		target: target,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
	r.server = &http.Server{Handler: r}
	go func() { _ = r.server.Serve(l) }()
	return r
}

func (r *pushRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rec := pushRecord{start: time.Now(), method: req.Method, group: strings.TrimPrefix(req.URL.Path, "/metrics/")}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256(body)
	rec.bytes, rec.hash = len(body), hex.EncodeToString(sum[:8])
	out, err := http.NewRequestWithContext(req.Context(), req.Method, r.target+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = req.Header.Clone()
	resp, err := r.client.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	rec.end, rec.status = time.Now(), resp.StatusCode
	if strings.HasPrefix(req.URL.Path, "/metrics/") {
		r.mu.Lock()
		r.pushes = append(r.pushes, rec)
		r.mu.Unlock()
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

func (r *pushRecorder) stop() {
	_ = r.server.Close()
	r.client.CloseIdleConnections()
}

// report writes every push to <dir>/<label>.pushes.tsv and logs what the
// pushes repeat: groups pushed more than once, repeats with a body
// identical to the group's previous push, repeats that started while the
// group's previous push was still in flight, and the most pushes in flight
// at once.
func (r *pushRecorder) report(b testing.TB, dir, label string) {
	r.mu.Lock()
	pushes := append([]pushRecord(nil), r.pushes...)
	r.mu.Unlock()
	sort.Slice(pushes, func(i, j int) bool { return pushes[i].start.Before(pushes[j].start) })
	if len(pushes) == 0 {
		b.Logf("trace %s: no pushes", label)
		return
	}
	t0 := pushes[0].start
	var tsv strings.Builder
	tsv.WriteString("start_ms\tend_ms\tmethod\tgroup\tbytes\tsha256_8\tstatus\n")
	type last struct {
		end  time.Time
		hash string
	}
	prev := map[string]last{}
	perGroup := map[string]int{}
	var repeats, identical, overlapping, totalBytes int
	for _, p := range pushes {
		fmt.Fprintf(&tsv, "%.1f\t%.1f\t%s\t%s\t%d\t%s\t%d\n",
			float64(p.start.Sub(t0).Microseconds())/1e3, float64(p.end.Sub(t0).Microseconds())/1e3,
			p.method, p.group, p.bytes, p.hash, p.status)
		perGroup[p.group]++
		totalBytes += p.bytes
		if l, ok := prev[p.group]; ok {
			repeats++
			if l.hash == p.hash {
				identical++
			}
			if p.start.Before(l.end) {
				overlapping++
			}
		}
		prev[p.group] = last{end: p.end, hash: p.hash}
	}
	writeFile(b, filepath.Join(dir, label+".pushes.tsv"), tsv.String())

	// The most pushes in flight at once, from the start and end events.
	type event struct {
		at    time.Time
		delta int
	}
	events := make([]event, 0, 2*len(pushes))
	for _, p := range pushes {
		events = append(events, event{p.start, 1}, event{p.end, -1})
	}
	sort.Slice(events, func(i, j int) bool {
		if events[i].at.Equal(events[j].at) {
			return events[i].delta < events[j].delta
		}
		return events[i].at.Before(events[j].at)
	})
	inFlight, maxInFlight := 0, 0
	for _, e := range events {
		inFlight += e.delta
		maxInFlight = max(maxInFlight, inFlight)
	}
	timesPushed := map[int]int{}
	for _, n := range perGroup {
		timesPushed[n]++
	}
	b.Logf("trace %s: %d pushes of %d groups (groups by times pushed: %v), mean body %d B; "+
		"%d repeats of a group, %d with a body identical to its previous push, %d started while its previous push was in flight; "+
		"at most %d pushes in flight at once",
		label, len(pushes), len(perGroup), timesPushed, totalBytes/len(pushes), repeats, identical, overlapping, maxInFlight)
}
