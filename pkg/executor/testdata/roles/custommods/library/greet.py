#!/usr/bin/python
# A new-style module: AnsibleModule from ansible-core, a helper from the
# role's module_utils, check mode supported.
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.custom_helper import shout


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            path=dict(type='path', required=True),
            times=dict(type='int', default=1),
        ),
        supports_check_mode=True,
    )
    p = module.params
    text = ' '.join([shout('hello ' + p['name'])] * p['times']) + '\n'
    old = None
    if os.path.exists(p['path']):
        with open(p['path']) as f:
            old = f.read()
    changed = old != text
    if changed and not module.check_mode:
        with open(p['path'], 'w') as f:
            f.write(text)
    result = dict(changed=changed, text=text.strip(), check=module.check_mode, ansible_facts=dict(greeted=p['name']))
    if module._diff:
        result['diff'] = dict(before=old or '', after=text, before_header=p['path'], after_header=p['path'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
