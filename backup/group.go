package backup

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/credentials"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
)

// Group is a RedisReplicationGroup seen by the backup commands: its pods,
// their roles (from INFO, not labels) and the credentials from its Secrets.
type Group struct {
	cl   client.Client
	key  client.ObjectKey
	auth redisops.Auth
	tls  *tls.Config
}

// OpenGroup reads the group "namespace/name" and its credentials.
func OpenGroup(ctx context.Context, cl client.Client, ref string) (*Group, error) {
	ns, name, ok := strings.Cut(ref, "/")
	if !ok || ns == "" || name == "" {
		return nil, fmt.Errorf("--group %q: want NAMESPACE/NAME", ref)
	}
	g := &Group{cl: cl, key: client.ObjectKey{Namespace: ns, Name: name}}
	obj, err := g.get(ctx)
	if err != nil {
		return nil, err
	}
	var tc credentials.TLS
	g.auth, tc, err = credentials.Group(ctx, cl, obj)
	g.tls = tc.Config
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Name is namespace/name.
func (g *Group) Name() string { return g.key.String() }

func (g *Group) get(ctx context.Context) (*v1alpha1.RedisReplicationGroup, error) {
	var obj v1alpha1.RedisReplicationGroup
	if err := g.cl.Get(ctx, g.key, &obj); err != nil {
		return nil, fmt.Errorf("RedisReplicationGroup %s: %w", g.key, err)
	}
	return &obj, nil
}

// member is one running pod and what its INFO said.
type member struct {
	ep     Endpoint
	pod    string
	fields map[string]string
	err    error
}

func (m member) role() string { return m.fields["role"] }

// members reads INFO replication from every running pod of the group.
func (g *Group) members(ctx context.Context) (*v1alpha1.RedisReplicationGroup, []member, error) {
	obj, err := g.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	var sts appsv1.StatefulSet
	if err := g.cl.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.Spec.StatefulSetName}, &sts); err != nil {
		return nil, nil, fmt.Errorf("statefulset %s: %w", obj.Spec.StatefulSetName, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector)
	if err != nil {
		return nil, nil, err
	}
	var pods corev1.PodList
	if err := g.cl.List(ctx, &pods, client.InNamespace(obj.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, nil, fmt.Errorf("list pods: %w", err)
	}
	var out []member
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || p.DeletionTimestamp != nil {
			continue
		}
		m := member{pod: p.Name, ep: Endpoint{Host: p.Status.PodIP, Port: obj.Spec.RedisPort(), Auth: g.auth, TLS: g.tls, Label: obj.Namespace + "/" + p.Name}}
		c := m.ep.client()
		ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
		info, err := readInfo(ictx, c, "replication")
		cancel()
		c.Close()
		if m.err = err; err == nil {
			m.fields = info.Fields
		}
		out = append(out, m)
	}
	return obj, out, nil
}

// master is the group's master pod: the one status.master names, if it
// says it is a master.
func master(obj *v1alpha1.RedisReplicationGroup, ms []member) (member, error) {
	for _, m := range ms {
		if m.pod == obj.Status.Master && m.err == nil && m.role() == "master" {
			return m, nil
		}
	}
	return member{}, fmt.Errorf("group %s/%s has no reachable master (status.master %q)", obj.Namespace, obj.Name, obj.Status.Master)
}

// inSync: a replica of the master's replication history, link up, no sync
// running.
func inSync(m, master member) bool {
	f := m.fields
	return m.err == nil && m.role() == "slave" && f["master_link_status"] == "up" && f["master_sync_in_progress"] == "0" &&
		f["master_replid"] == master.fields["master_replid"]
}

// BackupSource picks where to take a backup: an in-sync replica (the
// master keeps serving without a fork), else the master.
func (g *Group) BackupSource(ctx context.Context) (Endpoint, string, error) {
	obj, ms, err := g.members(ctx)
	if err != nil {
		return Endpoint{}, "", err
	}
	mst, err := master(obj, ms)
	if err != nil {
		return Endpoint{}, "", err
	}
	for _, m := range ms {
		if inSync(m, mst) {
			return m.ep, "replica", nil
		}
	}
	return mst.ep, "master", nil
}

