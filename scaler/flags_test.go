package scaler_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/redis-autoscaler/redis-autoscaler/scaler"
)

func TestMainFlags(t *testing.T) {
	var stderr bytes.Buffer
	assert.Equal(t, 0, scaler.Main(context.Background(), []string{"--help"}, io.Discard, &stderr))
	for _, flag := range []string{"--kubeconfig", "--metrics-bind-address", "--health-probe-bind-address", "--leader-elect",
		"--leader-election-namespace", "--namespace", "--log-format"} {
		assert.Contains(t, stderr.String(), flag)
	}
	stderr.Reset()
	assert.Equal(t, 2, scaler.Main(context.Background(), []string{"--log-format", "xml"}, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "xml")
	assert.Equal(t, 2, scaler.Main(context.Background(), []string{"--no-such-flag"}, io.Discard, io.Discard))
}
