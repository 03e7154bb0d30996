# Records ansible-playbook's callback events as JSON lines in the shape of
# tend's report.HostResult, so report's oracle test can replay them into
# NewHuman and compare with what Ansible's default callback printed for
# the very same results. Test fixture only: not shipped with tend.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: tend_events
    type: aggregate
    short_description: record events for tend's reporter oracle test
    description: Writes one JSON object per event to $TEND_EVENTS_FILE.
'''

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'tend_events'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._out = open(os.environ['TEND_EVENTS_FILE'], 'w')

    def _emit(self, **ev):
        self._out.write(json.dumps(ev, default=str) + '\n')
        self._out.flush()

    @staticmethod
    def _task(task, handler=False):
        return {
            'Name': task.name or '',
            'Role': task._role.get_name() if task._role else '',
            'Module': task.action,
            'Handler': handler,
            'Loop': task.loop is not None,
        }

    def v2_playbook_on_play_start(self, play):
        self._emit(type='play', name=play.get_name().strip())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit(type='task', task=self._task(task))

    def v2_playbook_on_handler_task_start(self, task):
        self._emit(type='task', task=self._task(task, handler=True))

    def _result(self, result, status, item=False):
        res = dict(result._result)
        # The task of a result is always the last task started (linear
        # strategy); the test uses that one, handler flag included.
        ev = dict(type='result', host=result._host.get_name(),
                  status=status, result=res, no_log=bool(result._task.no_log), is_item=item)
        if item:
            ev['item'] = res.get('_ansible_item_label', res.get('item'))
        if 'diff' in res and status in ('ok', 'changed'):
            d = res['diff']
            ev['diff'] = d if isinstance(d, list) else [d]
        self._emit(**ev)

    def _ok_status(self, result):
        return 'changed' if result._result.get('changed', False) else 'ok'

    def v2_runner_on_ok(self, result):
        self._result(result, self._ok_status(result))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, 'ignored' if ignore_errors else 'failed')

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable')

    def v2_runner_item_on_ok(self, result):
        self._result(result, self._ok_status(result), item=True)

    def v2_runner_item_on_failed(self, result):
        self._result(result, 'failed', item=True)

    def v2_runner_item_on_skipped(self, result):
        self._result(result, 'skipped', item=True)

    def v2_runner_retry(self, result):
        self._result(result, 'retrying')

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        s = {}
        for h in hosts:
            t = stats.summarize(h)
            s[h] = {'OK': t['ok'], 'Changed': t['changed'], 'Unreachable': t['unreachable'],
                    'Failed': t['failures'], 'Skipped': t['skipped'], 'Rescued': t['rescued'],
                    'Ignored': t['ignored']}
        self._emit(type='recap', hosts=hosts, stats=s)
