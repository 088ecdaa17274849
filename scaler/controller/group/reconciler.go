// Package group is the RedisReplicationGroup reconciler: it reads a
// group, its StatefulSet, the pods and every pod's INFO, lets package
// topology decide, and applies the decisions (Redis commands, pod labels,
// the StatefulSet's replica count, status, events). The kit it shares with
// the RedisCluster reconciler is package controller.
package group

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/credentials"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/metrics"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
)

// +kubebuilder:rbac:groups=redisautoscaler.io,resources=redisreplicationgroups,verbs=get;list;watch
// +kubebuilder:rbac:groups=redisautoscaler.io,resources=redisreplicationgroups/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=apps,resources=statefulsets/scale,verbs=get;update
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;create;update

// Reconciler reconciles RedisReplicationGroups.
type Reconciler struct {
	Client    client.Client
	APIReader client.Reader
	Recorder  record.EventRecorder
	Metrics   *metrics.Metrics
	// ResyncInterval: how often a settled group is looked at again (Redis
	// changes without Kubernetes events). Default 10s.
	ResyncInterval time.Duration
	// AfterPromote, when set, runs inside a switchover right after the new
	// master is promoted (tests interrupt the scaler there).
	AfterPromote func()
	// BeforeSwitchover, when set, runs inside a switchover right before
	// the old master's writes are paused (tests stall the target there).
	BeforeSwitchover func()
	// Fence is the per-group Lease: a group whose Lease another scaler
	// holds is left to it (nil: no fencing, for unit tests).
	Fence *controller.Fence

	conns *controller.Conns
	waits waits
}

// outcome collects what one reconcile of a group saw and did.
type outcome struct {
	controller.Outcome
	// scaling is the Scaling condition without its Type (no Reason:
	// nothing is scaling).
	scaling metav1.Condition
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return controller.Timed(r.Metrics, controller.Resync(r.ResyncInterval), func() (ctrl.Result, error) { return r.reconcile(ctx, req) })
}

func (r *Reconciler) reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	var g v1alpha1.RedisReplicationGroup
	// Uncached for a while after the API failed (Fence.Recovering).
	reader := client.Reader(r.Client)
	if r.Fence.Recovering(recoveryWindow) {
		reader = r.APIReader
	}
	if ok, err := controller.Get(ctx, reader, req.NamespacedName, &g, func() { r.Metrics.ForgetGroup(req.Namespace, req.Name) }); !ok {
		return ctrl.Result{}, err
	}
	if r.Fence != nil {
		held, wait, err := r.Fence.Hold(ctx, leaseKey(&g))
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("group Lease: %w", err)
		}
		if !held {
			log.V(1).Info("another scaler holds the group's Lease", "left", wait)
			return ctrl.Result{RequeueAfter: wait + 100*time.Millisecond}, nil
		}
	}
	r.Metrics.InitGroup(g.Namespace, g.Name)
	orig := g.DeepCopy()
	out := &outcome{}

	sts, err := controller.StatefulSet(ctx, reader, g.Namespace, g.Spec.StatefulSetName, &g.Status.Selector, &g.Status.Replicas, &out.Outcome)
	if err != nil {
		return ctrl.Result{}, err
	}
	if sts == nil {
		return r.finish(ctx, &g, orig, out, nil)
	}
	r.checkTemplate(&g, sts)

	// A hold (a restore in progress) freezes the topology: the holder
	// makes the master a replica of its own for a while, which must not
	// read as a lost master.
	until, held := g.HoldUntil(time.Now())
	holdCondition(&g, until, held)
	if held {
		var statusErr error
		if !equalStatus(&orig.Status, &g.Status) {
			statusErr = r.Client.Status().Patch(ctx, &g, client.MergeFrom(orig))
		}
		return ctrl.Result{RequeueAfter: min(time.Until(until)+10*time.Millisecond, controller.Resync(r.ResyncInterval))}, client.IgnoreNotFound(statusErr)
	}

	// Secrets are read uncached: the scaler needs `get` on the few it is
	// pointed at, not a cluster-wide watch of every Secret.
	auth, tc, err := credentials.Group(ctx, r.APIReader, &g)
	if err != nil {
		r.Metrics.Errors.WithLabelValues("credentials").Inc()
		out.Degrade("CredentialsUnavailable", err.Error())
		return r.finish(ctx, &g, orig, out, err)
	}
	members, err := r.observe(ctx, reader, &g, sts, auth, tc)
	if err != nil {
		return ctrl.Result{}, err
	}
	logf.FromContext(ctx).V(1).Info("observed", "pods", len(members))
	for _, m := range members {
		if m.obs.Running && !m.obs.Reachable {
			r.Metrics.Errors.WithLabelValues("observe").Inc()
			out.Degrade("PodUnreachable", fmt.Sprintf("%s: %v", m.obs.Name, m.err))
			// Usually a Redis still starting: look again soon, a new pod
			// should be attached within a second or two of Running.
			out.Soon(controller.RequeueSyncing)
		}
	}

	r.holdPartition(ctx, &g, sts, members, out)
	master, demote, err := r.ensureMaster(ctx, &g, members, out)
	if err != nil || master == nil {
		return r.finish(ctx, &g, orig, out, err)
	}
	g.Status.Master = master.obs.Name
	g.Status.MasterRunID = master.obs.RunID
	attached := r.attach(ctx, &g, members, master, demote, auth, out)
	r.label(ctx, &g, members, master, attached, out)
	if master.obs.Terminating {
		// Graceful master loss (rolling update, drain, kubectl delete):
		// hand over while it is alive, before anything else.
		if err := r.moveFromTerminating(ctx, &g, members, master, auth, out); err != nil {
			log.Error(err, "switchover from terminating master")
			out.Degrade("SwitchoverFailed", err.Error())
		}
		return r.finish(ctx, &g, orig, out, nil)
	}
	settled, err := r.scale(ctx, &g, sts, members, master, auth, out)
	if err != nil {
		log.Error(err, "scale")
		out.Degrade("ScaleFailed", err.Error())
	}
	if settled && len(attached) == 0 {
		if err := r.rollout(ctx, &g, sts, members, master, auth, out); err != nil {
			log.Error(err, "rolling update")
			out.Degrade("RolloutFailed", err.Error())
		}
	}
	// A RollingUpdate StatefulSet's partition is held whatever the
	// group's state (a template change must not start the StatefulSet
	// controller while it scales), and lowered only once settled.
	if err := r.pacePartition(ctx, &g, sts, members, master, auth, out, settled && len(attached) == 0 && err == nil); err != nil {
		log.Error(err, "rolling update")
		out.Degrade("RolloutFailed", err.Error())
	}
	return r.finish(ctx, &g, orig, out, nil)
}

