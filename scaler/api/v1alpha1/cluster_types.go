package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RedisClusterSpec is the desired state of a Redis Cluster: how many
// shards (masters with their hash slots), and replicas per shard.
type RedisClusterSpec struct {
	// StatefulSetName is the user's existing StatefulSet of
	// `cluster-enabled yes` Redis servers in the same namespace. The
	// scaler sets its replica count to shards × (1 + replicasPerShard):
	// shard k is the pods with ordinals k×(1+replicasPerShard) up to the
	// next shard's first, so removing the last shard removes the highest
	// ordinals, as a StatefulSet shrinks.
	// +kubebuilder:validation:MinLength=1
	StatefulSetName string `json:"statefulSetName"`
	// Shards is the wanted number of shards, written by the HPA or
	// `kubectl scale rcluster/x --replicas=n` through the scale
	// subresource.
	// +kubebuilder:validation:Minimum=1
	// +optional
	Shards *int32 `json:"shards,omitempty"`
	// MinShards is a floor for Shards.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +optional
	MinShards int32 `json:"minShards,omitempty"`
	// ReplicasPerShard: replicas attached to each shard's master.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +optional
	ReplicasPerShard *int32 `json:"replicasPerShard,omitempty"`
	// Port Redis listens on in every pod; the cluster bus is Port+10000
	// unless the nodes announce another.
	// +kubebuilder:default=6379
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=55535
	// +optional
	Port int32 `json:"port,omitempty"`
	// Auth: password and ACL user (also what a source master logs in to
	// the destination with for MIGRATE).
	// +optional
	Auth *AuthSpec `json:"auth,omitempty"`
	// TLS for connections to Redis.
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`
	// Migration bounds online resharding.
	// +optional
	Migration MigrationSpec `json:"migration,omitempty"`
}

// MigrationSpec bounds how slots move between shards.
type MigrationSpec struct {
	// MaxConcurrent is the most slots migrating at once (each between its
	// own pair of masters' connections).
	// +kubebuilder:default=4
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=64
	// +optional
	MaxConcurrent int32 `json:"maxConcurrent,omitempty"`
	// KeysPerBatch: keys per MIGRATE.
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=1
	// +optional
	KeysPerBatch int32 `json:"keysPerBatch,omitempty"`
	// WaitReplicas: after each batch, the destination's replicas (up to
	// this many) must have the keys before the next, so a destination
	// lost right after a batch does not take the only copy. Default: 1
	// when the cluster has replicas.
	// +kubebuilder:validation:Minimum=0
	// +optional
	WaitReplicas *int32 `json:"waitReplicas,omitempty"`
}

// Condition types of a RedisCluster (Ready and Degraded as for groups).
const (
	// ConditionResharding: slots are moving between shards, or the
	// StatefulSet is being resized.
	ConditionResharding = "Resharding"
)

// RedisClusterStatus is what the scaler last observed and did.
type RedisClusterStatus struct {
	// Replicas is the StatefulSet's current pod count.
	// +optional
	Replicas int32 `json:"replicas"`
	// Shards counts masters that own slots.
	// +optional
	Shards int32 `json:"shards"`
	// ReadyShards counts shards whose master owns its even share of slots
	// and has every replica attached and in sync, with the cluster ok.
	// +optional
	ReadyShards int32 `json:"readyShards"`
	// Selector is the StatefulSet's pod selector as a string (for the HPA
	// through /scale).
	// +optional
	Selector string `json:"selector,omitempty"`
	// ShardStatuses: one per shard, in shard order.
	// +listType=atomic
	// +optional
	ShardStatuses []ShardStatus `json:"shardStatuses,omitempty"`
	// Migrations: slots still to move and moving now.
	// +optional
	Migrations MigrationStatus `json:"migrations,omitempty"`
	// ObservedGeneration is the spec generation this status is about.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Resharding, Degraded.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ShardStatus is one shard.
type ShardStatus struct {
	// Index of the shard (its pods' ordinals start at index×(1+replicasPerShard)).
	Index int32 `json:"index"`
	// Master is the pod that is the shard's master, and NodeID its
	// cluster node ID.
	// +optional
	Master string `json:"master,omitempty"`
	// +optional
	NodeID string `json:"nodeID,omitempty"`
	// Slots the master owns.
	Slots int32 `json:"slots"`
	// Replicas attached to the master and in sync.
	Replicas int32 `json:"replicas"`
}

// MigrationStatus is the resharding in progress.
type MigrationStatus struct {
	// Pending slots the plan still has to move.
	// +optional
	Pending int32 `json:"pending"`
	// InProgress slots moving right now (at most maxConcurrent).
	// +optional
	InProgress int32 `json:"inProgress"`
	// SlotsMoved and KeysMoved count every slot and key this scaler moved
	// for the cluster since it was created.
	// +optional
	SlotsMoved int64 `json:"slotsMoved,omitempty"`
	// +optional
	KeysMoved int64 `json:"keysMoved,omitempty"`
	// LastCompletionTime: when a resharding last finished.
	// +optional
	LastCompletionTime *metav1.Time `json:"lastCompletionTime,omitempty"`
}

// RedisCluster manages the shard count of a Redis Cluster: slots spread
// evenly over the masters, moved online when shards are added or removed.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=rcluster
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.shards,statuspath=.status.shards,selectorpath=.status.selector
// +kubebuilder:printcolumn:name="StatefulSet",type=string,JSONPath=`.spec.statefulSetName`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.spec.shards`
// +kubebuilder:printcolumn:name="Shards",type=integer,JSONPath=`.status.shards`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyShards`
// +kubebuilder:printcolumn:name="Pending",type=integer,JSONPath=`.status.migrations.pending`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RedisCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RedisClusterSpec   `json:"spec,omitempty"`
	Status RedisClusterStatus `json:"status,omitempty"`
}

// RedisClusterList is a list of clusters.
//
// +kubebuilder:object:root=true
type RedisClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RedisCluster `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RedisCluster{}, &RedisClusterList{})
}
