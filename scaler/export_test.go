package scaler

// RouteGlobalLoggers lets tests fix the process-global loggers before
// anything runs concurrently (later calls are no-ops and cannot race).
var RouteGlobalLoggers = routeGlobalLoggers

// LeaderElectionNamespace is how Main finds the Lease's namespace (with
// RestConfig).
var LeaderElectionNamespace = leaderElectionNamespace
