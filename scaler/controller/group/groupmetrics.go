package group

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/metrics"
)

// GroupStates reads every group and its pods from the informer cache, for
// the redis_autoscaler_scaler_group_* metrics: no API call per scrape.
func (r *Reconciler) GroupStates(ctx context.Context) ([]metrics.GroupState, error) {
	var groups v1alpha1.RedisReplicationGroupList
	if err := r.Client.List(ctx, &groups); err != nil {
		return nil, err
	}
	out := make([]metrics.GroupState, 0, len(groups.Items))
	for _, g := range groups.Items {
		s := metrics.GroupState{
			Namespace: g.Namespace, Name: g.Name,
			Current: g.Status.Replicas, Ready: g.Status.ReadyReplicas, Master: g.Status.Master,
		}
		if t := g.Status.LastSwitchoverTime; t != nil {
			s.LastSwitchover = t.Time
		}
		if b := g.Status.Backup; b != nil {
			s.Backups = &metrics.BackupState{Succeeded: b.Succeeded, Failed: b.Failed}
			if b.LastSuccessTime != nil {
				s.Backups.LastSuccess = b.LastSuccessTime.Time
			}
		}
		if g.Spec.Replicas != nil {
			s.Desired, s.HasDesired = *g.Spec.Replicas, true
		}
		if sel, err := labels.Parse(g.Status.Selector); err == nil && !sel.Empty() {
			var pods corev1.PodList
			if err := r.Client.List(ctx, &pods, client.InNamespace(g.Namespace), client.MatchingLabelsSelector{Selector: sel}); err == nil {
				for _, p := range pods.Items {
					if p.DeletionTimestamp != nil {
						continue
					}
					role, synced := p.Labels[controller.LabelRole], p.Labels[controller.LabelSynced] == "true"
					if role == controller.RoleMaster || (role == controller.RoleReplica && synced) {
						s.Synced++
					}
					s.Pods = append(s.Pods, metrics.PodState{Name: p.Name, Role: role, Synced: synced})
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}
