package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
)

// PostgresqlQuery runs SQL and returns its rows.
type PostgresqlQuery struct{}

var _ module.Module = (*PostgresqlQuery)(nil)

// Spec implements module.Module.
func (PostgresqlQuery) Spec() *module.Spec {
	args := []module.Arg{
		{Name: "db", Aliases: []string{"login_db"}, Type: module.String, Default: "postgres", Doc: "Database to run the query in."},
		{Name: "query", Type: module.String, Doc: "SQL to run: one statement, or several separated by semicolons. Not with path_to_script."},
		{Name: "path_to_script", Type: module.Path, Expand: true, Doc: "Path ON THE TARGET of an SQL script to run instead of query (deprecated in Ansible for postgresql_script); " +
			"the placeholders and results are those of query."},
		{Name: "as_single_query", Type: module.Bool, Default: true, Doc: "With path_to_script, Ansible runs the file as one query (true) or splits it at every " +
			"semicolon (false, which breaks function bodies). tend always splits scripts with its SQL-aware splitter (quotes, dollar quoting and comments kept " +
			"whole) and runs them in one psql session, so both values run the same statements; results follow the last statement, as with true " +
			"(with false Ansible also lists every statement's rows in query_all_results)."},
		{Name: "encoding", Type: module.String, Doc: "Client encoding of the session (UTF-8, LATIN1, WIN1252, KOI8R, EUC_JP, SJIS, GBK, BIG5...; " +
			"PostgreSQL's names): the server converts to and from it, as in Ansible, and tend converts the SQL and the results between it and UTF-8. " +
			"Default: UTF-8."},
		{Name: "positional_args", Type: module.List, Doc: "Values for %s placeholders, in order (psycopg2 style; %% is a literal %)."},
		{Name: "named_args", Type: module.Dict, Doc: "Values for %(name)s placeholders."},
		{Name: "autocommit", Type: module.Bool, Default: false,
			Doc: "Run the statements outside a transaction (needed for CREATE DATABASE, VACUUM...). Default: all statements in one transaction, committed at the end."},
		{Name: "search_path", Type: module.List, Elements: module.String, Doc: "Schemas to set as search_path first."},
	}
	return &module.Spec{
		Name:  "postgresql_query",
		Short: "Run a PostgreSQL query and return its rows",
		Description: `Runs SQL with psql on the target (no driver needed there), as
become_user postgres over the unix socket by default, or with login_host and friends.

Placeholders are bound on the controller: positional_args fill %s and named_args fill
%(name)s, each value rendered as an SQL literal (strings quoted with quotes and
backslashes escaped, numbers and booleans as they are, null as NULL, lists as
ARRAY[...]), so values can never break out of their literal. As with psycopg2, %
is only special when arguments are given.

Results: a statement that returns rows (SELECT, WITH, VALUES, TABLE, or INSERT/
UPDATE/DELETE ... RETURNING) is wrapped as WITH tend_q AS (...) SELECT json_agg(tend_q)
so query_result is a list of dicts with JSON types (numbers stay numbers, json columns
are nested). A statement beginning with WITH that holds its own data-modifying CTE
cannot be wrapped that way; run it without RETURNING rows. Other statements return
statusmessage (the command tag of the last statement, like "UPDATE 3") and rowcount; with
several statements query_result is empty.

changed follows Ansible: false for statements returning rows through SELECT, true for
INSERT/UPDATE/DELETE that touched rows and for every other statement (DDL).
Check mode: a plain SELECT is run (in a READ ONLY transaction that is rolled back) and
its rows are returned; DDL is reported as changed without running; data-modifying
statements, whose effect cannot be known without running them, are skipped (Ansible
runs them and rolls back).`,
		Args:              append(args, pgConnArgs()...),
		MutuallyExclusive: [][]string{{"positional_args", "named_args"}, {"query", "path_to_script"}},
		RequiredOneOf:     [][]string{{"query", "path_to_script"}},
		Check:             module.CheckPartial,
		Examples: `- name: Count sessions
  community.postgresql.postgresql_query:
    db: connect
    query: SELECT count(*) AS n FROM sessions WHERE user_name = %s
    positional_args: ["{{ user }}"]
  become: true
  become_user: postgres
  register: sessions

- name: Create an extension
  postgresql_query:
    db: connect
    query: CREATE EXTENSION IF NOT EXISTS pgcrypto
  become: true
  become_user: postgres`,
	}
}

