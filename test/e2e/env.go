// Package e2e runs the whole product loop in the local control plane
// (test/cluster): it installs deploy/base and the example group as a user
// would, drives load against the group, and watches the HPA, the group and
// its pods. The end-to-end tests and `make run` (hack/demo) use it.
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/manifests"
)

// Where the example group lives (deploy/examples/redis-group).
const (
	Namespace = "redis"
	Group     = "cache"
	System    = "redis-autoscaler"
)

var groupGVR = schema.GroupVersionResource{Group: "redisautoscaler.io", Version: "v1alpha1", Resource: "redisreplicationgroups"}

// Options change what a user would change for a demo or a test; the rest
// is the shipped manifests.
type Options struct {
	// Replicas the group starts with; MinReplicas and MaxReplicas bound
	// the HPA.
	Replicas, MinReplicas, MaxReplicas int32
	// Metrics replace the example HPA's metrics (nil: keep them).
	Metrics []autoscalingv2.MetricSpec
	// ScaleDownWindow replaces the HPA's scale-down stabilisation (the
	// example's 300 s is too long for a demo).
	ScaleDownWindow time.Duration
	// AdapterArgs are appended to the adapter's args, e.g. a shorter
	// --interval and --window so that ops/s follows load within seconds.
	AdapterArgs []string
	// Progress reports each step (nil: silent).
	Progress func(format string, args ...any)
	// SingleNode fits the examples on one real node: the Redis pods ask
	// for 50m CPU instead of 250m (a 2-core node holds the group, the
	// cluster and the product), and the cluster's required anti-affinity
	// (each copy of a shard on a node of its own) is dropped. The pod
	// runner ignores both.
	SingleNode bool
}

// Env is the installed product and the example group.
type Env struct {
	C        *cluster.Cluster
	Dyn      dynamic.Interface
	Password string
	opts     Options
}

// Install applies deploy/base and deploy/examples/redis-group (with the
// Options' changes, and IP addressing on the pod runner, which has no
// cluster DNS), the Secrets the README asks for, and waits until the
// group has converged and the custom metrics API is Available.
func Install(ctx context.Context, c *cluster.Cluster, o Options) (*Env, error) {
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	pw := make([]byte, 16)
	_, _ = rand.Read(pw)
	e := &Env{C: c, Dyn: dyn, Password: hex.EncodeToString(pw), opts: o}

	start := time.Now()
	base, err := manifests.Render(manifests.Base)
	if err != nil {
		return nil, err
	}
	setup, rest := manifests.Split(base)
	if err := c.ServerSideApply(ctx, setup, false); err != nil {
		return nil, err
	}
	if err := e.createSecret(ctx, System, "redis-autoscaler-redis-auth", map[string]string{"password": e.Password}); err != nil {
		return nil, err
	}
	for _, obj := range rest {
		if obj.GetKind() == "Deployment" && obj.GetName() == "redis-autoscaler-adapter" && len(o.AdapterArgs) > 0 {
			if err := appendArgs(obj, o.AdapterArgs); err != nil {
				return nil, err
			}
		}
	}
	if err := c.ServerSideApply(ctx, rest, false); err != nil {
		return nil, err
	}
	progress("installed deploy/base (%d objects)", len(base))

	example, err := manifests.Render(manifests.Example)
	if err != nil {
		return nil, err
	}
	exSetup, exRest := manifests.Split(example)
	if err := c.ServerSideApply(ctx, exSetup, false); err != nil {
		return nil, err
	}
	if err := e.createSecret(ctx, Namespace, "cache-auth", map[string]string{
		"password":  e.Password,
		"auth.conf": fmt.Sprintf("requirepass %s\nmasterauth %s\n", e.Password, e.Password),
	}); err != nil {
		return nil, err
	}
	for _, obj := range exRest {
		if err := e.adjust(obj); err != nil {
			return nil, err
		}
	}
	if err := c.ServerSideApply(ctx, exRest, false); err != nil {
		return nil, err
	}
	progress("installed deploy/examples/redis-group")

	for _, v := range []string{"v1beta1", "v1beta2"} {
		if err := c.WaitAPIServiceAvailable(ctx, "custom.metrics.k8s.io", v, 2*time.Minute); err != nil {
			return nil, err
		}
	}
	progress("custom.metrics.k8s.io Available (self-managed certificate) after %v", time.Since(start).Round(100*time.Millisecond))
	if err := e.WaitConverged(ctx, o.Replicas, 2*time.Minute); err != nil {
		return nil, err
	}
	progress("group %s/%s converged: %d pods, one master, replicas in sync, after %v", Namespace, Group, o.Replicas, time.Since(start).Round(100*time.Millisecond))
	// kube-controller-manager finds a new CRD's /scale on its next
	// discovery refresh (every 30 s): until then the HPA reports
	// FailedGetScale. Start once it reads metrics.
	if err := e.waitHPAReading(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	progress("the HPA reads our metrics, %v after install began", time.Since(start).Round(100*time.Millisecond))
	return e, nil
}

func (e *Env) waitHPAReading(ctx context.Context, timeout time.Duration) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		hpa, err := e.HPA(ctx)
		if last = err; err != nil {
			return false, nil
		}
		return len(hpa.Status.CurrentMetrics) > 0, nil
	})
	if err != nil {
		return fmt.Errorf("the HPA read no metric in %v: %w (last: %v)", timeout, err, last)
	}
	return nil
}

