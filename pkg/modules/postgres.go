package modules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/connection"
	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// The PostgreSQL modules need no driver on the target: they run the psql
// client there, feeding it SQL on standard input, with the task's become
// (usually become_user: postgres and peer authentication over the unix
// socket) or with login_host/login_user/login_password for a server
// elsewhere. Decisions are made from one query that returns a single JSON
// value, so parsing never depends on psql's table formatting.

// pgConnArgs are the connection arguments shared by the postgresql_*
// modules, with Ansible's names and defaults.
func pgConnArgs() []module.Arg {
	return []module.Arg{
		{Name: "login_user", Aliases: []string{"login"}, Type: module.String, Default: "postgres",
			Doc: "Role to connect as. With no login_host this is usually the role matching the become user (peer authentication)."},
		{Name: "login_password", Type: module.String, NoLog: true,
			Doc: "Password of login_user. Passed to psql through PGPASSWORD read from standard input: it never appears on a command line or in output."},
		{Name: "login_host", Aliases: []string{"host"}, Type: module.String,
			Doc: "Host of the server. Empty: connect through the local unix socket."},
		{Name: "login_unix_socket", Aliases: []string{"unix_socket"}, Type: module.String,
			Doc: "Directory of the server's unix socket, when not the default."},
		{Name: "port", Aliases: []string{"login_port"}, Type: module.Int, Default: 5432,
			Doc: "Server port."},
		{Name: "ssl_mode", Type: module.String, Default: "prefer",
			Choices: []string{"allow", "disable", "prefer", "require", "verify-ca", "verify-full"},
			Doc:     "libpq sslmode for TCP connections."},
		{Name: "ca_cert", Aliases: []string{"ssl_rootcert"}, Type: module.String,
			Doc: "Path on the target of the CA certificate(s) checked with verify-ca/verify-full."},
		{Name: "ssl_cert", Type: module.Path, Expand: true,
			Doc: "Path on the target of the client certificate for TCP connections (libpq sslcert)."},
		{Name: "ssl_key", Type: module.Path, Expand: true,
			Doc: "Path on the target of the client certificate's private key (libpq sslkey)."},
		{Name: "connect_params", Type: module.Dict,
			Doc: "More libpq connection parameters (connect_timeout, target_session_attrs, sslcrl...), added last so they override the others, as in Ansible. A password given here travels like login_password (standard input), never on the command line."},
		{Name: "session_role", Type: module.String,
			Doc: "Switch to this role after connecting (libpq options -c role=...; the same as SET ROLE): login_user must be a member of it, and privileges are checked as that role's."},
		{Name: "trust_input", Type: module.Bool, Default: true,
			Doc: "Accepted for compatibility: tend always quotes identifiers and literals, so no input can inject SQL."},
	}
}

// pgConn is how to reach a server with psql from the target.
type pgConn struct {
	User, Password, Host, Socket, SSLMode, CACert string
	Port                                          int
	// SessionRole is set as the role at connection start ("" for none).
	SessionRole string
	// SSLCert and SSLKey are libpq's sslcert and sslkey; Params are
	// connect_params (keys checked by newPgConn), added last.
	SSLCert, SSLKey string
	Params          map[string]string
	// Encoding is the session's client encoding when not UTF-8
	// (postgresql_query's encoding); nil: UTF-8.
	Encoding *pgEncoding
	// RawEncoding leaves client_encoding to the client (pg_dump).
	RawEncoding bool
}

func newPgConn(args module.Args) pgConn {
	return pgConn{
		User:     args.String("login_user"),
		Password: args.String("login_password"),
		Host:     args.String("login_host"),
		Socket:   args.String("login_unix_socket"),
		SSLMode:  args.String("ssl_mode"),
		CACert:   args.String("ca_cert"),
		Port:     args.Int("port"),

		SessionRole: args.String("session_role"),
		SSLCert:     args.String("ssl_cert"),
		SSLKey:      args.String("ssl_key"),
	}
}

// pgParamRe is a libpq connection keyword.
var pgParamRe = regexp.MustCompile(`^[a-z_]+$`)

