package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// autoscalerProcess runs this project's own binary for a container whose
// image is redis-autoscaler: the image's entrypoint is replaced by the
// locally built binary, the container's args and env are kept, and
// KUBECONFIG points at a kubeconfig with a token of the pod's
// ServiceAccount (bound to the pod), so the process has exactly the RBAC
// permissions it would have in a real cluster. There is no in-cluster
// config (no KUBERNETES_SERVICE_HOST): the program must honour KUBECONFIG.
func (r *PodRunner) autoscalerProcess(ctx context.Context, pod *corev1.Pod, st *podState, c *containerState, ms mounts, env []string, vars map[string]string) (processSpec, error) {
	var argv []string
	bin := r.opts.RedisAutoscalerBin
	if cmd := expandAll(c.spec.Command, vars); len(cmd) > 0 {
		// cmd[0] names a binary inside the image: redis-autoscaler is
		// RedisAutoscalerBin; the local build of any other lives beside it.
		if name := filepath.Base(cmd[0]); name != "redis-autoscaler" {
			bin = filepath.Join(filepath.Dir(bin), name)
			if _, err := os.Stat(bin); err != nil {
				return processSpec{}, fmt.Errorf("the image's %s is not built beside %s: %w", cmd[0], r.opts.RedisAutoscalerBin, err)
			}
		}
		argv = cmd[1:]
	}
	argv = append(argv, expandAll(c.spec.Args, vars)...)
	for i := range argv {
		argv[i] = ms.rewriteArg(argv[i])
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	token, err := requestToken(ctx, r.client, pod.Namespace, sa, pod)
	if err != nil {
		return processSpec{}, err
	}
	kubeconfig := filepath.Join(st.dir, c.spec.Name+".kubeconfig")
	if err := writeKubeconfig(kubeconfig, "system:serviceaccount:"+pod.Namespace+":"+sa, pod.Namespace, tokenConfig(r.opts.Config, token)); err != nil {
		return processSpec{}, err
	}
	workDir := filepath.Join(st.dir, c.spec.Name+"-work")
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return processSpec{}, err
	}
	full := append(baseEnv(st), "KUBECONFIG="+kubeconfig)
	return processSpec{
		Path: bin,
		Args: argv,
		// Container env last: it may override anything above.
		Env: append(full, env...),
		Dir: workDir,
	}, nil
}
