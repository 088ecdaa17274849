package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// mount maps a container path onto a host directory. Processes share the
// host's filesystem, so container paths in arguments are rewritten through
// these mounts.
type mount struct {
	containerPath string
	hostPath      string
	persistent    bool // backed by a PersistentVolumeClaim
}

type mounts []mount

// hostPath maps a container path; ok is false when no mount covers it.
func (ms mounts) hostPath(p string) (string, bool) {
	for _, m := range ms { // sorted longest first
		if p == m.containerPath {
			return m.hostPath, true
		}
		if rest, ok := strings.CutPrefix(p, strings.TrimSuffix(m.containerPath, "/")+"/"); ok {
			return filepath.Join(m.hostPath, rest), true
		}
	}
	return "", false
}

// rewriteArg maps an absolute container path in "/path" or "--flag=/path".
func (ms mounts) rewriteArg(a string) string {
	if strings.HasPrefix(a, "/") {
		if h, ok := ms.hostPath(a); ok {
			return h
		}
		return a
	}
	if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(v, "/") {
		if h, ok := ms.hostPath(v); ok {
			return k + "=" + h
		}
	}
	return a
}

// claimDir is where a PVC's data lives: keyed by namespace and claim name,
// so a StatefulSet pod re-created under the same name finds its data.
func (r *PodRunner) claimDir(namespace, claim string) string {
	return filepath.Join(r.opts.Dir, "pvc", namespace, claim)
}

// prepareMounts materializes the container's volumes on the host:
// PersistentVolumeClaims (persistent, per claim), emptyDir (per pod),
// ConfigMaps and Secrets (written fresh on every start), hostPath (as is).
// Other volume types become empty per-pod directories.
func (r *PodRunner) prepareMounts(ctx context.Context, pod *corev1.Pod, st *podState, c *corev1.Container) (mounts, error) {
	vols := map[string]*corev1.Volume{}
	for i := range pod.Spec.Volumes {
		vols[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	var ms mounts
	for _, vm := range c.VolumeMounts {
		v := vols[vm.Name]
		if v == nil {
			return nil, fmt.Errorf("volume %q not found", vm.Name)
		}
		host := filepath.Join(st.dir, "volumes", v.Name)
		persistent := false
		var err error
		switch {
		case v.PersistentVolumeClaim != nil:
			host, persistent = r.claimDir(pod.Namespace, v.PersistentVolumeClaim.ClaimName), true
		case v.Ephemeral != nil: // generic ephemeral volume: claim <pod>-<volume>
			host, persistent = r.claimDir(pod.Namespace, pod.Name+"-"+v.Name), true
		case v.HostPath != nil:
			host = v.HostPath.Path
		case v.ConfigMap != nil:
			err = r.writeConfigMap(ctx, pod.Namespace, v.ConfigMap, host)
		case v.Secret != nil:
			err = r.writeSecret(ctx, pod.Namespace, v.Secret, host)
		}
		if err != nil {
			return nil, fmt.Errorf("volume %q: %w", v.Name, err)
		}
		if vm.SubPath != "" {
			host = filepath.Join(host, vm.SubPath)
		}
		// A subPath may name a file (one key of a ConfigMap).
		if _, statErr := os.Stat(host); statErr != nil {
			if err := os.MkdirAll(host, 0o755); err != nil {
				return nil, err
			}
		}
		ms = append(ms, mount{containerPath: filepath.Clean(vm.MountPath), hostPath: host, persistent: persistent})
	}
	sort.Slice(ms, func(i, j int) bool { return len(ms[i].containerPath) > len(ms[j].containerPath) })
	return ms, nil
}

func (r *PodRunner) writeConfigMap(ctx context.Context, ns string, src *corev1.ConfigMapVolumeSource, dir string) error {
	cm, err := r.client.CoreV1().ConfigMaps(ns).Get(ctx, src.Name, metav1.GetOptions{})
	if err != nil {
		if src.Optional != nil && *src.Optional {
			return os.MkdirAll(dir, 0o755)
		}
		return err
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return writeKeys(dir, data, src.Items)
}

func (r *PodRunner) writeSecret(ctx context.Context, ns string, src *corev1.SecretVolumeSource, dir string) error {
	s, err := r.client.CoreV1().Secrets(ns).Get(ctx, src.SecretName, metav1.GetOptions{})
	if err != nil {
		if src.Optional != nil && *src.Optional {
			return os.MkdirAll(dir, 0o755)
		}
		return err
	}
	return writeKeys(dir, s.Data, src.Items)
}

// writeKeys writes each key as a file (or only the listed items, at their
// paths), replacing what an earlier start wrote.
func writeKeys(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	paths := map[string]string{}
	if len(items) == 0 {
		for k := range data {
			paths[k] = k
		}
	}
	for _, it := range items {
		paths[it.Key] = it.Path
	}
	for k, p := range paths {
		v, ok := data[k]
		if !ok {
			return fmt.Errorf("key %q not found", k)
		}
		dst := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, v, 0o600); err != nil {
			return err
		}
	}
	return nil
}
