package modules

import (
	"context"

	"github.com/tend-dev/tend/pkg/module"
)

// AsyncStatus reports on, or removes, a job started by a task with async.
type AsyncStatus struct{}

var _ module.Module = (*AsyncStatus)(nil)

// Spec implements module.Module.
func (*AsyncStatus) Spec() *module.Spec {
	return &module.Spec{
		Name:  "async_status",
		Short: "Check on, or clean up, a task started with async",
		Description: "A task with async: N and poll: 0 returns at once with ansible_job_id, started: 1 and finished: 0 " +
			"while the job runs on. async_status with that jid returns finished: 0 while the job runs and, once it " +
			"has finished, the job's own result (rc, stdout, changed...) with finished: 1; use it with until: " +
			"job.finished, retries and delay to wait. mode=cleanup removes the job's directory " +
			"(~/.ansible_async/JID of the user the job ran as) from the host. A jid whose directory is not on " +
			"the host fails with \"could not find job\", as in Ansible. The job's result is kept by the tend run " +
			"that started it: another run finds the directory but not the result, and says so. " +
			"Skipped in check mode, as in Ansible.",
		Args: []module.Arg{
			{Name: "jid", Type: module.String, Required: true, Doc: "The job id (ansible_job_id of the async task's result)."},
			{Name: "mode", Type: module.String, Default: "status", Choices: []string{"status", "cleanup"}, Doc: "status reports on the job; cleanup removes its directory from the host."},
		},
		Check: module.CheckNone,
		Examples: `- name: Upgrade in the background
  apt:
    upgrade: dist
  async: 3600
  poll: 0
  register: upgrade
- name: Wait for it
  async_status:
    jid: "{{ upgrade.ansible_job_id }}"
  register: job
  until: job.finished
  retries: 120
  delay: 30
- async_status:
    jid: "{{ upgrade.ansible_job_id }}"
    mode: cleanup`,
	}
}

// Plan implements module.Module. Both modes do their work here: a status
// read changes nothing, and cleanup removes only tend's job files, which
// Ansible does not count as a change either.
func (*AsyncStatus) Plan(ctx context.Context, h *module.Host, a module.Args) (*module.Plan, error) {
	if h.Jobs == nil {
		return module.Unchanged(module.Failed("async_status needs a playbook run (no async jobs here)")), nil
	}
	if a.String("mode") == "cleanup" {
		res, err := h.Jobs.Cleanup(ctx, h, a.String("jid"))
		if err != nil {
			return nil, err
		}
		return module.Unchanged(res), nil
	}
	res, err := h.Jobs.Status(ctx, h, a.String("jid"))
	if err != nil {
		return nil, err
	}
	return &module.Plan{Changed: res["changed"] == true, Result: res}, nil
}
