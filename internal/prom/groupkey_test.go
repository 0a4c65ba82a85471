package prom

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGroupKeyIDsDoNotCollide(t *testing.T) {
	a := GroupKey{{JobLabel, "a"}, {InstanceLabel, "b"}}
	b := GroupKey{{JobLabel, "a\xffinstance"}, {InstanceLabel, "b"}}
	c := GroupKey{{JobLabel, "a"}, {"instanceb", ""}}
	assert.NotEqual(t, a.ID(), b.ID())
	assert.NotEqual(t, a.ID(), c.ID())
	// That b's push URL parses is the gateway's to check (its
	// TestGroupKeyURLPathParses): the URL path is made there.
}
