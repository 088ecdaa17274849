package cluster_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// fakeAutoscalerEnv makes the test binary act as the redis-autoscaler
// binary (set in the pod's env, so only pod processes see it).
const fakeAutoscalerEnv = "CLUSTER_TEST_FAKE_AUTOSCALER"

// fakeAutoscaler serves /healthz, /whoami (the identity its KUBECONFIG
// authenticates as) and /env?name=X, on --listen.
func fakeAutoscaler(args []string) int {
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	listen := fs.String("listen", "", "address")
	// Positional args before flags (a subcommand) are skipped.
	for len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	http.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		rev, err := client.AuthenticationV1().SelfSubjectReviews().Create(r.Context(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, rev.Status.UserInfo.Username)
	})
	http.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, os.Getenv(r.URL.Query().Get("name")))
	})
	fmt.Fprintln(os.Stderr, http.ListenAndServe(*listen, nil))
	return 1
}

// A pod with this project's image runs REDIS_AUTOSCALER_BIN with the
// container's args (with $(VAR) expansion) and env (value, secretKeyRef,
// fieldRef), on its pod IP, authenticated as its ServiceAccount; its
// readiness comes from its httpGet readinessProbe.
func TestAutoscalerImageRunsLocalBinary(t *testing.T) {
	c, ns, ctx := sharedNamespace(t, "binary", time.Minute)

	_, err := c.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds"},
		StringData: map[string]string{"password": "s3cret"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "scaler", Labels: map[string]string{"app": "scaler"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:    "scaler",
			Image:   "ghcr.io/redis-autoscaler/redis-autoscaler:dev",
			Command: []string{"/redis-autoscaler"},
			Args:    []string{"serve", "--listen=$(POD_IP):8080"},
			Env: []corev1.EnvVar{
				{Name: fakeAutoscalerEnv, Value: "1"},
				{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "PLAIN", Value: "plain-$(POD_NAME)"},
				{Name: "REDIS_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "password"}}},
			},
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}},
		}}},
	}
	_, err = c.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	require.NoError(t, err)
	p := readyPods(t, c.Client, ns, pod.Labels, 1, 30*time.Second)[0]

	get := func(path string) string {
		resp, err := http.Get("http://" + p.Status.PodIP + ":8080" + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		return string(b)
	}
	require.Equal(t, "system:serviceaccount:"+ns+":default", get("/whoami"))
	require.Equal(t, "s3cret", get("/env?name=REDIS_PASSWORD"))
	require.Equal(t, "plain-scaler", get("/env?name=PLAIN"), "$(VAR) expands earlier variables")
	require.Empty(t, get("/env?name=REDIS_AUTOSCALER_BIN"), "the test process's env does not leak into pods")

	require.NoError(t, c.Client.CoreV1().Pods(ns).Delete(context.Background(), "scaler", metav1.DeleteOptions{}))
}
