package cluster

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// containerEnv resolves the container's environment as a kubelet does:
// envFrom first, then env (later wins), with $(VAR) references to earlier
// variables expanded. Supported sources: value, secretKeyRef,
// configMapKeyRef, fieldRef (name, namespace, uid, labels/annotations,
// nodeName, serviceAccountName, podIP(s), hostIP(s)); resourceFieldRef
// is not.
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
		v, err := r.envValue(ctx, pod, st, e)
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

func (r *PodRunner) envValue(ctx context.Context, pod *corev1.Pod, st *podState, e corev1.EnvVar) (string, error) {
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
	}
	return "", fmt.Errorf("unsupported valueFrom")
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
