// Package custommodule finds and runs the modules that Ansible content
// ships itself: a role's library/ directory, a library/ directory next to
// the playbook, the directories of ANSIBLE_LIBRARY (ansible.cfg
// [defaults] library) and a collection's plugins/modules.
//
// tend's own modules (package modules) need nothing on the host but a
// POSIX shell. A custom module is a program written for Ansible, so it
// runs as Ansible runs it, classified as Ansible's module_common does:
//
//   - new-style Python modules (they import ansible.module_utils) are
//     packed with the module_utils files they import, found recursively
//     as AnsiballZ finds them (the content's module_utils/ directories,
//     then ansible-core's on the controller), into one self-extracting
//     Python script fed to the host's Python on standard input, with the
//     arguments Ansible passes (ANSIBLE_MODULE_ARGS with _ansible_check_mode,
//     _ansible_diff, ...);
//   - WANT_JSON modules, binary modules and scripts with a shebang get a
//     JSON arguments file as their first argument (old-style modules a
//     key=value file), <<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>> is replaced by
//     the JSON arguments.
//
// A custom module cannot say what it would change without running: it is
// a module.Runner, run once with check mode passed to it, and its own
// check-mode support decides (AnsibleModule skips a module that does not
// support check mode). What it prints is parsed as Ansible parses it
// (junk around the JSON ignored), and the result is host data, marked
// unsafe for templating.
package custommodule
