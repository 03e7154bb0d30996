package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tend-dev/tend/pkg/connection"
)

// Pool hands out one SSH connection per endpoint for the duration of a run.
// It is safe for concurrent use: concurrent Gets for the same host dial
// once and share the result.
type Pool struct {
	opts Options

	initOnce sync.Once
	initErr  error
	resolver *resolver
	hostKeys map[string]*hostKeys // by policy, for the pool's known_hosts file

	hkMu       sync.Mutex
	otherHosts map[string]*hostKeys // by policy and file, for UserKnownHostsFile
	auth       *auth

	mu      sync.Mutex
	entries map[string]*entry
	lost    map[string]bool // endpoints whose connection was lost: dialed again on failure
	order   []*Conn         // dialed connections, bastions before the hosts behind them
	closed  bool
}

// entry is one endpoint's dial, shared by every Get that wants it.
type entry struct {
	ready chan struct{} // closed when conn/err are set
	conn  *Conn
	err   error
}

// NewPool returns an empty pool. Nothing is read or dialed until Get.
func NewPool(opts Options) *Pool {
	return &Pool{opts: opts.withDefaults(), entries: map[string]*entry{}, lost: map[string]bool{}}
}

func (p *Pool) init() error {
	p.initOnce.Do(func() {
		p.resolver, p.initErr = newResolver(p.opts.SSHConfigFile)
		if p.initErr != nil {
			return
		}
		p.hostKeys = map[string]*hostKeys{}
		for _, pol := range []string{PolicyAcceptNew, PolicyStrict, PolicyOff} {
			hk, err := newHostKeys(p.opts.KnownHostsFile, pol, p.opts.Warn)
			if err != nil {
				p.initErr = err
				return
			}
			p.hostKeys[pol] = hk
		}
		if _, ok := p.hostKeys[p.opts.HostKeyPolicy]; !ok {
			p.initErr = fmt.Errorf("unknown host key policy %q (want accept-new, strict or off)", p.opts.HostKeyPolicy)
		}
		p.auth = newAuth(p.opts)
	})
	return p.initErr
}

// Get returns the connection for host, dialing it on first use. vars are
// the host's inventory variables (ansible_host, ansible_port, ansible_user,
// ansible_ssh_private_key_file, ansible_password, ansible_ssh_common_args,
// ansible_ssh_extra_args, ansible_connection). A host whose
// ansible_connection is not one Serves accepts is an error: choosing
// another transport is the caller's business. Errors for hosts that
// cannot be reached wrap connection.ErrUnreachable and say why.
func (p *Pool) Get(ctx context.Context, host string, vars map[string]any) (connection.Connection, error) {
	if c := varString(vars, "ansible_connection"); !Serves(c) {
		return nil, fmt.Errorf("host %s: ansible_connection %q is not an SSH connection", host, c)
	}
	if err := p.init(); err != nil {
		return nil, fmt.Errorf("host %s: %w", host, err)
	}
	e, err := p.resolver.resolve(host, vars)
	if err != nil {
		return nil, err
	}
	c, err := p.conn(ctx, e)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Serves reports whether a host with this ansible_connection (trimmed)
// connects through a Pool: unset, ssh, and Ansible's other SSH
// implementations (paramiko, smart).
func Serves(connectionType string) bool {
	switch connectionType {
	case "", "ssh", "paramiko", "smart":
		return true
	}
	return false
}

// conn returns the shared connection for e, dialing it (and its jump hosts)
// at most once while it lasts. A dial cut short by ctx is not remembered;
// a connection that was lost (the host rebooted, the network dropped it)
// is dialed again by the next Get, as Ansible connects again for the next
// task, so an async task's polls reach the host once it is back.
func (p *Pool) conn(ctx context.Context, e *endpoint) (*Conn, error) {
	key := e.key()
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, fmt.Errorf("host %s: connection pool is closed", e.name)
		}
		en, ok := p.entries[key]
		if !ok {
			en = &entry{ready: make(chan struct{})}
			p.entries[key] = en
		}
		p.mu.Unlock()
		if !ok {
			return p.dialEntry(ctx, e, key, en)
		}
		select {
		case <-en.ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("host %s: %w", e.name, ctx.Err())
		}
		if en.err != nil {
			return nil, en.err
		}
		if en.conn.broken() == nil {
			return en.conn, nil
		}
		p.mu.Lock()
		if p.entries[key] == en {
			delete(p.entries, key)
			p.lost[key] = true
		}
		p.mu.Unlock()
	}
}