// Hold asks the scaler to hold the topology until d from now and waits
// for it to say so (TopologyHeld with this hold's message): from then on
// no switchover, attach or scaling of the scaler's runs. release removes
// the hold.
func (g *Group) Hold(ctx context.Context, d time.Duration, reason string, ack time.Duration) (release func() error, err error) {
	until := time.Now().Add(d).Truncate(time.Second)
	patch := func(ctx context.Context, annotations map[string]any) error {
		obj := &v1alpha1.RedisReplicationGroup{}
		obj.Namespace, obj.Name = g.key.Namespace, g.key.Name
		raw := fmt.Appendf(nil, `{"metadata":{"annotations":%s}}`, mustJSON(annotations))
		return g.cl.Patch(ctx, obj, client.RawPatch("application/merge-patch+json", raw))
	}
	release = func() error {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return patch(rctx, map[string]any{v1alpha1.AnnotationHoldUntil: nil, v1alpha1.AnnotationHoldReason: nil})
	}
	if err := patch(ctx, map[string]any{v1alpha1.AnnotationHoldUntil: until.UTC().Format(time.RFC3339), v1alpha1.AnnotationHoldReason: reason}); err != nil {
		return nil, fmt.Errorf("hold group %s: %w", g.key, err)
	}
	want := v1alpha1.HoldMessage(until, reason)
	deadline := time.Now().Add(ack)
	for {
		obj, err := g.get(ctx)
		if err == nil {
			if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionTopologyHeld); c != nil && c.Status == metav1.ConditionTrue && c.Message == want {
				return release, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, errors.Join(fmt.Errorf("the scaler did not acknowledge the hold of %s within %v: is it running?", g.key, ack), release())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Master is the group's master endpoint.
func (g *Group) Master(ctx context.Context) (Endpoint, error) {
	obj, ms, err := g.members(ctx)
	if err != nil {
		return Endpoint{}, err
	}
	m, err := master(obj, ms)
	return m.ep, err
}

// WaitInSync waits until every running pod is the master or a replica in
// sync with it.
func (g *Group) WaitInSync(ctx context.Context) error {
	var last string
	for {
		obj, ms, err := g.members(ctx)
		if err == nil {
			var mst member
			if mst, err = master(obj, ms); err == nil {
				var behind []string
				for _, m := range ms {
					if m.pod != mst.pod && !inSync(m, mst) {
						behind = append(behind, m.pod)
					}
				}
				if len(behind) == 0 {
					return nil
				}
				last = "not in sync: " + strings.Join(behind, ", ")
			}
		}
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("group %s: %s", g.key, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Record writes the outcome of a backup into the group's status.backup
// (the scaler exports it as metrics).
func (g *Group) Record(ctx context.Context, sc *Sidecar, backupErr error) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := g.get(ctx)
		if err != nil {
			return err
		}
		orig := obj.DeepCopy()
		b := obj.Status.Backup
		if b == nil {
			b = &v1alpha1.BackupStatus{}
			obj.Status.Backup = b
		}
		now := metav1.Now()
		if backupErr == nil {
			b.Succeeded++
			b.LastSuccessTime = &now
			b.LastFile, b.LastSizeBytes, b.LastKeys = filepath.Base(sc.File), sc.Size, sc.Keys
		} else {
			b.Failed++
			b.LastFailureTime = &now
			msg := backupErr.Error()
			if len(msg) > 512 {
				msg = msg[:512]
			}
			b.LastFailure = msg
		}
		return g.cl.Status().Patch(ctx, obj, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}))
	})
}

// RestoreGroup restores file into the group's master while the scaler
// holds the topology, then waits for every replica to be in sync with the
// restored master before releasing the hold. The file is read and verified
// once, before anything, the hold included, changes.
func RestoreGroup(ctx context.Context, g *Group, file string, o RestoreOptions, holdFor time.Duration) (_ *RestoreResult, err error) {
	start := time.Now()
	sum, err := verifyForRestore(file, &o, start)
	if err != nil {
		return nil, err
	}
	release, err := g.Hold(ctx, holdFor, "restore of "+filepath.Base(file), time.Minute)
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := release(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("release the hold of %s: %w (it lapses by itself)", g.Name(), rerr))
		}
	}()
	m, err := g.Master(ctx)
	if err != nil {
		return nil, err
	}
	res, err := restoreVerified(ctx, m, file, sum, o, start)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, holdFor)
	defer cancel()
	if err := g.WaitInSync(wctx); err != nil {
		return res, fmt.Errorf("restored %s, but its replicas did not resync: %w", m.Label, err)
	}
	return res, nil
}
