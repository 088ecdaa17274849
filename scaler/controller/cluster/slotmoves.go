package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/clusterops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/slots"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology/clusterplan"
)

// liveMasters are the masters of the reference view that are not failed
// and whose pod answers: the nodes told of each slot's new owner.
func (s *clusterStep) liveMasters() []clusterops.Node {
	live := map[string]bool{}
	for _, n := range s.view.Nodes {
		if n.Name == s.ref.name() {
			for _, id := range clusterplan.LiveMasters(n.View) {
				live[id] = s.view.ByID(id) != nil
			}
		}
	}
	var out []clusterops.Node
	for _, n := range s.ref.nodes {
		if live[n.ID] {
			out = append(out, n)
		}
	}
	return out
}

// fix finishes migrations an interrupted scaler left open. Fix is given
// every pod that answered, not the reference's masters: after a failover
// the reference may be the old master, back and not yet told, whose view
// still lists its promoted replica as a replica. Fix reads each node's
// own line again and takes the masters from there.
func (s *clusterStep) fix(ctx context.Context) {
	var nodes []clusterops.Node
	for _, n := range s.nodes {
		if n.reachable() {
			nodes = append(nodes, n.me)
		}
	}
	fixed, err := s.migrator(func(n int) { s.rc.Status.Migrations.KeysMoved += int64(n) }).Fix(ctx, nodes)
	s.count(fixed)
	if err != nil {
		s.warn("FixFailed", "finishing an interrupted migration: %v", err)
		return
	}
	if fixed > 0 {
		s.event("MigrationResumed", "finished %d slot moves an earlier run left open", fixed)
		s.resharding("Resuming", "finished %d open slot moves", fixed)
	}
	s.out.Soon(requeueResharding)
}

// migrator moves slots with the cluster's credentials and limits;
// onKeys is told each batch's key count (after the metric counts it).
func (s *clusterStep) migrator(onKeys func(n int)) *clusterops.Migrator {
	ns, name := s.rc.Namespace, s.rc.Name
	return &clusterops.Migrator{
		Client: s.r.client(s.creds), User: s.creds.auth.Username, Password: s.creds.auth.Password,
		Batch: s.rc.Spec.Batch(), Replicas: s.rc.Spec.ReplicaWait(),
		OnKeys: func(n int) {
			s.r.Cluster.KeysMoved.WithLabelValues(ns, name).Add(float64(n))
			onKeys(n)
			if s.r.AfterBatch != nil {
				s.r.AfterBatch()
			}
		},
		OnBytes: func(n int64) { s.r.Cluster.BytesMoved.WithLabelValues(ns, name).Add(float64(n)) },
	}
}

func (s *clusterStep) count(slotsMoved int) {
	s.r.Cluster.SlotsMoved.WithLabelValues(s.rc.Namespace, s.rc.Name).Add(float64(slotsMoved))
	s.rc.Status.Migrations.SlotsMoved += int64(slotsMoved)
}

func (s *clusterStep) stepBudget() time.Duration {
	if s.r.StepBudget > 0 {
		return s.r.StepBudget
	}
	return 2 * time.Second
}

// reshard makes as many of the plan's slot moves as fit in the step
// budget, maxConcurrent at a time.
func (s *clusterStep) reshard(ctx context.Context, st clusterplan.Step) {
	moves := st.Moves
	s.pending = len(moves)
	if st.First {
		s.event("Resharding", "%d slots to move for %d shards", len(moves), s.want)
	}
	nodes := map[string]clusterops.Node{}
	for _, n := range s.nodes {
		if n.reachable() {
			nodes[n.me.ID] = n.me
		}
	}
	done, err := s.moveSlots(ctx, moves, nodes, s.liveMasters())
	s.pending = len(moves) - done
	s.resharding("MovingSlots", "%d of %d slots moved this step, %d to go", done, len(moves), s.pending)
	if err != nil {
		s.warn("MigrationFailed", "%v", err)
		return
	}
	if s.pending == 0 {
		s.resharded()
	}
	s.out.Soon(requeueResharding)
}

func (s *clusterStep) resharded() {
	now := metav1.Now()
	s.rc.Status.Migrations.LastCompletionTime = &now
	s.event("Resharded", "every wanted shard owns its even share (%d shards)", s.want)
}

// moveSlots runs moves with bounded concurrency until the budget is spent
// or a move fails; it returns how many finished. A failure starts no
// further move but lets the running ones finish: cancelling them would
// leave more slots open for the next step's fix.
func (s *clusterStep) moveSlots(ctx context.Context, moves []slots.Move, nodes map[string]clusterops.Node, masters []clusterops.Node) (int, error) {
	ns, name := s.rc.Namespace, s.rc.Name
	deadline := time.Now().Add(s.stepBudget())
	var (
		mu     sync.Mutex
		done   int
		failed atomic.Bool
		eg     errgroup.Group
	)
	eg.SetLimit(s.rc.Spec.Concurrency())
	for _, mv := range moves {
		// Go waits for a free slot, so the budget and a failure are
		// checked just before each start.
		if failed.Load() || !time.Now().Before(deadline) {
			break
		}
		eg.Go(func() error {
			keys := 0
			mig := s.migrator(func(n int) { keys += n })
			s.r.Cluster.MigrationsInProgress.WithLabelValues(ns, name).Inc()
			start := time.Now()
			octx, cancel := context.WithTimeout(ctx, clusterOpTimeout)
			err := mig.MoveSlot(octx, mv.Slot, nodes[mv.From], nodes[mv.To], masters)
			cancel()
			s.r.Cluster.MigrationsInProgress.WithLabelValues(ns, name).Dec()
			mu.Lock()
			defer mu.Unlock()
			s.rc.Status.Migrations.KeysMoved += int64(keys)
			if err != nil {
				failed.Store(true)
				return err
			}
			s.r.Cluster.SlotMigrationSeconds.WithLabelValues(ns, name).Observe(time.Since(start).Seconds())
			done++
			return nil
		})
	}
	err := eg.Wait()
	s.count(done)
	return done, err
}