// sqlLiteral renders a Go value (from YAML) as an SQL literal.
func sqlLiteral(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case bool:
		if x {
			return "TRUE", nil
		}
		return "FALSE", nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "'" + strconv.FormatFloat(x, 'g', -1, 64) + "'::float8", nil
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case string:
		return quoteLiteral(x)
	case []any:
		if len(x) == 0 {
			return "'{}'", nil
		}
		parts := make([]string, len(x))
		for i, e := range x {
			l, err := sqlLiteral(e)
			if err != nil {
				return "", err
			}
			parts[i] = l
		}
		return "ARRAY[" + strings.Join(parts, ", ") + "]", nil
	case map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return "", fmt.Errorf("argument %v: %w", x, err)
		}
		return quoteLiteral(string(b))
	}
	return quoteLiteral(fmt.Sprint(v))
}

var namedPlaceholder = regexp.MustCompile(`^%\(([^)]+)\)s`)

// bindArgs substitutes %s / %(name)s placeholders psycopg2-style. With no
// arguments the query is returned unchanged (% is not special then).
func bindArgs(query string, positional []any, named map[string]any) (string, error) {
	if positional == nil && named == nil {
		return query, nil
	}
	var b strings.Builder
	next := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		rest := query[i:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			i++
		case strings.HasPrefix(rest, "%s"):
			if named != nil {
				return "", fmt.Errorf("query uses %%s but named_args were given")
			}
			if next >= len(positional) {
				return "", fmt.Errorf("query has more %%s placeholders than the %d positional_args", len(positional))
			}
			l, err := sqlLiteral(positional[next])
			if err != nil {
				return "", fmt.Errorf("positional_args[%d]: %w", next, err)
			}
			b.WriteString(l)
			next++
			i++
		default:
			m := namedPlaceholder.FindStringSubmatch(rest)
			if m == nil {
				return "", fmt.Errorf("unsupported %% sequence at %q (use %%%% for a literal %%)", pgTruncate(rest, 10))
			}
			if named == nil {
				return "", fmt.Errorf("query uses %%(%s)s but no named_args were given", m[1])
			}
			v, ok := named[m[1]]
			if !ok {
				return "", fmt.Errorf("named_args has no %q", m[1])
			}
			l, err := sqlLiteral(v)
			if err != nil {
				return "", fmt.Errorf("named_args %s: %w", m[1], err)
			}
			b.WriteString(l)
			i += len(m[0]) - 1
		}
	}
	if positional != nil && next != len(positional) {
		return "", fmt.Errorf("query has %d %%s placeholders but %d positional_args were given", next, len(positional))
	}
	return b.String(), nil
}

// sqlStatement is one statement of a query: its text and its words
// outside literals, identifiers and comments (upper case).
type sqlStatement struct {
	Text  string
	Words []string
}

