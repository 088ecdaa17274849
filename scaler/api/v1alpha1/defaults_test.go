package v1alpha1

import "testing"

func TestClusterSpecDefaults(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	for name, tc := range map[string]struct {
		spec        RedisClusterSpec
		stsReplicas int32
		shards      int
		wait        int
	}{
		"empty: one replica per shard, shards from the pods": {spec: RedisClusterSpec{}, stsReplicas: 6, shards: 3, wait: 1},
		"spec.shards wins over the pods":                     {spec: RedisClusterSpec{Shards: i32(4)}, stsReplicas: 6, shards: 4, wait: 1},
		"minShards is a floor":                               {spec: RedisClusterSpec{Shards: i32(2), MinShards: 3}, shards: 3, wait: 1},
		"never below one shard":                              {spec: RedisClusterSpec{}, stsReplicas: 0, shards: 1, wait: 1},
		"no replicas: nothing to wait for":                   {spec: RedisClusterSpec{ReplicasPerShard: i32(0)}, stsReplicas: 2, shards: 2, wait: 0},
		"waitReplicas capped by the replicas there are":      {spec: RedisClusterSpec{ReplicasPerShard: i32(1), Migration: MigrationSpec{WaitReplicas: i32(3)}}, stsReplicas: 4, shards: 2, wait: 1},
		"waitReplicas 0 turns the wait off":                  {spec: RedisClusterSpec{ReplicasPerShard: i32(2), Migration: MigrationSpec{WaitReplicas: i32(0)}}, stsReplicas: 9, shards: 3, wait: 0},
	} {
		t.Run(name, func(t *testing.T) {
			if got := tc.spec.WantShards(tc.stsReplicas); got != tc.shards {
				t.Errorf("WantShards(%d) = %d, want %d", tc.stsReplicas, got, tc.shards)
			}
			if got := tc.spec.ReplicaWait(); got != tc.wait {
				t.Errorf("ReplicaWait() = %d, want %d", got, tc.wait)
			}
		})
	}
}
