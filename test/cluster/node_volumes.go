package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// StorageClassName is the real node's default StorageClass: claims without
// a class get it (DefaultStorageClass admission), as on a managed cluster.
const StorageClassName = "local-hostpath"

// provisionerName is the StorageClass's provisioner: the harness itself.
const provisionerName = "redisautoscaler.io/test-hostpath"

// hostPathProvisioner gives every claim of its class a hostPath
// PersistentVolume under the node's directory, pre-bound to the claim; the
// persistentvolume-binder controller completes the binding. The data
// outlives pods (a StatefulSet pod re-created under its name finds it) and
// goes with the node's directory.
type hostPathProvisioner struct {
	client kubernetes.Interface
	dir    string
	log    *slog.Logger
}

func (c *Cluster) startProvisioner(ctx context.Context) error {
	_, err := c.Client.StorageV1().StorageClasses().Create(ctx, &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        StorageClassName,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner:       provisionerName,
		ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimRetain),
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate),
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("storage class: %w", err)
	}
	p := &hostPathProvisioner{client: c.Client, dir: filepath.Join(c.Dir, "volumes"), log: c.log.With("component", "provisioner")}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.node.stopProvisioner = cancel
	// A poll, not an informer: claims are few and a second's latency is
	// nothing next to a pod start.
	go wait.UntilWithContext(runCtx, p.sync, time.Second)
	return nil
}

// sync provisions every pending claim of the class that has no volume yet.
func (p *hostPathProvisioner) sync(ctx context.Context) {
	claims, err := p.client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, pvc := range claims.Items {
		if pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil || ptr.Deref(pvc.Spec.StorageClassName, "") != StorageClassName {
			continue
		}
		if err := p.provision(ctx, &pvc); err != nil {
			p.log.Warn("provision", "claim", pvc.Namespace+"/"+pvc.Name, "err", err)
		}
	}
}

func (p *hostPathProvisioner) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	name := "pvc-" + string(pvc.UID)
	path := filepath.Join(p.dir, pvc.Namespace, pvc.Name+"-"+string(pvc.UID))
	// World-writable: the pod's user (Redis runs as 999, our programs as
	// 65532) owns nothing here, and fsGroup cannot chown a hostPath.
	if err := os.MkdirAll(path, 0o777); err != nil {
		return err
	}
	if err := os.Chmod(path, 0o777); err != nil {
		return err
	}
	size := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	_, err := p.client.CoreV1().PersistentVolumes().Create(ctx, &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": provisionerName},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              StorageClassName,
			VolumeMode:                    pvc.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: path, Type: ptr.To(corev1.HostPathDirectory)},
			},
		},
	}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err == nil {
		p.log.Debug("provisioned", "claim", pvc.Namespace+"/"+pvc.Name, "volume", name)
	}
	return err
}
