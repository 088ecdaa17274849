package podcache

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

// A pod as clusters hold them: two containers, env, probes, volumes,
// several labels and annotations, managed fields, conditions.
func typicalPod(i int) *corev1.Pod {
	mem := resource.MustParse("256Mi")
	container := func(name string) corev1.Container {
		return corev1.Container{
			Name: name, Image: "registry.example.com/team/" + name + ":1.2.3",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			Env:   []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "REGION", Value: "eu-west-1"}, {Name: "FEATURE_FLAGS", Value: "a,b,c,d"}},
			Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceMemory: mem, corev1.ResourceCPU: resource.MustParse("500m")},
				Requests: corev1.ResourceList{corev1.ResourceMemory: mem, corev1.ResourceCPU: resource.MustParse("100m")},
			},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}},
			VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app"}, {Name: "token", MountPath: "/var/run/secrets"}},
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("web-%d", i), Namespace: "apps", UID: "uid",
			Labels:      map[string]string{"app": "web", "tier": "frontend", "pod-template-hash": "7d9f8c6b5", "team": "payments"},
			Annotations: map[string]string{"prometheus.io/scrape": "true", "kubectl.kubernetes.io/restartedAt": "2026-11-30T10:00:00Z", "checksum/config": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: "Update", APIVersion: "v1",
				FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{".":{},"f:app":{},"f:tier":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}`)}}},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8c6b5", UID: "rs"}},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{container("web"), container("sidecar")},
			Volumes:    []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web"}}}}},
			NodeName:   "node-1", ServiceAccountName: "web",
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.1.%d.%d", i/250, i%250),
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: corev1.ContainersReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Ready: true, Image: "registry.example.com/team/web:1.2.3", ImageID: "sha256:abc", ContainerID: "containerd://abc"},
				{Name: "sidecar", Ready: true, Image: "registry.example.com/team/sidecar:1.2.3", ImageID: "sha256:def", ContainerID: "containerd://def"}},
		},
	}
}

// What the adapter reads survives; the rest is gone.
func TestStrip(t *testing.T) {
	p := typicalPod(7)
	now := metav1.Now()
	p.DeletionTimestamp = &now
	got, err := Strip(p)
	require.NoError(t, err)
	s := got.(*corev1.Pod)
	assert.Equal(t, p.Name, s.Name)
	assert.Equal(t, p.Namespace, s.Namespace)
	assert.Equal(t, p.Labels, s.Labels, "selectors need labels")
	assert.Equal(t, p.DeletionTimestamp, s.DeletionTimestamp)
	assert.Equal(t, p.Status.Phase, s.Status.Phase)
	assert.Equal(t, p.Status.PodIP, s.Status.PodIP)
	require.Len(t, s.Spec.Containers, 1, "the first container only: no other may be Redis")
	assert.Equal(t, "web", s.Spec.Containers[0].Name)
	assert.Equal(t, p.Spec.Containers[0].Image, s.Spec.Containers[0].Image)
	assert.Empty(t, s.Spec.Containers[0].Ports, "no port that may be Redis'")
	limit := s.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory]
	assert.Equal(t, "256Mi", limit.String())
	assert.Len(t, s.Spec.Containers[0].Resources.Limits, 1, "only the memory limit")
	assert.Empty(t, s.Annotations)
	assert.Empty(t, s.ManagedFields)
	assert.Empty(t, s.Spec.Containers[0].Env)
	assert.Empty(t, s.Spec.Volumes)
	assert.Empty(t, s.Status.ContainerStatuses)

	// A Redis pod keeps what the port and memory rules read, with the same
	// answers.
	r := typicalPod(1)
	r.Spec.Containers[1].Name, r.Spec.Containers[1].Image = "cache", "redis:7"
	r.Spec.Containers[1].Ports = append(r.Spec.Containers[1].Ports, corev1.ContainerPort{Name: "redis", ContainerPort: 7000})
	got, err = Strip(r)
	require.NoError(t, err)
	s = got.(*corev1.Pod)
	require.Len(t, s.Spec.Containers, 2)
	assert.Equal(t, []corev1.ContainerPort{{Name: "redis", ContainerPort: 7000}}, s.Spec.Containers[1].Ports)
	assert.Equal(t, "redis:7", s.Spec.Containers[1].Image)

	tomb := cache.DeletedFinalStateUnknown{Key: "apps/web-1", Obj: p}
	out, err := Strip(tomb)
	require.NoError(t, err)
	assert.Equal(t, tomb, out)
}

// BenchmarkPodCache reports the heap a pod informer keeps per pod, for
// pods like typicalPod, with and without Strip.
func BenchmarkPodCache(b *testing.B) {
	const n = 4500
	for _, strip := range []bool{false, true} {
		b.Run(fmt.Sprintf("strip=%v", strip), func(b *testing.B) {
			for b.Loop() {
				objs := make([]any, 0, n)
				for i := range n {
					objs = append(objs, typicalPod(i))
				}
				client := fake.NewClientset()
				for _, o := range objs {
					_, err := client.CoreV1().Pods("apps").Create(context.Background(), o.(*corev1.Pod), metav1.CreateOptions{})
					require.NoError(b, err)
				}
				objs = nil
				before := heap()
				factory := informers.NewSharedInformerFactory(client, 0)
				inf := factory.Core().V1().Pods().Informer()
				if strip {
					require.NoError(b, inf.SetTransform(Strip))
				}
				stop := make(chan struct{})
				factory.Start(stop)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				require.True(b, cache.WaitForCacheSync(ctx.Done(), inf.HasSynced))
				cancel()
				after := heap()
				b.ReportMetric(float64(after-before)/n/1024, "KiB/pod")
				require.Len(b, inf.GetStore().List(), n)
				close(stop)
				factory.Shutdown()
			}
		})
	}
}

func heap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
