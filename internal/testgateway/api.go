package testgateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// Group is one group as the gateway's API reports it.
type Group struct {
	Labels   map[string]string
	Families map[string]Family
}

// Family is one metric family of a group, as the gateway's API reports it.
type Family struct {
	Type    string   `json:"type"`
	Help    string   `json:"help"`
	Metrics []Metric `json:"metrics"`
}

// Metric is one series of a family, as the gateway's API reports it.
type Metric struct {
	Labels map[string]string `json:"labels"`
	Value  string            `json:"value"`
	Count  string            `json:"count"`
	Sum    string            `json:"sum"`
	// Buckets are a classic histogram's cumulative counts by upper bound
	// (its le buckets). Every gateway renders a native histogram's buckets
	// otherwise, so Buckets is empty for one.
	Buckets map[string]string `json:"-"`
	// NativeBuckets are a native histogram's populated buckets, negative to
	// positive, as gateways from 1.8 render them. Gateways before 1.8 show
	// none: NativeBuckets is empty there, as is Buckets.
	NativeBuckets []NativeBucket    `json:"-"`
	Quantiles     map[string]string `json:"quantiles"`
}

// NativeBucket is one bucket of a native histogram, as Prometheus' own API
// renders it: [boundaries, lower, upper, count].
type NativeBucket struct {
	// Boundaries says which ends belong to the bucket: 0 is (lower, upper],
	// 1 [lower, upper), 2 (lower, upper), 3 [lower, upper] (the zero bucket).
	Boundaries   int
	Lower, Upper string
	// Count is the bucket's own count, not cumulative.
	Count string
}

// UnmarshalJSON reads a series in either rendering of its buckets: an
// object of le → cumulative count (a classic histogram; a native one before
// 1.8, as {}), or an array of [boundaries, lower, upper, count] (a native
// histogram from 1.8).
func (m *Metric) UnmarshalJSON(data []byte) error {
	type fields Metric // Metric without this method
	var raw struct {
		fields
		Buckets json.RawMessage `json:"buckets"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*m = Metric(raw.fields)
	buckets := bytes.TrimSpace(raw.Buckets)
	if len(buckets) == 0 || bytes.Equal(buckets, []byte("null")) {
		return nil
	}
	switch buckets[0] {
	case '{':
		return json.Unmarshal(buckets, &m.Buckets)
	case '[':
		return json.Unmarshal(buckets, &m.NativeBuckets)
	}
	return fmt.Errorf("buckets: neither an object (le buckets) nor an array (native buckets): %s", buckets)
}

// UnmarshalJSON reads [boundaries, lower, upper, count].
func (b *NativeBucket) UnmarshalJSON(data []byte) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil {
		return fmt.Errorf("native bucket %s: %w", data, err)
	}
	if len(parts) != 4 {
		return fmt.Errorf("native bucket %s: want [boundaries, lower, upper, count]", data)
	}
	for i, dst := range []any{&b.Boundaries, &b.Lower, &b.Upper, &b.Count} {
		if err := json.Unmarshal(parts[i], dst); err != nil {
			return fmt.Errorf("native bucket %s: element %d: %w", data, i, err)
		}
	}
	if b.Boundaries < 0 || b.Boundaries > 3 {
		return fmt.Errorf("native bucket %s: boundaries %d, want 0 to 3", data, b.Boundaries)
	}
	return nil
}

// Groups returns every group the gateway holds, from /api/v1/metrics.
func (g *Gateway) Groups(t testing.TB) []Group {
	t.Helper()
	body := g.get(t, "/api/v1/metrics")
	groups, err := decodeGroups(body)
	if err != nil {
		t.Fatalf("decoding /api/v1/metrics: %v\n%s", err, body)
	}
	return groups
}

// Version is the running gateway's version (1.5.1, 1.11.3), as its
// /api/v1/status reports it: what a test checks when the gateway's answer
// differs from one version to the next.
func (g *Gateway) Version(t testing.TB) string {
	t.Helper()
	var status struct {
		Data struct {
			BuildInformation struct {
				Version string `json:"version"`
			} `json:"build_information"`
		} `json:"data"`
	}
	body := g.get(t, "/api/v1/status")
	if err := json.Unmarshal(body, &status); err != nil || status.Data.BuildInformation.Version == "" {
		t.Fatalf("no version in /api/v1/status (%v):\n%s", err, body)
	}
	return status.Data.BuildInformation.Version
}

// AtLeast says the gateway is version min (major.minor) or later.
func (g *Gateway) AtLeast(t testing.TB, min string) bool {
	t.Helper()
	later, err := versionAtLeast(g.Version(t), min)
	if err != nil {
		t.Fatal(err)
	}
	return later
}

// ShowsNativeBuckets says the gateway's API renders a native histogram's
// buckets (Metric.NativeBuckets): gateways from 1.8 do, earlier ones show
// none.
func (g *Gateway) ShowsNativeBuckets(t testing.TB) bool {
	t.Helper()
	return g.AtLeast(t, "1.8")
}

// versionAtLeast says version (major.minor.patch) is min (major.minor)
// or later.
func versionAtLeast(version, min string) (bool, error) {
	have, err := majorMinor(version)
	if err != nil {
		return false, err
	}
	want, err := majorMinor(min)
	if err != nil {
		return false, err
	}
	return have[0] > want[0] || have[0] == want[0] && have[1] >= want[1], nil
}

// majorMinor reads the major and minor of major.minor[.patch].
func majorMinor(version string) ([2]int, error) {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return [2]int{}, fmt.Errorf("version %q: want major.minor[.patch]", version)
	}
	major, errMajor := strconv.Atoi(parts[0])
	minor, errMinor := strconv.Atoi(parts[1])
	if errMajor != nil || errMinor != nil {
		return [2]int{}, fmt.Errorf("version %q: want major.minor[.patch]", version)
	}
	return [2]int{major, minor}, nil
}

// decodeGroups reads the body of /api/v1/metrics: one object per group,
// its labels and last_push_successful beside one field per family.
func decodeGroups(body []byte) ([]Group, error) {
	var resp struct {
		Status string                       `json:"status"`
		Data   []map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("status %q", resp.Status)
	}
	groups := make([]Group, 0, len(resp.Data))
	for _, raw := range resp.Data {
		grp := Group{Families: map[string]Family{}}
		for name, v := range raw {
			switch name {
			case "labels":
				if err := json.Unmarshal(v, &grp.Labels); err != nil {
					return nil, fmt.Errorf("group labels: %w", err)
				}
			case "last_push_successful":
			default:
				var f Family
				if err := json.Unmarshal(v, &f); err != nil {
					return nil, fmt.Errorf("family %s: %w", name, err)
				}
				grp.Families[name] = f
			}
		}
		groups = append(groups, grp)
	}
	return groups, nil
}