var dollarTag = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z_0-9]*)?\$`)

// splitSQL splits a query into statements at semicolons outside quotes,
// dollar quotes and comments, the way psql does.
func splitSQL(q string) []sqlStatement {
	var out []sqlStatement
	var text, bare strings.Builder
	flush := func() {
		t := strings.TrimSpace(text.String())
		if t != "" {
			out = append(out, sqlStatement{Text: t, Words: strings.Fields(strings.ToUpper(wordChars(bare.String())))})
		}
		text.Reset()
		bare.Reset()
	}
	for i := 0; i < len(q); {
		if q[i] == ';' {
			flush()
			i++
			continue
		}
		if j := sqlOpaqueEnd(q, i); j > i {
			// Comments and literals are kept in the text but are no
			// words of the statement.
			text.WriteString(q[i:j])
			bare.WriteByte(' ')
			i = j
			continue
		}
		text.WriteByte(q[i])
		bare.WriteByte(q[i])
		i++
	}
	flush()
	return out
}

// sqlOpaqueEnd returns where the comment, quoted literal or identifier,
// or dollar-quoted string starting at q[i] ends, or i when none starts
// there. An unterminated one runs to the end of q.
func sqlOpaqueEnd(q string, i int) int {
	c := q[i]
	switch {
	case c == '-' && strings.HasPrefix(q[i:], "--"):
		if j := strings.IndexByte(q[i:], '\n'); j >= 0 {
			return i + j
		}
		return len(q)
	case c == '/' && strings.HasPrefix(q[i:], "/*"):
		return sqlBlockCommentEnd(q, i)
	case c == '\'' || c == '"':
		escapes := c == '\'' && i > 0 && (q[i-1] == 'E' || q[i-1] == 'e') && (i < 2 || !isWordChar(q[i-2]))
		return sqlQuotedEnd(q, i, escapes)
	case c == '$' && (i == 0 || !isWordChar(q[i-1])):
		if m := dollarTag.FindString(q[i:]); m != "" {
			if end := strings.Index(q[i+len(m):], m); end >= 0 {
				return i + len(m) + end + len(m)
			}
			return len(q)
		}
	}
	return i
}

// sqlBlockCommentEnd returns the end of the /* comment */ at q[i]; such
// comments nest in PostgreSQL.
func sqlBlockCommentEnd(q string, i int) int {
	depth, j := 0, i
	for j < len(q) {
		switch {
		case strings.HasPrefix(q[j:], "/*"):
			depth++
			j += 2
		case strings.HasPrefix(q[j:], "*/"):
			depth--
			j += 2
			if depth == 0 {
				return j
			}
		default:
			j++
		}
	}
	return j
}

// sqlQuotedEnd returns the end of the literal or identifier quoted by
// q[i]; a doubled quote stays inside, and so does a backslash-escaped one
// in an E-prefixed string.
func sqlQuotedEnd(q string, i int, escapes bool) int {
	c := q[i]
	j := i + 1
	for j < len(q) {
		if escapes && q[j] == '\\' {
			j += 2
			continue
		}
		if q[j] == c {
			if j+1 < len(q) && q[j+1] == c {
				j += 2
				continue
			}
			return j + 1
		}
		j++
	}
	return min(j, len(q))
}

func isWordChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// wordChars replaces everything but word characters with spaces.
func wordChars(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !isWordChar(c) {
			b[i] = ' '
		}
	}
	return string(b)
}

// queryKind classifies a query for check mode, changed and result shape.
type queryKind int

const (
	queryRows     queryKind = iota // SELECT-like: wrapped, read-only attempt in Plan
	queryModifyRe                  // INSERT/UPDATE/DELETE/MERGE ... RETURNING: wrapped, unpredictable
	queryModify                    // INSERT/UPDATE/DELETE/MERGE/COPY: tag, unpredictable
	queryDDL                       // anything else: tag, always changed
	queryMulti                     // several statements: tag of the last, unpredictable
)

func classify(stmts []sqlStatement) queryKind {
	if len(stmts) != 1 {
		return queryMulti
	}
	w := stmts[0].Words
	if len(w) == 0 {
		return queryDDL
	}
	switch w[0] {
	case "SELECT", "WITH", "VALUES", "TABLE":
		for _, x := range w {
			if x == "INTO" && w[0] == "SELECT" {
				return queryDDL // SELECT INTO creates a table
			}
		}
		return queryRows
	case "INSERT", "UPDATE", "DELETE", "MERGE":
		for _, x := range w {
			if x == "RETURNING" {
				return queryModifyRe
			}
		}
		return queryModify
	case "COPY":
		return queryModify
	}
	return queryDDL
}

// tagChanged applies Ansible's rule to a command tag: INSERT/UPDATE/
// DELETE change only when they touched rows, SELECT never, the rest always.
func tagChanged(tag string) bool {
	if strings.Contains(tag, "SELECT") {
		return false
	}
	f := strings.Fields(tag)
	if len(f) > 0 && (f[0] == "INSERT" || f[0] == "UPDATE" || f[0] == "DELETE" || f[0] == "MERGE") {
		return f[len(f)-1] != "0"
	}
	return true
}

// tagRowcount is the row count in a command tag, -1 when it has none
// (DDL), as psycopg2 reports.
func tagRowcount(tag string) int {
	f := strings.Fields(tag)
	if len(f) >= 2 {
		if n, err := strconv.Atoi(f[len(f)-1]); err == nil {
			return n
		}
	}
	return -1
}

// querySQL builds the script psql runs. wrap wraps a single row-returning
// statement into one JSON value; readOnly runs it in a rolled-back
// READ ONLY transaction.
func querySQL(stmts []sqlStatement, searchPath []string, autocommit, wrap, readOnly bool) (string, error) {
	var q sqlQuoter
	var b strings.Builder
	switch {
	case readOnly:
		b.WriteString("BEGIN READ ONLY;\n")
	case !autocommit:
		b.WriteString("BEGIN;\n")
	}
	if len(searchPath) > 0 {
		ids := make([]string, len(searchPath))
		for i, s := range searchPath {
			ids[i] = q.ident(s)
		}
		b.WriteString("SET LOCAL search_path TO " + strings.Join(ids, ", ") + ";\n")
		if autocommit && !readOnly {
			// SET LOCAL outside a transaction only warns; use SET.
			s := b.String()
			b.Reset()
			b.WriteString(strings.Replace(s, "SET LOCAL", "SET", 1))
		}
	}
	if wrap {
		b.WriteString("WITH tend_q AS (\n" + stmts[0].Text + "\n) SELECT coalesce(json_agg(tend_q), '[]'::json) FROM tend_q;\n")
	} else {
		for _, s := range stmts {
			b.WriteString(s.Text + ";\n")
		}
	}
	switch {
	case readOnly:
		b.WriteString("ROLLBACK;\n")
	case !autocommit:
		b.WriteString("COMMIT;\n")
	}
	return b.String(), q.err
}

// Plan implements module.Module.
func (PostgresqlQuery) Plan(ctx context.Context, h *module.Host, args module.Args) (*module.Plan, error) {
	var positional []any
	if args.Has("positional_args") {
		positional, _ = args["positional_args"].([]any)
		if positional == nil {
			positional = []any{}
		}
	}
	named := args.Dict("named_args")
	text := args.String("query")
	if script := args.String("path_to_script"); script != "" {
		b, err := readRemote(ctx, h, script)
		if err != nil {
			return module.Unchanged(module.Failed("Cannot read file '%s' : %v", script, err)), nil
		}
		text = string(b)
	}
	query, err := bindArgs(text, positional, named)
	if err != nil {
		return module.Unchanged(module.Failed("binding arguments: %v", err)), nil
	}
	stmts := splitSQL(query)
	if len(stmts) == 0 {
		return module.Unchanged(module.Failed("query is empty")), nil
	}
	list := make([]string, len(stmts))
	for i, s := range stmts {
		list[i] = s.Text
	}
	base := module.Result{"query": query, "query_list": list}
	kind := classify(stmts)
	c, err := pgConnFromArgs(args)
	if err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	if c.Encoding, err = pgClientEncoding(args.String("encoding")); err != nil {
		return module.Unchanged(module.Failed("%v", err)), nil
	}
	db := args.String("db")
	searchPath := args.List("search_path")
	autocommit := args.Bool("autocommit")
	wrap := kind == queryRows || kind == queryModifyRe

	run := func(ctx context.Context, readOnly bool) (module.Result, error) {
		r := module.Result{}
		for k, v := range base {
			r[k] = v
		}
		sql, err := querySQL(stmts, searchPath, autocommit, wrap, readOnly)
		if err != nil {
			return module.Failed("%v", err), nil
		}
		out, err := psql(ctx, h, c, db, sql, wrap)
		if err != nil {
			var pe *pgError
			if !asPgError(err, &pe) {
				return nil, err
			}
			r["failed"] = true
			r["msg"] = fmt.Sprintf("cannot execute SQL %q: %s", pgTruncate(query, 500), pe.Msg)
			return r, nil
		}
		if wrap {
			var rows []map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &rows); err != nil {
				return module.Failed("unexpected psql output %q: %v", pgTruncate(out, 200), err), nil
			}
			res := make([]any, len(rows))
			for i, row := range rows {
				res[i] = plainJSON(row)
			}
			r["query_result"] = res
			r["query_all_results"] = []any{res}
			r["rowcount"] = len(rows)
			verb := "SELECT"
			if kind == queryModifyRe {
				verb = stmts[0].Words[0]
			}
			r["statusmessage"] = statusTag(verb, len(rows))
			r["changed"] = kind == queryModifyRe && len(rows) > 0
			return r, nil
		}
		tag := lastTag(out)
		r["statusmessage"] = tag
		r["rowcount"] = tagRowcount(tag)
		r["query_result"] = []any{}
		r["query_all_results"] = []any{[]any{}}
		r["changed"] = tagChanged(tag)
		return r, nil
	}

	switch kind {
	case queryRows:
		r, err := run(ctx, true)
		if err != nil {
			return nil, err
		}
		if netFailedResult(r) && strings.Contains(fmt.Sprint(r["msg"]), "read-only transaction") {
			// The SELECT changes something (nextval, a volatile
			// function): run it for real in Apply.
			return &module.Plan{Changed: true, Unpredictable: true, Result: base,
				Apply: func(ctx context.Context) (module.Result, error) { return run(ctx, false) }}, nil
		}
		return module.Unchanged(r), nil
	case queryDDL:
		return &module.Plan{Changed: true, Result: base,
			Apply: func(ctx context.Context) (module.Result, error) { return run(ctx, false) }}, nil
	default:
		return &module.Plan{Changed: true, Unpredictable: true, Result: base,
			Apply: func(ctx context.Context) (module.Result, error) { return run(ctx, false) }}, nil
	}
}

func netFailedResult(r module.Result) bool { b, _ := r["failed"].(bool); return b }

func statusTag(verb string, n int) string {
	if verb == "INSERT" {
		return "INSERT 0 " + strconv.Itoa(n)
	}
	return verb + " " + strconv.Itoa(n)
}

// lastTag returns the command tag of the last statement in psql's
// non-quiet output, skipping the BEGIN/COMMIT of the wrapping transaction.
func lastTag(out string) string {
	lines := module.Lines(strings.TrimRight(out, "\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || l == "COMMIT" {
			continue
		}
		return l
	}
	return ""
}

// plainJSON turns decoded JSON into the plain Go values results use:
// integral numbers become int.
func plainJSON(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out[k] = plainJSON(x[k])
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainJSON(e)
		}
		return out
	}
	return v
}
