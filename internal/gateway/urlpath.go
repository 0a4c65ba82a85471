package gateway // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"

import (
	"encoding/base64"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// urlPath is the part of the push URL after /metrics/: name/value pairs,
// each value either path-escaped or, when it cannot travel literally as one
// path segment, base64url-encoded behind a name@base64 segment.
func urlPath(k prom.GroupKey) string {
	var b strings.Builder
	for i, l := range k {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(l.Name)
		if needsBase64(l.Value) {
			b.WriteString("@base64/")
			if l.Value == "" {
				// The gateway reads "=" as the empty value; an empty
				// segment would be a malformed path.
				b.WriteByte('=')
			} else {
				b.WriteString(base64.RawURLEncoding.EncodeToString([]byte(l.Value)))
			}
			continue
		}
		b.WriteByte('/')
		b.WriteString(url.PathEscape(l.Value))
	}
	return b.String()
}

// needsBase64 reports whether a value cannot be one literal path segment:
// empty, containing a slash, or a dot segment that path cleaning (in the
// gateway's router or any proxy in front of it) would resolve away.
func needsBase64(v string) bool {
	return v == "" || v == "." || v == ".." || strings.ContainsRune(v, '/') || !utf8.ValidString(v)
}
