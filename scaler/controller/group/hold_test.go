package group

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

func TestHold(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		until      string
		wasHeld    bool
		held       bool
		wantStatus metav1.ConditionStatus // "" = no condition
	}{
		{name: "never held"},
		{name: "held", until: "2026-12-01T12:30:00Z", held: true, wantStatus: metav1.ConditionTrue},
		{name: "hold lapsed", until: "2026-12-01T11:59:59Z", wasHeld: true, wantStatus: metav1.ConditionFalse},
		{name: "malformed time holds nothing", until: "tomorrow"},
		{name: "released", wasHeld: true, wantStatus: metav1.ConditionFalse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := &v1alpha1.RedisReplicationGroup{}
			if tc.until != "" {
				g.Annotations = map[string]string{v1alpha1.AnnotationHoldUntil: tc.until, v1alpha1.AnnotationHoldReason: "restore of x.rdb"}
			}
			if tc.wasHeld {
				meta.SetStatusCondition(&g.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionTopologyHeld, Status: metav1.ConditionTrue, Reason: "Held"})
			}
			until, held := g.HoldUntil(now)
			assert.Equal(t, tc.held, held)
			holdCondition(g, until, held)
			c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionTopologyHeld)
			if tc.wantStatus == "" {
				assert.Nil(t, c)
				return
			}
			if assert.NotNil(t, c) {
				assert.Equal(t, tc.wantStatus, c.Status)
				if held {
					assert.Equal(t, "held until 2026-12-01T12:30:00Z: restore of x.rdb", c.Message)
					assert.Equal(t, c.Message, v1alpha1.HoldMessage(until, "restore of x.rdb"))
				}
			}
		})
	}
}
