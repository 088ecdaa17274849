package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Addressing says how replicas are told to reach their master.
// +kubebuilder:validation:Enum=dns;ip
type Addressing string

const (
	// AddressingDNS uses the pod's stable name under the StatefulSet's
	// headless Service (<pod>.<service>.<namespace>.svc.<clusterDomain>).
	AddressingDNS Addressing = "dns"
	// AddressingIP uses the pod IP (no cluster DNS needed; a restarted pod
	// on a new IP is re-attached by the next reconcile).
	AddressingIP Addressing = "ip"
)

// SecretKeyRef names one key of a Secret in the group's namespace.
type SecretKeyRef struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key in the Secret's data.
	// +kubebuilder:default=password
	// +optional
	Key string `json:"key,omitempty"`
}

// AuthSpec is how the scaler (and replicas, through masterauth) log in.
type AuthSpec struct {
	// PasswordSecretRef holds the Redis password (requirepass or the ACL
	// user's password).
	// +optional
	PasswordSecretRef *SecretKeyRef `json:"passwordSecretRef,omitempty"`
	// Username is the ACL user (Redis >= 6); empty means "default".
	// Replicas get it as masteruser.
	// +optional
	Username string `json:"username,omitempty"`
}

// TLSSpec turns on TLS for the scaler's connections to Redis.
type TLSSpec struct {
	// Enabled connects to Redis over TLS.
	Enabled bool `json:"enabled"`
	// CASecretRef holds the PEM CA that signed the Redis certificates
	// (key default ca.crt). Empty: the system roots.
	// +optional
	CASecretRef *SecretKeyRef `json:"caSecretRef,omitempty"`
	// ClientCertSecretRef names a kubernetes.io/tls Secret (tls.crt,
	// tls.key) presented to Redis when it requires client certificates.
	// +optional
	ClientCertSecretName string `json:"clientCertSecretName,omitempty"`
	// ServerName to verify the Redis certificate against. Default: the
	// address connected to.
	// +optional
	ServerName string `json:"serverName,omitempty"`
	// InsecureSkipVerify skips certificate verification (tests only).
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// SwitchoverSpec bounds a planned master change.
type SwitchoverSpec struct {
	// WritePauseTimeout is the longest the master's writes stay paused
	// while the new master catches up; past it the switchover is aborted
	// and writes resume on the old master.
	// +kubebuilder:default="2s"
	// +optional
	WritePauseTimeout *metav1.Duration `json:"writePauseTimeout,omitempty"`
	// MaxLagBytes: a replica further behind the master than this is not a
	// switchover candidate (its catch-up would not fit in the pause).
	// +kubebuilder:default=1048576
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxLagBytes *int64 `json:"maxLagBytes,omitempty"`
}

// SentinelSpec makes the scaler defer master election to Redis Sentinel.
type SentinelSpec struct {
	// Address of one Sentinel, host:port.
	// +kubebuilder:validation:MinLength=1
	Address string `json:"address"`
	// MasterName the Sentinels monitor the group as.
	// +kubebuilder:validation:MinLength=1
	MasterName string `json:"masterName"`
	// PasswordSecretRef holds the Sentinel's own password (its
	// requirepass), when it has one.
	// +optional
	PasswordSecretRef *SecretKeyRef `json:"passwordSecretRef,omitempty"`
}

// RedisReplicationGroupSpec is the desired state of a group.
type RedisReplicationGroupSpec struct {
	// StatefulSetName is the user's existing Redis StatefulSet in the same
	// namespace. The scaler manages its replica count and the Redis
	// topology of its pods but does not create it.
	// +kubebuilder:validation:MinLength=1
	StatefulSetName string `json:"statefulSetName"`
	// Replicas is the wanted number of pods (master included), written by
	// the HPA or `kubectl scale` through the scale subresource. Empty:
	// the StatefulSet's count is left as it is, but /scale then fails
	// (Kubernetes reads this field for it): set it, e.g. to the
	// StatefulSet's replicas, when an HPA targets the group.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// MinReplicas is a floor for Replicas.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +optional
	MinReplicas int32 `json:"minReplicas,omitempty"`
	// Port Redis listens on in every pod.
	// +kubebuilder:default=6379
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`
	// Auth: password and ACL user.
	// +optional
	Auth *AuthSpec `json:"auth,omitempty"`
	// TLS for connections to Redis.
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`
	// Addressing: how replicas reach the master (dns or ip).
	// +kubebuilder:default=dns
	// +optional
	Addressing Addressing `json:"addressing,omitempty"`
	// ClusterDomain used to build DNS addresses.
	// +kubebuilder:default=cluster.local
	// +optional
	ClusterDomain string `json:"clusterDomain,omitempty"`
	// MaxConcurrentSyncs is the most replicas in initial sync at once, so a
	// large scale-up does not start every full sync on the master together.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxConcurrentSyncs int32 `json:"maxConcurrentSyncs,omitempty"`
	// Switchover limits.
	// +optional
	Switchover SwitchoverSpec `json:"switchover,omitempty"`
	// Sentinel, when set, is the authority on the master: switchovers use
	// SENTINEL FAILOVER.
	// +optional
	Sentinel *SentinelSpec `json:"sentinel,omitempty"`
}

// Condition types of a group.
const (
	// ConditionReady: one master, every running pod attached and in sync.
	ConditionReady = "Ready"
	// ConditionScaling: the StatefulSet or the topology is being changed.
	ConditionScaling = "Scaling"
	// ConditionDegraded: something needs attention (no master, a blocked
	// scale-down, unreachable pods).
	ConditionDegraded = "Degraded"
	// ConditionGuaranteed: the StatefulSet has what the no-lost-writes
	// guarantee needs (placeholder, preStop, OnDelete), as far as the
	// scaler can read; False names what is missing.
	ConditionGuaranteed = "Guaranteed"
	// ConditionTopologyHeld: the scaler leaves the topology alone (no
	// promotion, attach, scaling or switchover) because something else
	// holds it, e.g. a restore (AnnotationHoldUntil).
	ConditionTopologyHeld = "TopologyHeld"
)

// Annotations others set on a group for the scaler.
const (
	// AnnotationHoldUntil (an RFC 3339 time) asks the scaler to hold the
	// group's topology until then; it acknowledges with the TopologyHeld
	// condition, whose message carries the same time. A hold past its time
	// is ignored, so a crashed holder cannot freeze a group for good.
	AnnotationHoldUntil = "redisautoscaler.io/hold-until"
	// AnnotationHoldReason says who holds it and why (shown in the
	// condition).
	AnnotationHoldReason = "redisautoscaler.io/hold-reason"
)

// RedisReplicationGroupStatus is what the scaler last observed and did.
type RedisReplicationGroupStatus struct {
	// Replicas is the StatefulSet's current replica count.
	// +optional
	Replicas int32 `json:"replicas"`
	// ReadyReplicas counts pods that are the master or a replica attached
	// to it and in sync.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`
	// Selector is the StatefulSet's pod selector as a string (for the HPA).
	// +optional
	Selector string `json:"selector,omitempty"`
	// Master is the name of the master pod.
	// +optional
	Master string `json:"master,omitempty"`
	// MasterRunID is the master's run_id when last seen: a master whose
	// run_id changed restarted, and is not followed if it came back empty.
	// +optional
	MasterRunID string `json:"masterRunID,omitempty"`
	// LastSwitchoverTime is when the scaler last moved the master (its own
	// switchover or a Sentinel failover it asked for).
	// +optional
	LastSwitchoverTime *metav1.Time `json:"lastSwitchoverTime,omitempty"`
	// ObservedGeneration is the spec generation this status is about.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Scaling, Degraded.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Backup is what `redis-autoscaler backup --group` last recorded.
	// +optional
	Backup *BackupStatus `json:"backup,omitempty"`
}

// BackupStatus records the group's backups (written by the backup
// command, exported by the scaler as redis_autoscaler_last_backup_* and
// redis_autoscaler_backups_total).
type BackupStatus struct {
	// LastSuccessTime is when the newest good backup finished.
	// +optional
	LastSuccessTime *metav1.Time `json:"lastSuccessTime,omitempty"`
	// LastFile is that backup's file name.
	// +optional
	LastFile string `json:"lastFile,omitempty"`
	// LastSizeBytes and LastKeys describe it.
	// +optional
	LastSizeBytes int64 `json:"lastSizeBytes,omitempty"`
	// +optional
	LastKeys int64 `json:"lastKeys,omitempty"`
	// LastFailureTime and LastFailure: the newest failed attempt.
	// +optional
	LastFailureTime *metav1.Time `json:"lastFailureTime,omitempty"`
	// +optional
	LastFailure string `json:"lastFailure,omitempty"`
	// Succeeded and Failed count attempts.
	// +optional
	Succeeded int64 `json:"succeeded,omitempty"`
	// +optional
	Failed int64 `json:"failed,omitempty"`
}

// RedisReplicationGroup manages the replica count and the master/replica
// topology of a Redis StatefulSet.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=rrg
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:printcolumn:name="StatefulSet",type=string,JSONPath=`.spec.statefulSetName`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.status.replicas`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Master",type=string,JSONPath=`.status.master`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RedisReplicationGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RedisReplicationGroupSpec   `json:"spec,omitempty"`
	Status RedisReplicationGroupStatus `json:"status,omitempty"`
}

// RedisReplicationGroupList is a list of groups.
//
// +kubebuilder:object:root=true
type RedisReplicationGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RedisReplicationGroup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RedisReplicationGroup{}, &RedisReplicationGroupList{})
}
