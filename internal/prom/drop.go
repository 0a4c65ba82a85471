package prom // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"

// DropReason says why data points were not pushed. It is the value of the
// reason attribute of the points-dropped counter.
type DropReason string

// The reasons points are dropped.
const (
	DropUnspecifiedTemporality DropReason = "unspecified_temporality"
	DropScaleTooLow            DropReason = "scale_too_low"
	DropUnknownType            DropReason = "unknown_type"
	DropNoValue                DropReason = "no_value"
	DropInvalidName            DropReason = "invalid_name"
	DropInvalidHistogram       DropReason = "invalid_histogram"
	DropLabelTooLong           DropReason = "label_too_long"
	DropTooManyLabels          DropReason = "too_many_labels"
	DropInvalidGroup           DropReason = "invalid_group"
	DropNameConflict           DropReason = "name_conflict"
	DropReservedName           DropReason = "reserved_name"
	DropBucketMismatch         DropReason = "bucket_mismatch"
	DropSummaryQuantiles       DropReason = "summary_quantiles"
	DropInvalidSummary         DropReason = "invalid_summary"
)

// Drop records points of one metric that were not pushed.
type Drop struct {
	Metric string
	Reason DropReason
	Points int
}
