// Package servingcert gives the adapter a serving certificate that the
// aggregator accepts, with no manual step and no cert-manager: a CA and a
// certificate for <service>.<namespace>.svc kept in one Secret and rotated
// before expiry by github.com/open-policy-agent/cert-controller (as KEDA's
// metrics server does), the CA injected into the APIServices that point at
// the adapter, and the key pair written to files the API server reloads.
//
// Data flow:
//
//	cert-controller rotator ──writes──▶ Secret (ca.crt, tls.crt, tls.key)
//	Secret informer ──▶ files in Dir (API server reloads them)
//	                └─▶ caBundle of each APIService (patched by name)
//
// Every API call is scoped to the one Secret and the named APIServices, so
// the RBAC rules can carry resourceNames: list/watch of the Secret carry a
// metadata.name field selector (see nameScopedTransport).
package servingcert

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Modes of the --serving-cert flag.
const (
	// ModeAuto is the library's behaviour: --tls-cert-file and
	// --tls-private-key-file when given (e.g. a cert-manager Secret
	// mounted), else a self-signed certificate for localhost, which the
	// aggregator only accepts with insecureSkipTLSVerify (tests, dev).
	ModeAuto = "auto"
	// ModeSelfManaged: CA and certificate in a Secret, rotated, CA
	// injected into the APIServices.
	ModeSelfManaged = "self-managed"
)

// Options configure the self-managed certificate.
type Options struct {
	Mode        string
	Namespace   string
	SecretName  string
	ServiceName string
	APIServices []string
	// Dir receives tls.crt and tls.key (an emptyDir: the root filesystem
	// is read-only).
	Dir string
	// CertValidity is how long a server certificate is valid; it is
	// renewed when less than a third of it is left. Zero: cert-controller's
	// defaults (1 year, renewed 90 days before expiry, checked every 12 h;
	// the CA lasts 10 years).
	CertValidity time.Duration
	Logger       *slog.Logger
}

// AddFlags registers the flags; Dir is the library's --cert-dir.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Mode, "serving-cert", ModeAuto, "Serving certificate: auto (--tls-cert-file/--tls-private-key-file, else self-signed for localhost) or self-managed (a CA and certificate in --serving-cert-secret, rotated, CA injected into --apiservices)")
	fs.StringVar(&o.Namespace, "serving-cert-namespace", os.Getenv("POD_NAMESPACE"), "Namespace of the adapter's Service and certificate Secret (default $POD_NAMESPACE)")
	fs.StringVar(&o.SecretName, "serving-cert-secret", "redis-autoscaler-adapter-certs", "Secret holding the self-managed CA and certificate (must exist; it may be empty)")
	fs.StringVar(&o.ServiceName, "serving-cert-service", "redis-autoscaler-adapter", "Service the APIServices point at: the certificate is for <service>.<namespace>.svc")
	fs.DurationVar(&o.CertValidity, "serving-cert-validity", 0, "Validity of the self-managed serving certificate, renewed when a third is left (default 1 year, renewed 90 days before expiry)")
	fs.StringSliceVar(&o.APIServices, "apiservices", []string{"v1beta1.custom.metrics.k8s.io", "v1beta2.custom.metrics.k8s.io"}, "APIServices whose caBundle the self-managed CA is injected into")
}

// Validate reports a configuration that cannot work.
func (o *Options) Validate() error {
	switch o.Mode {
	case ModeAuto:
		return nil
	case ModeSelfManaged:
	default:
		return fmt.Errorf("--serving-cert %q: want auto or self-managed", o.Mode)
	}
	if o.Namespace == "" {
		return fmt.Errorf("--serving-cert=self-managed needs --serving-cert-namespace (or $POD_NAMESPACE)")
	}
	if o.SecretName == "" || o.ServiceName == "" || o.Dir == "" {
		return fmt.Errorf("--serving-cert=self-managed needs --serving-cert-secret, --serving-cert-service and --cert-dir")
	}
	return nil
}

// File names in Dir (and keys in the Secret).
const (
	certKey = "tls.crt"
	keyKey  = "tls.key"
	caKey   = "ca.crt"
)

var (
	setLoggerOnce sync.Once
	rotatorSeq    atomic.Int64
)

// Start runs the rotator and the Secret sync until ctx ends, and returns
// the certificate and key paths once both files exist.
func Start(ctx context.Context, cfg *rest.Config, o Options) (certFile, keyFile string, err error) {
	if err := o.Validate(); err != nil {
		return "", "", err
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return "", "", err
	}
	// controller-runtime's logger is global and may be set once per process.
	setLoggerOnce.Do(func() { ctrl.SetLogger(logr.FromSlogHandler(log.Handler())) })

	scoped := rest.CopyConfig(cfg)
	scoped.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &nameScopedTransport{next: rt, path: "/api/v1/namespaces/" + o.Namespace + "/secrets", name: o.SecretName}
	})
	mgr, err := ctrl.NewManager(scoped, manager.Options{
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Several adapter copies each run a rotator: cert-controller
		// resolves concurrent writes through the Secret's resourceVersion.
		LeaderElection: false,
	})
	if err != nil {
		return "", "", fmt.Errorf("serving certificate manager: %w", err)
	}
	svc := o.ServiceName + "." + o.Namespace + ".svc"
	cr := &rotator.CertRotator{
		SecretKey:      types.NamespacedName{Namespace: o.Namespace, Name: o.SecretName},
		CertDir:        o.Dir,
		CertName:       certKey,
		KeyName:        keyKey,
		CAName:         "redis-autoscaler-adapter-ca",
		CAOrganization: "redis-autoscaler",
		DNSName:        svc,
		ExtraDNSNames:  []string{o.ServiceName, o.ServiceName + "." + o.Namespace, svc + ".cluster.local"},
		IsReady:        make(chan struct{}),
		// Controller names are process-global in controller-runtime; tests
		// run several adapters in one process.
		ControllerName: fmt.Sprintf("cert-rotator-%s-%s-%d", o.Namespace, o.SecretName, rotatorSeq.Add(1)),
		// The APIServices are injected by injectCABundle, by name, so that
		// the RBAC can name them; the rotator would watch every APIService.
		Webhooks: nil,
	}
	if o.CertValidity > 0 {
		cr.ServerCertDuration = o.CertValidity
		cr.LookaheadInterval = o.CertValidity / 3
		cr.RotationCheckFrequency = o.CertValidity / 30
	}
	if err := rotator.AddRotator(mgr, cr); err != nil {
		return "", "", fmt.Errorf("serving certificate rotator: %w", err)
	}
	s := &syncer{opts: o, log: log, cfg: scoped}
	if err := s.init(); err != nil {
		return "", "", err
	}
	go func() {
		if err := mgr.Start(ctx); err != nil && ctx.Err() == nil {
			log.Error("serving certificate rotator stopped", "err", err)
		}
	}()
	go s.run(ctx)

	certFile, keyFile = filepath.Join(o.Dir, certKey), filepath.Join(o.Dir, keyKey)
	log.Info("waiting for the self-managed serving certificate", "secret", o.Namespace+"/"+o.SecretName, "dnsName", svc)
	for {
		if fileExists(certFile) && fileExists(keyFile) {
			return certFile, keyFile, nil
		}
		select {
		case <-ctx.Done():
			return "", "", fmt.Errorf("serving certificate: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Size() > 0
}

// writeFileAtomic replaces path so that the API server's file watcher never
// reads half a certificate.
func writeFileAtomic(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
