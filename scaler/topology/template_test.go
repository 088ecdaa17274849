package topology

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTemplateGaps(t *testing.T) {
	const placeholder, preStop, onDelete = "placeholder", "preStop", "OnDelete"
	tests := []struct {
		name string
		tmpl Template
		want []string // which fixes are named
		ph   Placeholder
	}{
		{"the example: config file, preStop, OnDelete", Template{OnDelete: true, PreStop: true, Args: []string{"/etc/redis/conf/redis.conf"}}, nil, PlaceholderUnknown},
		{"everything in the args", Template{OnDelete: true, PreStop: true, Args: []string{"redis-server", "--replicaof", "127.0.0.1", "1"}}, nil, PlaceholderSet},
		{"placeholder in one token", Template{OnDelete: true, PreStop: true, Args: []string{"--replicaof 127.0.0.1 1"}}, nil, PlaceholderSet},
		{"the old name", Template{OnDelete: true, PreStop: true, Args: []string{"--slaveof", "127.0.0.1", "1"}}, nil, PlaceholderSet},
		{"a plain StatefulSet", Template{Args: []string{"--appendonly", "yes"}}, []string{placeholder, preStop}, PlaceholderMissing},
		{"a real master is no placeholder", Template{OnDelete: true, PreStop: true, Args: []string{"--replicaof", "10.0.0.1", "6379"}}, []string{placeholder}, PlaceholderMissing},
		// The scaler paces RollingUpdate through the partition.
		{"RollingUpdate", Template{PreStop: true, Args: []string{"--replicaof", "127.0.0.1", "1"}}, nil, PlaceholderSet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.ph, tt.tmpl.Placeholder())
			gaps := tt.tmpl.Gaps()
			var named []string
			for _, g := range gaps {
				for _, k := range []string{placeholder, preStop, onDelete} {
					if strings.Contains(g, k) {
						named = append(named, k)
					}
				}
			}
			assert.Equal(t, tt.want, named, "%q", gaps)
		})
	}
}
