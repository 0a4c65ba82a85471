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
// (the text format cannot carry them) as classic buckets. legacyNames says
// every metric and label name is a legacy Prometheus name (the escaping
// translation strategies guarantee it): protobuf is then written by
// writeDelimitedFamilies, which leaves names as they are, instead of
// expfmt, which would escape them.
func encodeFamilies(buf *bytes.Buffer, fams []*dto.MetricFamily, format PushFormat, native, legacyNames bool) error {
	if format == FormatText || !native {
		fams = withClassicHistograms(fams)
	}
	if format == FormatProtobuf && legacyNames {
		if writeDelimitedFamilies(buf, fams) {
			return nil
		}
	}
	return encodeFamiliesExpfmt(buf, fams, format)
}

// encodeGroup writes the group's state in the push format into buf (see
// encodeFamilies): with legacy names straight from the state, in either
// format, otherwise from a snapshot.
func encodeGroup(buf *bytes.Buffer, g *groupState, format PushFormat, native, legacyNames bool) error {
	g.mu.Lock()
	if legacyNames {
		written := false
		if format == FormatText {
			written = writeGroupText(buf, g)
		} else {
			written = writeGroupDelimited(buf, g, native)
		}
		if written {
			g.mu.Unlock()
			return nil
		}
	}
	fams := g.snapshotLocked()
	g.mu.Unlock()
	return encodeFamilies(buf, fams, format, native, legacyNames)
}

// encodeFamiliesExpfmt writes families with expfmt's encoder.
func encodeFamiliesExpfmt(buf *bytes.Buffer, fams []*dto.MetricFamily, format PushFormat) error {
	enc := expfmt.NewEncoder(buf, format.expfmtFormat())
	for _, mf := range fams {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("encoding metric family %q as %s: %w", mf.GetName(), format, err)
		}
	}
	return nil
}
