package executor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/tend-dev/tend/pkg/module"
)

// hostEnvs caches, for one run, the environment module commands see on a
// host, per connection, become user and task environment: what $VAR in a
// path argument expands to (module.Spec.ExpandPaths). It is read once per
// key, and only for a task whose path argument holds a "$".
type hostEnvs struct {
	mu   sync.Mutex
	envs map[string]*hostEnv
}

// hostEnv is one cached read; once makes concurrent tasks of the same key
// wait for the first read instead of repeating it.
type hostEnv struct {
	once sync.Once
	env  map[string]string
	err  error
}

// get returns the environment for key, reading it with h on first use.
func (c *hostEnvs) get(ctx context.Context, key string, h *module.Host) (map[string]string, error) {
	c.mu.Lock()
	if c.envs == nil {
		c.envs = map[string]*hostEnv{}
	}
	e, ok := c.envs[key]
	if !ok {
		e = &hostEnv{}
		c.envs[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.env, e.err = module.HostEnv(ctx, h) })
	if e.err != nil {
		// A failed read (a dropped connection) is not kept: the next
		// task tries again.
		c.mu.Lock()
		if c.envs[key] == e {
			delete(c.envs, key)
		}
		c.mu.Unlock()
	}
	return e.env, e.err
}

// hostEnvKey identifies the environment a task's commands run in: the
// host reached (the delegate's, when delegated), the login user, the
// become method and user, and the task's environment: keyword.
func hostEnvKey(connHost string, connVars map[string]any, mh *module.Host) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q %q %q", connHost, fmt.Sprint(connVars["ansible_connection"]), fmt.Sprint(connVars["ansible_user"]))
	if be := mh.Become; be != nil {
		fmt.Fprintf(&b, " become %q %q %q", be.Method, be.User, be.Flags)
	}
	names := make([]string, 0, len(mh.Env))
	for k := range mh.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, " %q=%q", k, mh.Env[k])
	}
	return b.String()
}

// expandPaths expands $VAR in the task's host path arguments with the
// environment of the host's module commands, as Ansible's modules do, and
// gives the module that environment (mh.Environ, read once per key).
func (p *playRun) expandPaths(ctx context.Context, spec *module.Spec, mh *module.Host, envKey string, args module.Args) (module.Args, *outcome) {
	mh.Environ = func(ctx context.Context) (map[string]string, error) {
		return p.r.hostEnvs.get(ctx, envKey, mh)
	}
	out, err := spec.ExpandPaths(args, func() (map[string]string, error) { return mh.Environ(ctx) })
	if err != nil {
		return nil, executeOutcome(nil, nil, err, false, "")
	}
	return out, nil
}
