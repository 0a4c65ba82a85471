package testbatch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFuzzBatchEncoding checks that the seed encoder is the decoder's
// inverse, so that the seeds are the batches they say.
func TestFuzzBatchEncoding(t *testing.T) {
	for i, b := range FuzzSeeds() {
		got := DecodeFuzzBatch(b.Encode())
		// NaN != NaN: compare the printed forms, which show NaN as NaN.
		require.Equal(t, b.String(), got.String(), "seed %d", i)
		require.Equal(t, b.Encode(), got.Encode(), "seed %d", i)
	}
}
