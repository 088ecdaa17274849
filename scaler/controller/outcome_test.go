package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestJoinMax(t *testing.T) {
	assert.Equal(t, "a; b", JoinMax([]string{"a", "b"}, 2))
	assert.Equal(t, "a; b; and 1 more", JoinMax([]string{"a", "b", "c"}, 2))
}
