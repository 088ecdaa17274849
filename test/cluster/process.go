package cluster

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// process is a child started in its own process group, so that stopping it
// also stops anything it forked, and with a parent-death signal, so that it
// dies with the test binary even when no cleanup runs (a panic, a `go test`
// timeout, SIGKILL).
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been reaped
	err  error         // exit error, valid after done is closed
	log  io.Closer
}

// processSpec describes a child process.
type processSpec struct {
	Name    string
	Path    string
	Args    []string
	Env     []string // nil: inherit the parent's environment
	Dir     string
	LogFile string // stdout and stderr are appended here
}

func startProcess(spec processSpec) (*process, error) {
	logf, err := os.OpenFile(spec.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = spec.Env
	cmd.Dir = spec.Dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// Linux delivers this when the thread that forked the child exits.
		// Go does not retire OS threads unless a goroutine locked to one
		// exits, which this package never does.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	p := &process{name: spec.Name, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	slog.Debug("started process", "name", spec.Name, "pid", cmd.Process.Pid)
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitCode is the code a kubelet would report: the exit status, or 128+signal.
func (p *process) exitCode() int32 {
	st, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return -1
	}
	if st.Signaled() {
		return 128 + int32(st.Signal())
	}
	return int32(st.ExitStatus())
}

// stop sends SIGTERM to the whole process group and SIGKILL after grace.
// It returns once the process is reaped; members of the group that outlive
// the leader get the SIGKILL as well.
func (p *process) stop(grace time.Duration) {
	pgid := p.pid()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		slog.Debug("process did not stop in time, killing", "name", p.name, "pid", pgid)
	}
	// Always SIGKILL the group: a leader that exited on SIGTERM may have
	// left children behind.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

// processSet remembers every process a cluster (or its pod runner)
// started, including ones that already exited, so Stop can stop the live
// ones and tests can check by PID that none survived.
type processSet struct {
	mu    sync.Mutex
	procs []*process
}

func (s *processSet) add(p *process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs = append(s.procs, p)
}

func (s *processSet) pids() []int {
	procs := s.list()
	out := make([]int, 0, len(procs))
	for _, p := range procs {
		out = append(out, p.pid())
	}
	return out
}

// list is a copy of the processes in start order.
func (s *processSet) list() []*process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*process(nil), s.procs...)
}

// stopAll stops processes in reverse start order (dependents first).
func (s *processSet) stopAll(grace time.Duration) {
	procs := s.list()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop(grace)
	}
}

// ProcessAlive reports whether a process with this PID exists (and is not a
// zombie we could still reap). Tests use it to prove Stop left nothing behind.
func ProcessAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return false
	}
	// A zombie still answers kill(0); read its state to tell it apart.
	b, rerr := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if rerr != nil {
		return err == nil
	}
	return !isZombieStat(string(b))
}

// isZombieStat parses /proc/PID/stat: the state follows the ")" that ends
// the command name.
func isZombieStat(stat string) bool {
	for i := len(stat) - 1; i >= 0; i-- {
		if stat[i] == ')' {
			return i+2 < len(stat) && stat[i+2] == 'Z'
		}
	}
	return false
}
