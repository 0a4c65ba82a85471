package exposition // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"

import (
	"bytes"
	"fmt"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// Format is the encoding of a push body.
type Format uint8

// The push body formats the Pushgateway takes.
const (
	// Protobuf is length-delimited io.prometheus.client.MetricFamily
	// messages.
	Protobuf Format = iota
	// Text is the Prometheus text exposition format 0.0.4.
	Text
)

// Content types of push bodies, exactly as the Pushgateway matches them.
const (
	contentTypeProtobuf = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
	contentTypeText     = "text/plain; version=0.0.4; charset=utf-8"
)

// String names the format as the configuration does.
func (f Format) String() string {
	if f == Text {
		return "text"
	}
	return "protobuf"
}

// ContentType is the Content-Type of a body in the format.
func (f Format) ContentType() string {
	if f == Text {
		return contentTypeText
	}
	return contentTypeProtobuf
}

func (f Format) expfmtFormat() expfmt.Format {
	if f == Text {
		return expfmt.NewFormat(expfmt.TypeTextPlain)
	}
	return expfmt.NewFormat(expfmt.TypeProtoDelim)
}

// Encoder writes a group's families as a push body.
type Encoder struct {
	Format Format
	// Native sends native histograms as they are (protobuf only);
	// otherwise, and always in text, as classic buckets.
	Native bool
}

// Encode writes fams, a group's families sorted by name, into buf:
// straight from the state where the direct writers handle what it holds,
// otherwise from a snapshot with expfmt. The names are legacy Prometheus
// names (the escaping translation strategies are the only ones taken),
// which both write as they are.
func (e Encoder) Encode(buf *bytes.Buffer, fams []prom.FamilyView) error {
	written := false
	if e.Format == Text {
		written = writeText(buf, fams)
	} else {
		written = writeProtobuf(buf, fams, e.Native)
	}
	if written {
		return nil
	}
	return e.EncodeFamilies(buf, Snapshot(fams))
}

// EncodeFamilies writes families in the push format into buf with
// expfmt. Native histograms go as they are only in protobuf with Native
// set; otherwise (the text format cannot carry them) as classic buckets.
func (e Encoder) EncodeFamilies(buf *bytes.Buffer, fams []*dto.MetricFamily) error {
	if e.Format == Text || !e.Native {
		fams = withClassicHistograms(fams)
	}
	enc := expfmt.NewEncoder(buf, e.Format.expfmtFormat())
	for _, mf := range fams {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("encoding metric family %q as %s: %w", mf.GetName(), e.Format, err)
		}
	}
	return nil
}
