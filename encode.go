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

// encodeFamilies writes families in the push format into buf with
// expfmt. Native histograms go as they are only in protobuf with native
// set; otherwise (the text format cannot carry them) as classic buckets.
func encodeFamilies(buf *bytes.Buffer, fams []*dto.MetricFamily, format PushFormat, native bool) error {
	if format == FormatText || !native {
		fams = withClassicHistograms(fams)
	}
	return encodeFamiliesExpfmt(buf, fams, format)
}

// encodeGroup writes the group's state in the push format into buf,
// straight from the state (writeGroupDelimited, writeGroupText), or, for a
// state those writers do not handle, from a snapshot with expfmt. The names
// are legacy Prometheus names (the escaping translation strategies are the
// only ones taken), which both write as they are.
func encodeGroup(buf *bytes.Buffer, g *groupState, format PushFormat, native bool) error {
	g.mu.Lock()
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
	fams := g.snapshotLocked()
	g.mu.Unlock()
	return encodeFamilies(buf, fams, format, native)
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