// dialEntry dials e for the pool entry en, which it fills and readies.
// A failed dial is remembered (the host is unreachable for the rest of
// the run) unless ctx cut it short or the host had been reached before.
func (p *Pool) dialEntry(ctx context.Context, e *endpoint, key string, en *entry) (*Conn, error) {
	c, err := p.dial(ctx, e)
	if err == nil {
		c.pool, c.ep = p, e
	}
	p.mu.Lock()
	if err != nil && (ctx.Err() != nil || p.lost[key]) {
		delete(p.entries, key) // a later Get may try again
	}
	if err == nil {
		if p.closed {
			err = fmt.Errorf("host %s: connection pool is closed", e.name)
			c.Close()
			c = nil
		} else {
			p.order = append(p.order, c)
		}
	}
	en.conn, en.err = c, err
	p.mu.Unlock()
	close(en.ready)
	return c, err
}

// redial replaces old, the pool's connection for its endpoint (unless a
// healthy replacement exists already, which is then shared), and returns
// the new connection. A failed dial is forgotten so the next redial tries
// again.
func (p *Pool) redial(ctx context.Context, old *Conn) (connection.Connection, error) {
	key := old.ep.key()
	p.mu.Lock()
	if en, ok := p.entries[key]; ok {
		select {
		case <-en.ready:
			if en.conn == old || en.err != nil || en.conn.broken() != nil {
				delete(p.entries, key)
			}
		default: // a dial under way is shared
		}
	}
	p.mu.Unlock()
	old.Close()
	c, err := p.conn(ctx, old.ep)
	if err != nil {
		p.mu.Lock()
		if en, ok := p.entries[key]; ok {
			select {
			case <-en.ready:
				if en.err != nil {
					delete(p.entries, key)
				}
			default:
			}
		}
		p.mu.Unlock()
		return nil, err
	}
	return c, nil
}