// ensureMaster decides the master and promotes it when needed. Without a
// master it returns nil and records why.
func (r *Reconciler) ensureMaster(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member, out *outcome) (*member, []string, error) {
	if g.Spec.Sentinel != nil {
		m, err := r.sentinelMaster(ctx, g, members)
		if errors.Is(err, errFailoverInProgress) {
			out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "SentinelFailover", Message: "Sentinel is failing over"}
			out.Soon(controller.RequeueSyncing)
			return nil, nil, nil
		}
		if err != nil {
			r.Metrics.Errors.WithLabelValues("sentinel").Inc()
			out.Degrade("SentinelUnavailable", err.Error())
			return nil, nil, nil
		}
		return m, nil, nil
	}
	key := client.ObjectKeyFromObject(g)
	d := topology.ChooseMaster(observations(members), topology.Previous{
		Name: g.Status.Master, RunID: g.Status.MasterRunID, WaitedOut: r.waits.over(key, failoverWait)})
	if d.Master == "" {
		if d.Reason == topology.ReasonWaitForPods && d.Warning {
			// An election after losing the master waits, bounded, for
			// replicas that may hold the last acknowledged writes.
			if r.waits.start(key) {
				r.Recorder.Event(g, corev1.EventTypeWarning, "ElectionWaiting", d.Message)
			}
			out.Soon(controller.RequeueSyncing)
		}
		if d.Reason == topology.ReasonWaitMasterComes {
			// A stalled master that answers again (SIGCONT, a fork
			// done) sends no event: look often, to hand it over (or
			// keep it) as soon as it does.
			out.Soon(controller.RequeueSyncing)
		}
		out.Degrade(d.Reason, d.Message)
		return nil, nil, nil
	}
	r.waits.clear(key)
	m := find(members, d.Master)
	if d.Warning {
		logf.FromContext(ctx).Info("master decision", "reason", d.Reason, "message", d.Message)
		r.Recorder.Event(g, corev1.EventTypeWarning, d.Reason, d.Message)
	}
	if d.Promote {
		if err := r.check(ctx, g); err != nil {
			return nil, nil, err
		}
		if err := redisops.Promote(ctx, m.client); err != nil {
			r.Metrics.Errors.WithLabelValues("promote").Inc()
			r.Recorder.Eventf(g, corev1.EventTypeWarning, "PromoteFailed", "REPLICAOF NO ONE on %s: %v", m.obs.Name, err)
			return nil, nil, fmt.Errorf("promote %s: %w", m.obs.Name, err)
		}
		r.Metrics.Commands.WithLabelValues("replicaof_no_one").Inc()
		r.Recorder.Eventf(g, corev1.EventTypeNormal, "Promoted", "REPLICAOF NO ONE on %s: %s", m.obs.Name, d.Message)
		m.obs.Role, m.obs.MasterHost, m.obs.MasterPort, m.obs.LinkUp = topology.RoleMaster, "", 0, false
	}
	return m, d.Demote, nil
}

