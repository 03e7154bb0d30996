package ssh

import (
	"strconv"

	"github.com/tend-dev/tend/pkg/connection"
)

var _ connection.SSHEndpointer = (*Conn)(nil)

// SSHEndpoint implements connection.SSHEndpointer.
func (c *Conn) SSHEndpoint() connection.SSHEndpoint {
	e := c.ep
	if e == nil {
		return connection.SSHEndpoint{}
	}
	out := connection.SSHEndpoint{Host: e.host, Port: e.port, User: e.user,
		IdentityFiles: append([]string(nil), e.identityFiles...), KnownHostsFile: e.knownHosts, HostKeyPolicy: e.policy}
	if c.pool != nil {
		o := c.pool.opts
		out.KnownHostsFile = firstNonEmpty(out.KnownHostsFile, o.KnownHostsFile)
		out.HostKeyPolicy = firstNonEmpty(out.HostKeyPolicy, o.HostKeyPolicy)
		out.ConfigFile = o.SSHConfigFile
	}
	var jumps []string
	for j := e.via; j != nil; j = j.via {
		jumps = append([]string{j.user + "@" + j.host + ":" + strconv.Itoa(j.port)}, jumps...)
	}
	out.Jumps = jumps
	return out
}
