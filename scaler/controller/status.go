package controller

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

func equalStatus(a, b *v1alpha1.RedisReplicationGroupStatus) bool {
	return equality.Semantic.DeepEqual(a, b)
}

// joinMax joins at most n items, noting how many were left out.
func joinMax(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(items[:n], "; "), len(items)-n)
}