// startSyncsPromptly sets m's repl-diskless-sync-delay to 0 before pods
// sync from it (see redisops.StartSyncsPromptly); what is the role m has
// or is about to take, for the Event.
func (r *Reconciler) startSyncsPromptly(ctx context.Context, g *v1alpha1.RedisReplicationGroup, m *member, what string) {
	changed, err := redisops.StartSyncsPromptly(ctx, m.client)
	if err != nil {
		// The sync still happens, only after Redis' own delay.
		r.Metrics.Errors.WithLabelValues("config").Inc()
		r.Recorder.Eventf(g, corev1.EventTypeWarning, "SyncSettingsFailed", "on %s %s: %v (initial syncs start after Redis' own delay)", what, m.obs.Name, err)
		return
	}
	if changed != "" {
		r.Metrics.Commands.WithLabelValues("config_set").Inc()
		r.Recorder.Eventf(g, corev1.EventTypeNormal, "SyncSettings",
			"CONFIG SET on %s %s: %s (the scaler paces initial syncs itself; set it in the Redis configuration to keep it across restarts)", what, m.obs.Name, changed)
	}
}

// attach points every other running pod at the master, within the
// group's concurrent-sync limit. It returns the pods it sent REPLICAOF.
func (r *Reconciler) attach(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member, master *member, demote []string, auth redisops.Auth, out *outcome) map[string]bool {
	host, port := master.obs.Address, g.Spec.RedisPort()
	plan := topology.PlanAttach(observations(members), master.obs.Name, host, port, g.Spec.SyncLimit(), demote)
	logf.FromContext(ctx).V(1).Info("attach plan", "master", master.obs.Name, "attach", plan.Attach, "waiting", plan.Waiting,
		"syncing", plan.Syncing, "inSync", plan.InSync)
	if len(plan.Attach)+len(plan.Waiting)+len(plan.Syncing) > 0 {
		out.Soon(controller.RequeueSyncing)
	}
	if len(plan.Attach) == 0 {
		return nil
	}
	if err := r.check(ctx, g); err != nil {
		out.Degrade("LeaseLost", err.Error())
		return nil
	}
	r.startSyncsPromptly(ctx, g, master, "master")
	attached := map[string]bool{}
	for _, name := range plan.Attach {
		m := find(members, name)
		reason := "Attached"
		if m.obs.IsMaster() {
			reason = "Demoted"
		}
		if err := redisops.Attach(ctx, m.client, host, port, auth); err != nil {
			r.Metrics.Errors.WithLabelValues("attach").Inc()
			r.Recorder.Eventf(g, corev1.EventTypeWarning, "AttachFailed", "REPLICAOF %s %d on %s: %v", host, port, name, err)
			out.Degrade("AttachFailed", fmt.Sprintf("%s: %v", name, err))
			continue
		}
		r.Metrics.Commands.WithLabelValues("replicaof").Inc()
		logf.FromContext(ctx).Info("REPLICAOF", "pod", name, "master", master.obs.Name, "address", host, "reason", reason)
		r.Recorder.Eventf(g, corev1.EventTypeNormal, reason, "REPLICAOF %s %d on %s (master %s)", host, port, name, master.obs.Name)
		attached[name] = true
	}
	return attached
}

// label sets role and synced labels; it counts ready pods on the way.
func (r *Reconciler) label(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member, master *member, attached map[string]bool, out *outcome) {
	// The labels route clients (the -master Service).
	if err := r.check(ctx, g); err != nil {
		out.Degrade("LeaseLost", err.Error())
		return
	}
	host, port := master.obs.Address, master.obs.Port
	for _, m := range members {
		role, synced := "", ""
		switch {
		case !m.obs.Running:
			// The pod is down: it must not be routed to as master.
		case m == master:
			role = controller.RoleMaster
			out.Ready++
		default:
			role, synced = controller.RoleReplica, "false"
			if m.obs.Reachable && !attached[m.obs.Name] && m.obs.InSyncWith(host, port) {
				synced = "true"
				out.Ready++
			} else {
				out.NotReady = append(out.NotReady, m.obs.Name)
			}
		}
		if !m.obs.Reachable && m.obs.Running {
			// Unknown state: keep a replica label (so a blip does not
			// churn Services) but never a second master label.
			role = m.pod.Labels[controller.LabelRole]
			if role == controller.RoleMaster {
				role = ""
			}
			if role == "" {
				synced = ""
			}
		}
		old := m.pod.Labels
		if old[controller.LabelRole] == role && old[controller.LabelSynced] == synced {
			continue
		}
		if synced == "true" && old[controller.LabelSynced] == "" {
			if started, ok := containerStarted(m.pod); ok {
				r.Metrics.AttachSeconds.WithLabelValues(g.Namespace, g.Name).Observe(time.Since(started).Seconds())
			}
		}
		controller.Label(ctx, r.Client, r.Metrics, m.pod, role, synced, &out.Outcome)
	}
}
