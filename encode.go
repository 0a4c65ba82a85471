package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"bytes"
	"fmt"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Content types of push bodies, exactly as the Pushgateway matches them.
const (
	contentTypeProtobuf = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
	contentTypeText     = "text/plain; version=0.0.4; charset=utf-8"
)

func (f PushFormat) contentType() string {
	if f == FormatText {
		return contentTypeText
	}
	return contentTypeProtobuf
}

func (f PushFormat) expfmtFormat() expfmt.Format {
	if f == FormatText {
		return expfmt.NewFormat(expfmt.TypeTextPlain)
	}
	return expfmt.NewFormat(expfmt.TypeProtoDelim)
}

// encodeFamilies writes families in the push format into buf. Native
// histograms go as they are only in protobuf with native set; otherwise
// (the text format cannot carry them) as classic buckets.
func encodeFamilies(buf *bytes.Buffer, fams []*dto.MetricFamily, format PushFormat, native bool) error {
	if format == FormatText || !native {
		fams = withClassicHistograms(fams)
	}
	enc := expfmt.NewEncoder(buf, format.expfmtFormat())
	for _, mf := range fams {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("encoding metric family %q as %s: %w", mf.GetName(), format, err)
		}
	}
	return nil
}
