package scaler_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// createExample installs the shipped example as a user would: the
// ConfigMap, StatefulSet and group of deploy/examples/redis-group, with the
// password Secret they name (password and auth.conf, as its README says).
// Tests change only what this control plane needs (addressing by pod IP:
// there is no cluster DNS) and what edit says.
func (e *env) createExample(replicas int32, edit func(*appsv1.StatefulSet, *v1alpha1.RedisReplicationGroup)) {
	t := e.t
	var sts appsv1.StatefulSet
	var g v1alpha1.RedisReplicationGroup
	var conf corev1.ConfigMap
	readDoc(t, "../deploy/examples/redis-group/statefulset.yaml", "StatefulSet", &sts)
	readDoc(t, "../deploy/examples/redis-group/group.yaml", "RedisReplicationGroup", &g)
	readDoc(t, "../deploy/examples/redis-group/redis-config.yaml", "ConfigMap", &conf)
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	e.password = hex.EncodeToString(pw)
	require.NoError(t, e.cl.Create(e.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: g.Spec.Auth.PasswordSecretRef.Name, Namespace: e.ns},
		Data: map[string][]byte{
			g.Spec.Auth.PasswordSecretRef.Key: []byte(e.password),
			"auth.conf":                       []byte("requirepass " + e.password + "\nmasterauth " + e.password + "\n"),
		},
	}))
	conf.Namespace = e.ns
	require.NoError(t, e.cl.Create(e.ctx, &conf))
	sts.Namespace, g.Namespace = e.ns, e.ns
	sts.Spec.Replicas, g.Spec.Replicas = &replicas, &replicas
	g.Spec.MinReplicas = 1
	g.Spec.Addressing = v1alpha1.AddressingIP
	if edit != nil {
		edit(&sts, &g)
	}
	require.NoError(t, e.cl.Create(e.ctx, &sts))
	require.NoError(t, e.cl.Create(e.ctx, &g))
}

// readDoc decodes the document of that kind from a multi-document YAML.
func readDoc(t require.TestingT, path, kind string, into any) {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if doc["kind"] != kind {
			continue
		}
		j, err := json.Marshal(doc)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(j, into))
		return
	}
	require.Failf(t, "no document", "%s has no %s", path, kind)
}