func (e *Env) createSecret(ctx context.Context, ns, name string, data map[string]string) error {
	if err := e.C.WaitServiceAccount(ctx, ns); err != nil {
		return err
	}
	_, err := e.C.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: data,
	}, metav1.CreateOptions{})
	return err
}

func appendArgs(obj *unstructured.Unstructured, args []string) error {
	containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	cur, _, _ := unstructured.NestedStringSlice(c, "args")
	if err := unstructured.SetNestedStringSlice(c, append(cur, args...), "args"); err != nil {
		return err
	}
	return unstructured.SetNestedSlice(obj.Object, containers, "spec", "template", "spec", "containers")
}

// adjust applies the Options to the example's objects.
func (e *Env) adjust(obj *unstructured.Unstructured) error {
	o := e.opts
	switch obj.GetKind() {
	case "RedisReplicationGroup":
		// The pod runner has no cluster DNS: its replicas would never
		// reach a master by name. On a real node the example runs as
		// shipped.
		if !e.C.RealNode() {
			if err := unstructured.SetNestedField(obj.Object, "ip", "spec", "addressing"); err != nil {
				return err
			}
		}
		if o.Replicas > 0 {
			if err := unstructured.SetNestedField(obj.Object, int64(o.Replicas), "spec", "replicas"); err != nil {
				return err
			}
		}
		if o.MinReplicas > 0 {
			return unstructured.SetNestedField(obj.Object, int64(o.MinReplicas), "spec", "minReplicas")
		}
	case "StatefulSet":
		if o.SingleNode {
			if err := singleNode(obj); err != nil {
				return err
			}
		}
		if o.Replicas > 0 {
			return unstructured.SetNestedField(obj.Object, int64(o.Replicas), "spec", "replicas")
		}
	case "HorizontalPodAutoscaler":
		var hpa autoscalingv2.HorizontalPodAutoscaler
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &hpa); err != nil {
			return err
		}
		if o.MinReplicas > 0 {
			hpa.Spec.MinReplicas = &o.MinReplicas
		}
		if o.MaxReplicas > 0 {
			hpa.Spec.MaxReplicas = o.MaxReplicas
		}
		if o.Metrics != nil {
			hpa.Spec.Metrics = o.Metrics
		}
		if o.ScaleDownWindow > 0 && hpa.Spec.Behavior != nil && hpa.Spec.Behavior.ScaleDown != nil {
			w := int32(o.ScaleDownWindow.Seconds())
			hpa.Spec.Behavior.ScaleDown.StabilizationWindowSeconds = &w
			// One pod per 10 s, so that each removal is seen.
			hpa.Spec.Behavior.ScaleDown.Policies = []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 10}}
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&hpa)
		if err != nil {
			return err
		}
		obj.Object = m
		obj.SetAPIVersion("autoscaling/v2")
		obj.SetKind("HorizontalPodAutoscaler")
		unstructured.RemoveNestedField(obj.Object, "status")
		unstructured.RemoveNestedField(obj.Object, "metadata", "creationTimestamp")
	}
	return nil
}

