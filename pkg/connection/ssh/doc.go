// Package ssh is tend's SSH transport: one pooled connection per host per
// run (golang.org/x/crypto/ssh), commands as sessions on that connection
// (read-only ones in a long-lived shell instead, see shared.go), file
// transfers over SFTP on the same connection, privilege escalation with
// sudo or su, host-key verification against known_hosts and ~/.ssh/config.
//
// A Pool hands out connection.Connection values keyed by the resolved
// endpoint (user, address, port and jump chain), so a bastion named by many
// hosts' ProxyJump is dialed once and shared. Everything on the target runs
// through /bin/sh; nothing else is needed there besides sshd and coreutils.
//
// Security defaults: host keys are verified against ~/.ssh/known_hosts and
// unknown keys are added (like OpenSSH's StrictHostKeyChecking=accept-new);
// a changed or @revoked key always fails the host. Host certificates signed
// by a CA named in a matching @cert-authority line are accepted. Lines of
// known_hosts that cannot be parsed are skipped with a warning naming
// file:line, as OpenSSH does. The become password is written only
// to the remote sudo/su after its prompt was seen, never echoed or logged.
package ssh
