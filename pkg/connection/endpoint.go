package connection

// SSHEndpoint says how an SSH connection reached its host, so that a tool
// the controller runs itself (synchronize's rsync over ssh) can reach the
// same host the same way.
type SSHEndpoint struct {
	// Host and Port are the address dialed (ssh_config's HostName
	// resolved); User the login user.
	Host string
	Port int
	User string
	// IdentityFiles are the private keys offered, in order.
	IdentityFiles []string
	// KnownHostsFile is the known_hosts file checked; HostKeyPolicy is
	// "accept-new", "strict" or "off".
	KnownHostsFile string
	HostKeyPolicy  string
	// Jumps are the jump hosts, outermost first, as user@host:port.
	Jumps []string
	// ConfigFile is the OpenSSH client config file read ("" or "none":
	// none).
	ConfigFile string
}

// SSHEndpointer is implemented by connections made over SSH.
type SSHEndpointer interface {
	SSHEndpoint() SSHEndpoint
}