// Pods returns the group's pods by name.
func (e *Env) Pods(ctx context.Context) ([]corev1.Pod, error) {
	list, err := e.C.Client.CoreV1().Pods(Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + Group})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// Roles counts the group's pods by role label: master, synced replicas and
// the rest.
func Roles(pods []corev1.Pod) (master *corev1.Pod, synced []*corev1.Pod, other int) {
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil {
			other++
			continue
		}
		switch {
		case p.Labels["redisautoscaler.io/role"] == "master":
			if master != nil {
				other++ // a second master label: not converged
				continue
			}
			master = p
		case p.Labels["redisautoscaler.io/role"] == "replica" && p.Labels["redisautoscaler.io/synced"] == "true":
			synced = append(synced, p)
		default:
			other++
		}
	}
	return master, synced, other
}

// WaitConverged waits for n pods: one master and n-1 synced replicas.
func (e *Env) WaitConverged(ctx context.Context, n int32, timeout time.Duration) error {
	last := ""
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		pods, err := e.Pods(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		m, synced, other := Roles(pods)
		last = fmt.Sprintf("%d pods, master %v, %d synced, %d other", len(pods), m != nil, len(synced), other)
		return m != nil && len(synced) == int(n)-1 && other == 0 && len(pods) == int(n), nil
	})
	if err == nil {
		return nil
	}
	// Say why pods that are not ready are not (the kubelet's reasons on
	// a real node: image, crash loop, probe), as kubectl describe would.
	var why []string
	if pods, err := e.Pods(ctx); err == nil {
		for i := range pods {
			if !cluster.PodReady(&pods[i]) {
				why = append(why, e.C.PodProblem(ctx, &pods[i]))
			}
		}
	}
	return fmt.Errorf("group not converged to %d pods in %v: %s\n%s", n, timeout, last, strings.Join(why, "\n"))
}

// StopAdapter scales the adapter to 0 (true) or back to 2, as an outage.
func (e *Env) ScaleAdapter(ctx context.Context, replicas int32) error {
	sc, err := e.C.Client.AppsV1().Deployments(System).GetScale(ctx, "redis-autoscaler-adapter", metav1.GetOptions{})
	if err != nil {
		return err
	}
	sc.Spec.Replicas = replicas
	_, err = e.C.Client.AppsV1().Deployments(System).UpdateScale(ctx, "redis-autoscaler-adapter", sc, metav1.UpdateOptions{})
	return err
}

// HPA returns the example group's HPA.
func (e *Env) HPA(ctx context.Context) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	return e.C.Client.AutoscalingV2().HorizontalPodAutoscalers(Namespace).Get(ctx, Group, metav1.GetOptions{})
}

// GroupReplicas is the group's spec.replicas (what the HPA asked).
func (e *Env) GroupReplicas(ctx context.Context) (int32, error) {
	g, err := e.Dyn.Resource(groupGVR).Namespace(Namespace).Get(ctx, Group, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	n, _, err := unstructured.NestedInt64(g.Object, "spec", "replicas")
	return int32(n), err
}

// PodsMetric is an HPA target on one of our per-pod metrics.
func PodsMetric(name, averageValue string) autoscalingv2.MetricSpec {
	q := mustQuantity(averageValue)
	return autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: name},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q},
	}}
}

// Client connects to a pod's Redis by IP with the group's password (no
// retries: a test sees each failure).
func (e *Env) Client(p *corev1.Pod) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: podAddr(p), Password: e.Password, MaxRetries: -1})
}

// podAddr is host:port of a pod's Redis.
func podAddr(p *corev1.Pod) string { return p.Status.PodIP + ":6379" }

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

// singleNode applies Options.SingleNode to a Redis StatefulSet.
func singleNode(obj *unstructured.Unstructured) error {
	unstructured.RemoveNestedField(obj.Object, "spec", "template", "spec", "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
	containers, _, err := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	if err != nil {
		return err
	}
	for _, c := range containers {
		if err := unstructured.SetNestedField(c.(map[string]any), "50m", "resources", "requests", "cpu"); err != nil {
			return err
		}
	}
	return unstructured.SetNestedSlice(obj.Object, containers, "spec", "template", "spec", "containers")
}
