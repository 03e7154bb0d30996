package ssh

import (
	"os"
	"path/filepath"
	"time"
)

// Host-key policies for Options.HostKeyPolicy.
const (
	// PolicyAcceptNew adds keys of unknown hosts to known_hosts and refuses
	// changed keys, like OpenSSH's StrictHostKeyChecking=accept-new.
	PolicyAcceptNew = "accept-new"
	// PolicyStrict refuses hosts whose key is not already in known_hosts.
	PolicyStrict = "strict"
	// PolicyOff accepts any host key. It is insecure and warns loudly.
	PolicyOff = "off"
)

// Options configure a Pool. The zero value is usable: every field has a
// default, stated beside it. Options are read once by NewPool.
type Options struct {
	// SSHConfigFile is an OpenSSH client config file. Default
	// ~/.ssh/config; "none" or a missing file means no config. Inventory
	// variables win over values from this file.
	SSHConfigFile string
	// KnownHostsFile is the known_hosts file. Default ~/.ssh/known_hosts,
	// created with mode 0600 (and its directory with 0700) when missing.
	KnownHostsFile string
	// HostKeyPolicy is PolicyAcceptNew (default), PolicyStrict or PolicyOff.
	HostKeyPolicy string
	// ConnectTimeout bounds TCP connect plus SSH handshake and auth for
	// one attempt. Zero: ssh_config's ConnectTimeout, else 10s.
	ConnectTimeout time.Duration
	// CommandTimeout bounds each command whose Command.Timeout is zero.
	// Zero means no limit.
	CommandTimeout time.Duration
	// KeepAlive is the interval of keepalive requests; a connection that
	// misses three in a row is closed and its host reported unreachable.
	// Zero: ssh_config's ServerAliveInterval, else 15s. Negative disables.
	KeepAlive time.Duration
	// ConnectRetries is how many times a connect is retried after a
	// transient error (refused, timeout, reset), with exponential backoff
	// starting at 500ms. Never retried: DNS, authentication, host key.
	// Zero means the default 2; negative means no retries.
	ConnectRetries int
	// MaxSessions bounds concurrent sessions per connection (commands plus
	// one SFTP session); callers beyond it queue. Default 10, sshd's own
	// MaxSessions default.
	MaxSessions int
	// AskPass prompts the user for a secret: key passphrases and, with
	// AskLoginPassword, the login password. Nil means such secrets cannot
	// be asked for and the host fails with a message that says so.
	AskPass func(prompt string) (string, error)
	// AskLoginPassword (--ask-pass) asks once through AskPass for the login
	// password of hosts that have no ansible_password.
	AskLoginPassword bool
	// PassphraseFile holds the passphrase for encrypted private keys (its
	// first line is used). Tried before AskPass.
	PassphraseFile string
	// Warn receives loud warnings (host-key checking off, ignored
	// known_hosts lines). Nil discards them. It may be called concurrently.
	Warn func(msg string)
	// RunID names this run in the temporary files the pool's connections
	// write; a file of another run found next to a destination is a
	// leftover and removed. Empty: connection.RunID(), fixed per process.
	RunID string
}

const (
	defaultConnectTimeout = 10 * time.Second
	defaultKeepAlive      = 15 * time.Second
	defaultRetries        = 2
	defaultMaxSessions    = 10
)

// withDefaults fills the fields that have a process-independent default.
// Timeouts stay zero so that ssh_config can supply them per host.
func (o Options) withDefaults() Options {
	home, _ := os.UserHomeDir()
	if o.SSHConfigFile == "" && home != "" {
		o.SSHConfigFile = filepath.Join(home, ".ssh", "config")
	}
	if o.KnownHostsFile == "" && home != "" {
		o.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
	}
	if o.HostKeyPolicy == "" {
		o.HostKeyPolicy = PolicyAcceptNew
	}
	switch {
	case o.ConnectRetries == 0:
		o.ConnectRetries = defaultRetries
	case o.ConnectRetries < 0:
		o.ConnectRetries = 0
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = defaultMaxSessions
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	return o
}
