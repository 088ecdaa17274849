package cluster

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// containerEnv resolves the container's environment as a kubelet does:
// envFrom first, then env (later wins), with $(VAR) references to earlier
// variables expanded. Supported sources: value, secretKeyRef,
// configMapKeyRef, fieldRef (name, namespace, uid, labels/annotations,
// nodeName, serviceAccountName, podIP(s), hostIP(s)), resourceFieldRef
// (limits and requests of cpu and memory; an unset limit is the host's
// capacity, as the node's allocatable would be).
func (r *PodRunner) containerEnv(ctx context.Context, pod *corev1.Pod, st *podState, c *corev1.Container) ([]string, map[string]string, error) {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, from := range c.EnvFrom {
		data, err := r.envFromData(ctx, pod.Namespace, from)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range data {
			set(from.Prefix+k, v)
		}
	}
	for _, e := range c.Env {
		v, err := r.envValue(ctx, pod, st, c, e)
		if err != nil {
			return nil, nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		if e.ValueFrom == nil {
			v = expand(v, vars)
		}
		set(e.Name, v)
	}
	env := make([]string, 0, len(order))
	for _, k := range order {
		env = append(env, k+"="+vars[k])
	}
	return env, vars, nil
}

func (r *PodRunner) envValue(ctx context.Context, pod *corev1.Pod, st *podState, c *corev1.Container, e corev1.EnvVar) (string, error) {
	src := e.ValueFrom
	if src == nil {
		return e.Value, nil
	}
	optional := func(p *bool) bool { return p != nil && *p }
	switch {
	case src.SecretKeyRef != nil:
		s, err := r.client.CoreV1().Secrets(pod.Namespace).Get(ctx, src.SecretKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			if optional(src.SecretKeyRef.Optional) {
				return "", nil
			}
			return "", err
		}
		v, ok := s.Data[src.SecretKeyRef.Key]
		if !ok && !optional(src.SecretKeyRef.Optional) {
			return "", fmt.Errorf("key %q not in secret %q", src.SecretKeyRef.Key, src.SecretKeyRef.Name)
		}
		return string(v), nil
	case src.ConfigMapKeyRef != nil:
		cm, err := r.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, src.ConfigMapKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			if optional(src.ConfigMapKeyRef.Optional) {
				return "", nil
			}
			return "", err
		}
		v, ok := cm.Data[src.ConfigMapKeyRef.Key]
		if !ok && !optional(src.ConfigMapKeyRef.Optional) {
			return "", fmt.Errorf("key %q not in configmap %q", src.ConfigMapKeyRef.Key, src.ConfigMapKeyRef.Name)
		}
		return v, nil
	case src.FieldRef != nil:
		return r.fieldValue(pod, st, src.FieldRef.FieldPath)
	case src.ResourceFieldRef != nil:
		return resourceValue(pod, c, src.ResourceFieldRef)
	}
	return "", fmt.Errorf("unsupported valueFrom")
}

// resourceValue is a container's limit or request, divided by the divisor
// and rounded up, as the kubelet computes it.
func resourceValue(pod *corev1.Pod, c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	if ref.ContainerName != "" {
		c = nil
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == ref.ContainerName {
				c = &pod.Spec.Containers[i]
			}
		}
		if c == nil {
			return "", fmt.Errorf("resourceFieldRef: no container %q", ref.ContainerName)
		}
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") || (name != "cpu" && name != "memory") {
		return "", fmt.Errorf("resourceFieldRef %q is not supported here", ref.Resource)
	}
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, set := list[corev1.ResourceName(name)]
	if !set && kind == "limits" {
		q = hostCapacity(name)
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if name == "cpu" {
		return strconv.FormatInt((q.MilliValue()+divisor.MilliValue()-1)/divisor.MilliValue(), 10), nil
	}
	return strconv.FormatInt((q.Value()+divisor.Value()-1)/divisor.Value(), 10), nil
}

// hostCapacity stands in for the node's allocatable cpu or memory.
func hostCapacity(name string) resource.Quantity {
	if name == "cpu" {
		return *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI)
	}
	raw, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return *resource.NewQuantity(kb*1024, resource.BinarySI)
		}
	}
	return *resource.NewQuantity(1<<30, resource.BinarySI)
}

func (r *PodRunner) fieldValue(pod *corev1.Pod, st *podState, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return st.ip, nil
	case "status.hostIP", "status.hostIPs":
		return HostIP, nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if rest, ok := strings.CutPrefix(path, prefix+"['"); ok {
			return m[strings.TrimSuffix(rest, "']")], nil
		}
	}
	return "", fmt.Errorf("unsupported fieldRef %q", path)
}

func (r *PodRunner) envFromData(ctx context.Context, ns string, from corev1.EnvFromSource) (map[string]string, error) {
	out := map[string]string{}
	switch {
	case from.ConfigMapRef != nil:
		cm, err := r.client.CoreV1().ConfigMaps(ns).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{})
		if err != nil {
			if from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional {
				return out, nil
			}
			return nil, err
		}
		for k, v := range cm.Data {
			out[k] = v
		}
	case from.SecretRef != nil:
		s, err := r.client.CoreV1().Secrets(ns).Get(ctx, from.SecretRef.Name, metav1.GetOptions{})
		if err != nil {
			if from.SecretRef.Optional != nil && *from.SecretRef.Optional {
				return out, nil
			}
			return nil, err
		}
		for k, v := range s.Data {
			out[k] = string(v)
		}
	}
	return out, nil
}

// expand replaces $(VAR) with the variable's value as Kubernetes does for
// env values, command and args: unknown references stay as written and
// "$$" escapes a "$".
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			ref := s[i : i+3+end]
			if v, ok := vars[s[i+2:i+2+end]]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(ref)
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func expandAll(in []string, vars map[string]string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}
