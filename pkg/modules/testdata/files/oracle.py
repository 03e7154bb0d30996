"""Oracle for tend's edit-module tests: runs Ansible's own lineinfile,
blockinfile, replace and ini_file logic on a list of cases read as JSON
from stdin and prints the resulting contents as JSON.

Each case: {"module": "lineinfile", "content": "...", "args": {...}}.
Each result: {"content": "...", "changed": bool, "msg": "...", "failed": bool}.
Run with Debian's /usr/bin/python3 where ansible-core is installed.
"""
import json, os, sys, tempfile, importlib


class Exit(Exception):
    def __init__(self, kind, kw):
        self.kind, self.kw = kind, kw


class FakeModule:
    check_mode = False
    _diff = True

    def __init__(self, params):
        self.params = dict(params)
        self.params.setdefault("unsafe_writes", False)
        self.params.setdefault("validate", None)
        self.tmpdir = tempfile.gettempdir()

    def fail_json(self, **kw):
        raise Exit("fail", kw)

    def exit_json(self, **kw):
        raise Exit("exit", kw)

    def boolean(self, v):
        return bool(v)

    def warn(self, msg):
        pass

    def backup_local(self, fn):
        return ""

    def atomic_move(self, src, dest, unsafe_writes=False):
        os.rename(src, dest)

    def load_file_common_arguments(self, params, path=None):
        return {}

    def set_fs_attributes_if_different(self, file_args, changed, *a, **kw):
        return changed

    def run_command(self, *a, **kw):
        return 0, "", ""


def run(case):
    fd, path = tempfile.mkstemp()
    os.close(fd)
    if case.get("content") is None:
        os.unlink(path)
    else:
        with open(path, "w", newline="") as f:
            f.write(case["content"])
    args = dict(case["args"])
    name = case["module"]
    try:
        if name == "lineinfile":
            m = importlib.import_module("ansible.modules.lineinfile")
            m.check_file_attrs = lambda mod, changed, msg, diff: (msg, changed)
            mod = FakeModule(args)
            p = dict(regexp=None, search_string=None, line=None, insertafter=None, insertbefore=None,
                     create=False, backup=False, backrefs=False, firstmatch=False)
            p.update(args)
            if args.get("state", "present") == "present":
                ia, ib = p["insertafter"], p["insertbefore"]
                if ia is None and ib is None:
                    ia = "EOF"
                m.present(mod, path, p["regexp"], p["search_string"], p["line"], ia, ib,
                          p["create"], False, p["backrefs"], p["firstmatch"])
            else:
                m.absent(mod, path, p["regexp"], p["search_string"], p["line"], False)
        else:
            if name == "ini_file":
                m = importlib.import_module("ansible_collections.community.general.plugins.modules.ini_file")
            else:
                m = importlib.import_module("ansible.modules." + name)
            spec = None

            class AM(FakeModule):
                def __init__(self, argument_spec=None, **kw):
                    params = {k: v.get("default") for k, v in argument_spec.items()}
                    for k, v in argument_spec.items():
                        for al in v.get("aliases", []):
                            if al in args:
                                params[k] = args[al]
                    params.update({k: v for k, v in args.items() if k in argument_spec})
                    params["path"] = path
                    if "dest" in argument_spec:
                        params["dest"] = path
                    FakeModule.__init__(self, params)
            m.AnsibleModule = AM
            if hasattr(m, "check_file_attrs"):
                m.check_file_attrs = lambda mod, changed, msg, *rest: (msg, changed)
            m.main()
    except Exit as e:
        out = {"failed": e.kind == "fail", "changed": bool(e.kw.get("changed")), "msg": e.kw.get("msg", "")}
    if os.path.exists(path):
        with open(path, newline="") as f:
            out["content"] = f.read()
        os.unlink(path)
    else:
        out["content"] = None
    return out


print(json.dumps([run(c) for c in json.load(sys.stdin)]))
