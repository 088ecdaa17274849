package scaler

// RouteGlobalLoggers lets tests fix the process-global loggers before
// anything runs concurrently (later calls are no-ops and cannot race).
var RouteGlobalLoggers = routeGlobalLoggers

// RestConfig and LeaderElectionNamespace are how Main finds the Lease's
// namespace.
var (
	RestConfig              = restConfig
	LeaderElectionNamespace = leaderElectionNamespace
)