// dial connects to e, through its jump host if it has one, retrying
// transient failures with exponential backoff.
func (p *Pool) dial(ctx context.Context, e *endpoint) (*Conn, error) {
	var jump *Conn
	if e.via != nil {
		j, err := p.conn(ctx, e.via)
		if err != nil {
			return nil, &connection.UnreachableError{Host: e.name, Err: fmt.Errorf("via jump host %s: %w", e.via.name, err)}
		}
		jump = j
	}
	backoff := 500 * time.Millisecond
	var err error
	for attempt := 0; ; attempt++ {
		var c *Conn
		c, err = p.dialOnce(ctx, e, jump)
		if err == nil {
			return c, nil
		}
		if attempt >= p.opts.ConnectRetries || !transient(err) || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff *= 2
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return nil, &connection.UnreachableError{Host: e.name, Err: err}
}

// dialError is a failed connection attempt with a reason for humans.
type dialError struct {
	reason string
	err    error
	retry  bool
}

func (d *dialError) Error() string {
	if d.err == nil {
		return d.reason
	}
	return d.reason + ": " + d.err.Error()
}
func (d *dialError) Unwrap() error { return d.err }

func transient(err error) bool {
	var d *dialError
	return errors.As(err, &d) && d.retry
}

func (p *Pool) timeouts(e *endpoint) (connect, keepAlive time.Duration) {
	connect = firstDuration(p.opts.ConnectTimeout, e.connectTimeout, defaultConnectTimeout)
	keepAlive = firstDuration(p.opts.KeepAlive, e.keepAlive, defaultKeepAlive)
	return connect, keepAlive
}

func firstDuration(ds ...time.Duration) time.Duration {
	for _, d := range ds {
		if d != 0 {
			return d
		}
	}
	return 0
}

func (p *Pool) dialOnce(ctx context.Context, e *endpoint, jump *Conn) (*Conn, error) {
	timeout, keepAlive := p.timeouts(e)
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := e.addr()

	var nc net.Conn
	var err error
	if jump == nil {
		var d net.Dialer
		nc, err = d.DialContext(dctx, "tcp", addr)
	} else {
		nc, err = jump.client.DialContext(dctx, "tcp", addr)
	}
	if err != nil {
		return nil, classifyDial(addr, jump, timeout, dctx, err)
	}

	policy := firstNonEmpty(e.policy, p.opts.HostKeyPolicy)
	hk := p.hostKeys[policy]
	if e.knownHosts != "" && e.knownHosts != p.opts.KnownHostsFile && hk != nil {
		var herr error
		if hk, herr = p.knownHostsFor(e.knownHosts, policy); herr != nil {
			nc.Close()
			return nil, &dialError{reason: herr.Error()}
		}
	}
	if hk == nil {
		nc.Close()
		return nil, &dialError{reason: fmt.Sprintf("unknown host key policy %q", policy)}
	}
	methods, closeAgent, notes := p.auth.methods(e)
	defer closeAgent()
	cfg := &ssh.ClientConfig{
		User:              e.user,
		Auth:              methods,
		HostKeyCallback:   hk.callback(addr),
		HostKeyAlgorithms: hk.algorithms(addr),
		Timeout:           timeout,
	}

	// NewClientConn has no context and channel connections through a jump
	// host do not support deadlines: closing nc is what stops a handshake.
	type result struct {
		c     ssh.Conn
		chans <-chan ssh.NewChannel
		reqs  <-chan *ssh.Request
		err   error
	}
	done := make(chan result, 1)
	go func() {
		c, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
		done <- result{c, chans, reqs, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-dctx.Done():
		nc.Close()
		r = <-done
		if r.err == nil {
			r.c.Close()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &dialError{reason: fmt.Sprintf("ssh handshake with %s timed out after %s", addr, timeout), err: context.DeadlineExceeded, retry: true}
	}
	if r.err != nil {
		nc.Close()
		return nil, classifyHandshake(e, addr, r.err, *notes)
	}
	client := ssh.NewClient(r.c, r.chans, r.reqs)
	return newConn(e.name, client, p.opts, keepAlive, jump), nil
}

func classifyDial(addr string, jump *Conn, timeout time.Duration, ctx context.Context, err error) error {
	via := ""
	if jump != nil {
		via = " (via jump host " + jump.host + ")"
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return &dialError{reason: fmt.Sprintf("cannot resolve host name %q%s", dnsErr.Name, via), err: err, retry: dnsErr.IsTemporary}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &dialError{reason: fmt.Sprintf("connection to %s refused%s", addr, via), err: err, retry: true}
	case ctx.Err() == context.DeadlineExceeded || isTimeout(err):
		return &dialError{reason: fmt.Sprintf("connection to %s timed out after %s%s", addr, timeout, via), err: err, retry: true}
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return &dialError{reason: fmt.Sprintf("no route to %s%s", addr, via), err: err, retry: true}
	case jump != nil && strings.Contains(err.Error(), "connect failed"):
		// sshd on the jump host reports DNS, refused and timeouts alike.
		return &dialError{reason: fmt.Sprintf("jump host %s could not connect to %s", jump.host, addr), err: err, retry: true}
	}
	return &dialError{reason: fmt.Sprintf("connect to %s%s", addr, via), err: err}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func classifyHandshake(e *endpoint, addr string, err error, notes []string) error {
	var hke *HostKeyError
	if errors.As(err, &hke) {
		return &dialError{reason: "host key verification failed", err: hke}
	}
	msg := err.Error()
	if strings.Contains(msg, "unable to authenticate") || strings.Contains(msg, "no supported methods remain") {
		reason := fmt.Sprintf("authentication failed for %s@%s", e.user, addr)
		if len(notes) > 0 {
			reason += " (" + strings.Join(notes, "; ") + ")"
		}
		return &dialError{reason: reason, err: err}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || isTimeout(err) {
		// sshd drops connections beyond MaxStartups; that passes.
		return &dialError{reason: fmt.Sprintf("ssh handshake with %s failed: connection closed by remote", addr), err: err, retry: true}
	}
	return &dialError{reason: fmt.Sprintf("ssh handshake with %s failed", addr), err: err}
}

// Close closes every connection of the pool, hosts before the jump hosts
// they run through. It is safe to call more than once; Get fails after it.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	order := p.order
	p.order = nil
	p.mu.Unlock()
	var errs []error
	for i := len(order) - 1; i >= 0; i-- {
		if err := order[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// knownHostsFor returns the host key checker for a known_hosts file named
// by a host's UserKnownHostsFile, made once per file and policy.
func (p *Pool) knownHostsFor(file, policy string) (*hostKeys, error) {
	p.hkMu.Lock()
	defer p.hkMu.Unlock()
	key := policy + "\x00" + file
	if hk, ok := p.otherHosts[key]; ok {
		return hk, nil
	}
	hk, err := newHostKeys(file, policy, p.opts.Warn)
	if err != nil {
		return nil, err
	}
	if p.otherHosts == nil {
		p.otherHosts = map[string]*hostKeys{}
	}
	p.otherHosts[key] = hk
	return hk, nil
}