// pgConnFromArgs is newPgConn with connect_params checked: a key that is
// not a libpq keyword is an error; password moves to Password so that it
// goes through standard input.
func pgConnFromArgs(args module.Args) (pgConn, error) {
	c := newPgConn(args)
	for k, v := range args.Dict("connect_params") {
		if !pgParamRe.MatchString(k) {
			return c, fmt.Errorf("connect_params: %q is not a libpq connection parameter name", k)
		}
		val := fmt.Sprint(v)
		if b, ok := v.(bool); ok {
			val = map[bool]string{true: "1", false: "0"}[b]
		}
		if k == "password" {
			c.Password = val
			continue
		}
		if c.Params == nil {
			c.Params = map[string]string{}
		}
		c.Params[k] = val
	}
	return c, nil
}

// conninfoValue quotes v for a libpq connection string.
func conninfoValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// conninfo is the libpq connection string for database db. It never
// holds the password.
func (c pgConn) conninfo(db string) string {
	parts := []string{"dbname=" + conninfoValue(db)}
	if c.User != "" {
		parts = append(parts, "user="+conninfoValue(c.User))
	}
	// As in Ansible's postgresql modules, a socket directory replaces an
	// empty login_host and "localhost" too: libpq would read "localhost"
	// as TCP.
	switch {
	case c.Host != "" && !(c.Host == "localhost" && c.Socket != ""):
		parts = append(parts, "host="+conninfoValue(c.Host))
		if c.SSLMode != "" {
			parts = append(parts, "sslmode="+conninfoValue(c.SSLMode))
		}
		if c.CACert != "" {
			parts = append(parts, "sslrootcert="+conninfoValue(c.CACert))
		}
		if c.SSLCert != "" {
			parts = append(parts, "sslcert="+conninfoValue(c.SSLCert))
		}
		if c.SSLKey != "" {
			parts = append(parts, "sslkey="+conninfoValue(c.SSLKey))
		}
	case c.Socket != "":
		parts = append(parts, "host="+conninfoValue(c.Socket))
	}
	if c.Port != 0 {
		parts = append(parts, "port="+strconv.Itoa(c.Port))
	}
	if c.SessionRole != "" {
		// libpq options: backslash escapes spaces and backslashes.
		role := strings.NewReplacer(`\`, `\\`, " ", `\ `).Replace(c.SessionRole)
		parts = append(parts, "options="+conninfoValue("-c role="+role))
	}
	enc := "UTF8"
	if c.Encoding != nil {
		enc = c.Encoding.Name
	}
	if !c.RawEncoding {
		parts = append(parts, "client_encoding="+conninfoValue(enc))
	}
	parts = append(parts, "application_name='tend'")
	keys := make([]string, 0, len(c.Params))
	for k := range c.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+conninfoValue(c.Params[k]))
	}
	return strings.Join(parts, " ")
}

// psqlCommand builds the command that runs sql in database db. psql gets
// -X (no ~/.psqlrc), -A -t (unaligned, tuples only), -w (never prompt)
// and ON_ERROR_STOP so the first error aborts with a non-zero exit. With
// quiet, command tags (CREATE ROLE...) are not printed. The SQL and the
// password travel on standard input: the password as the first line,
// read into PGPASSWORD by the shell, so neither shows in ps output.
func (c pgConn) psqlCommand(db, sql string, quiet bool) (connection.Command, error) {
	if strings.ContainsAny(c.Password, "\n\x00") {
		return connection.Command{}, fmt.Errorf("login_password must not contain a newline or NUL")
	}
	flags := "-X -A -t -w"
	if quiet {
		flags += " -q"
	}
	line := "psql " + flags + " -v ON_ERROR_STOP=1 -d " + shell.Quote(c.conninfo(db))
	if c.Encoding != nil {
		var err error
		if sql, err = c.Encoding.encode(sql); err != nil {
			return connection.Command{}, err
		}
	}
	stdin := sql
	if c.Password != "" {
		line = "IFS= read -r PGPASSWORD || exit 2; export PGPASSWORD; exec " + line
		stdin = c.Password + "\n" + sql
	}
	// cd / so psql run as postgres does not warn about root's home.
	return connection.Command{Cmd: line, Stdin: strings.NewReader(stdin), Dir: "/"}, nil
}

// pgError is a failed psql run: the server's or psql's message.
type pgError struct {
	Msg string
	RC  int
}

func (e *pgError) Error() string { return e.Msg }

// psql runs sql and returns its standard output. A *pgError means psql ran
// and failed (a module failure); other errors are transport errors.
func psql(ctx context.Context, h *module.Host, c pgConn, db, sql string, quiet bool) (string, error) {
	cmd, err := c.psqlCommand(db, sql, quiet)
	if err != nil {
		return "", &pgError{Msg: err.Error(), RC: 2}
	}
	res, err := h.RunWith(ctx, cmd)
	if err != nil {
		return "", fmt.Errorf("psql on %s: %w", h.Name, err)
	}
	if c.Encoding != nil {
		res.Stdout, res.Stderr = c.Encoding.decode(res.Stdout), c.Encoding.decode(res.Stderr)
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(string(res.Stderr))
		if res.ExitCode == 127 {
			msg = "psql not found on the host (install the PostgreSQL client): " + msg
		}
		if msg == "" {
			msg = fmt.Sprintf("psql exited with code %d", res.ExitCode)
		}
		return string(res.Stdout), &pgError{Msg: msg, RC: res.ExitCode}
	}
	return string(res.Stdout), nil
}

// psqlJSON runs a query returning one JSON value and decodes it into v.
func psqlJSON(ctx context.Context, h *module.Host, c pgConn, db, sql string, v any) error {
	out, err := psql(ctx, h, c, db, sql, true)
	if err != nil {
		return err
	}
	out = strings.TrimSpace(out)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return &pgError{Msg: fmt.Sprintf("unexpected psql output %q: %v", pgTruncate(out, 200), err), RC: 1}
	}
	return nil
}

// pgFailure turns an error from psql into a module result, or passes a
// transport error through.
func pgFailure(err error, extra module.Result) (*module.Plan, error) {
	var pe *pgError
	if !asPgError(err, &pe) {
		return nil, err
	}
	r := module.Failed("%s", pe.Msg)
	for k, v := range extra {
		r[k] = v
	}
	return module.Unchanged(r), nil
}

func asPgError(err error, target **pgError) bool { return errors.As(err, target) }

func pgTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// quoteIdent quotes a PostgreSQL identifier: "a""b". It rejects NUL,
// which no identifier can hold.
func quoteIdent(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty identifier")
	}
	if strings.ContainsRune(s, 0) {
		return "", fmt.Errorf("identifier %q contains a NUL byte", s)
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`, nil
}

// quoteLiteral quotes a string literal the way libpq's PQescapeLiteral
// does: quotes doubled, and when s holds a backslash the E” form with
// backslashes doubled, so the result means s whatever the server's
// standard_conforming_strings setting is.
func quoteLiteral(s string) (string, error) {
	if strings.ContainsRune(s, 0) {
		return "", fmt.Errorf("string literal contains a NUL byte")
	}
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		q = "E'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
	}
	return q, nil
}

// sqlQuoter quotes several identifiers or literals, stopping at the first
// error; it keeps the SQL builders readable.
type sqlQuoter struct{ err error }

func (q *sqlQuoter) ident(s string) string {
	r, err := quoteIdent(s)
	if err != nil && q.err == nil {
		q.err = err
	}
	return r
}

func (q *sqlQuoter) lit(s string) string {
	r, err := quoteLiteral(s)
	if err != nil && q.err == nil {
		q.err = err
	}
	return r
}

// litList quotes each string as a literal and joins them with commas.
func (q *sqlQuoter) litList(l []string) string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = q.lit(s)
	}
	return strings.Join(out, ", ")
}

// pgApply returns an Apply that runs the statements in db (each on its
// own, so statements that refuse a transaction block, like CREATE
// DATABASE, work) and reports them as "queries" (shown: the statements
// with secrets masked). Any of secrets quoted back in an error message
// is masked too.
func pgApply(h *module.Host, c pgConn, db string, stmts, shown []string, base module.Result, secrets ...string) func(context.Context) (module.Result, error) {
	return func(ctx context.Context) (module.Result, error) {
		r := module.Result{}
		for k, v := range base {
			r[k] = v
		}
		r["queries"] = shown
		r["executed_queries"] = shown
		_, err := psql(ctx, h, c, db, strings.Join(stmts, ";\n")+";\n", true)
		if err != nil {
			var pe *pgError
			if !asPgError(err, &pe) {
				return nil, err
			}
			r["failed"] = true
			r["msg"] = maskSecrets(pe.Msg, secrets)
		}
		return r, nil
	}
}

// maskSecrets replaces every non-empty secret in s with ********.
func maskSecrets(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "********")
		}
	}
	return s
}
