package clusterplan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRestartGaps(t *testing.T) {
	tests := []struct {
		name    string
		masters []Persistence
		want    []string
	}{
		{"AOF fsynced on every write", []Persistence{{"rc-0", "yes", "always"}, {"rc-2", "yes", "always"}}, nil},
		{"the example: AOF every second", []Persistence{{"rc-0", "yes", "everysec"}, {"rc-2", "yes", "everysec"}},
			[]string{"appendfsync everysec: the writes since the last fsync (about a second) (rc-0, rc-2)"}},
		{"RDB only on one master", []Persistence{{"rc-2", "no", "everysec"}, {"rc-0", "yes", "always"}},
			[]string{"appendonly no: everything since the last RDB snapshot (all of it without one) (rc-2)"}},
		{"unread configuration is not judged", []Persistence{{"rc-0", "", ""}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, RestartGaps(tt.masters))
		})
	}
}
