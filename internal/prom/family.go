package prom // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"

import (
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// TargetInfoName is the family of a resource's attributes that are not in
// its group's key.
const TargetInfoName = "target_info"

// Family is the Prometheus metric family translated from one OTLP metric
// of one resource: what translation hands to the state.
type Family struct {
	Name   string
	Help   string
	Type   dto.MetricType
	Points []Point
	// Delta says the points are deltas, to be added to what their series
	// hold.
	Delta bool
}

// Point is one translated data point: its value (no timestamp: the
// gateway refuses timestamps), its labels, and the OTLP times that order
// it against other points of the same series.
type Point struct {
	Time pcommon.Timestamp
	// Start is the OTLP start time; for a delta point, the start of the
	// interval it counts.
	Start pcommon.Timestamp
	// Value is a gauge's or counter's value; Agg a classic histogram's or
	// a summary's; Native a native histogram's (its Histogram field).
	Value  float64
	Agg    *Aggregate
	Native *dto.Metric
	Labels *LabelSet
	// Ended says the point has no recorded value: its series has ended
	// (the OTel staleness marker), and it carries nothing else.
	Ended bool
}

// IsNumeric says points of this type carry their value in Value.
func IsNumeric(typ dto.MetricType) bool {
	return typ == dto.MetricType_GAUGE || typ == dto.MetricType_COUNTER
}

// Series is one series as the state holds it and the encoders write it:
// its labels and its value, one of Value (gauge, counter), Agg (classic
// histogram, summary; updated in place) or Native (native histogram;
// never modified once stored).
type Series struct {
	Labels *LabelSet
	Value  float64
	Agg    *Aggregate
	Native *dto.Metric
}

// FamilyView is one family of a group as the encoders read it, valid while
// the state's lock of the group is held.
type FamilyView struct {
	Name string
	Help string
	Type dto.MetricType
	// Series are the family's series in no order; Order their indices
	// sorted by label signature, the order in which they are written.
	Series []Series
	Order  []int32
	// ProtoNumericSize is, for a gauge or counter family, the sum of its
	// series' LabelSet.ProtoNumericSize.
	ProtoNumericSize int
}

// Numeric says the family's series hold a plain value.
func (f *FamilyView) Numeric() bool { return IsNumeric(f.Type) }
