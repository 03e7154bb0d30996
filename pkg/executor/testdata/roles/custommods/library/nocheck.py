#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec=dict(x=dict(type='int')))
if module.params['x'] is not None and module.params['x'] < 0:
    module.fail_json(msg='x must not be negative', x=module.params['x'])
module.exit_json(changed=True, x=module.params['x'])
