package servingcert

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// resyncInterval also re-injects a caBundle that an apply of the
// manifests (or another tool) reset.
const resyncInterval = 30 * time.Second

// syncer copies the certificate Secret into files and the CA into the
// APIServices' caBundle.
type syncer struct {
	opts     Options
	log      *slog.Logger
	cfg      *rest.Config
	client   kubernetes.Interface
	dyn      dynamic.Interface
	informer cache.SharedIndexInformer
	changed  chan struct{}
}

func (s *syncer) init() error {
	var err error
	if s.client, err = kubernetes.NewForConfig(s.cfg); err != nil {
		return err
	}
	if s.dyn, err = dynamic.NewForConfig(s.cfg); err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(s.client, resyncInterval,
		informers.WithNamespace(s.opts.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", s.opts.SecretName).String()
		}))
	s.informer = factory.Core().V1().Secrets().Informer()
	s.changed = make(chan struct{}, 1)
	_, err = s.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.notify() },
		UpdateFunc: func(_, _ any) { s.notify() },
	})
	return err
}

// notify asks run for a sync; requests made while one is pending merge.
func (s *syncer) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *syncer) run(ctx context.Context) {
	go s.informer.Run(ctx.Done())
	// The resync only asks for a sync, so that every sync runs in this
	// goroutine and two never write the files at once. Its first request, at
	// start, finds the informer's store still empty, as before.
	go wait.NonSlidingUntilWithContext(ctx, func(context.Context) { s.notify() }, resyncInterval)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.changed:
		}
		if err := s.sync(ctx); err != nil {
			s.log.Warn("serving certificate sync", "err", err)
		}
	}
}

// sync writes the key pair and injects the CA, when the Secret holds a
// complete, matching set (the rotator writes all three keys at once).
func (s *syncer) sync(ctx context.Context) error {
	obj, ok, err := s.informer.GetStore().GetByKey(s.opts.Namespace + "/" + s.opts.SecretName)
	if err != nil || !ok {
		return err
	}
	sec := obj.(*corev1.Secret)
	crt, key, ca := sec.Data[certKey], sec.Data[keyKey], sec.Data[caKey]
	if len(crt) == 0 || len(key) == 0 || len(ca) == 0 {
		return nil // not yet written by the rotator
	}
	// Key first: a reloader that sees the new certificate with the old key
	// fails that one reload and retries.
	if err := writeFileAtomic(filepath.Join(s.opts.Dir, keyKey), key); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(s.opts.Dir, certKey), crt); err != nil {
		return err
	}
	for _, name := range s.opts.APIServices {
		if err := s.inject(ctx, name, ca); err != nil {
			return err
		}
	}
	return nil
}

// inject sets the APIService's caBundle when it differs. A missing
// APIService is not an error: the adapter may start before it is applied.
func (s *syncer) inject(ctx context.Context, name string, ca []byte) error {
	res := s.dyn.Resource(apiServiceGVR)
	cur, err := res.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("APIService %s: %w", name, err)
	}
	old, _, _ := unstructured.NestedString(cur.Object, "spec", "caBundle")
	if decoded, err := base64.StdEncoding.DecodeString(old); err == nil && bytes.Equal(bytes.TrimSpace(decoded), bytes.TrimSpace(ca)) {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{
		"caBundle":              base64.StdEncoding.EncodeToString(ca),
		"insecureSkipTLSVerify": false,
	}})
	if _, err := res.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "redis-autoscaler-adapter"}); err != nil {
		return fmt.Errorf("APIService %s caBundle: %w", name, err)
	}
	s.log.Info("injected the serving CA", "apiservice", name)
	return nil
}
