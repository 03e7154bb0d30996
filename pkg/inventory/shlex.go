package inventory

import "errors"

// shlexSplit splits an INI host line like Python's
// shlex.split(line, comments=True, posix=True), which is what Ansible uses:
// quotes group and are removed, backslash escapes outside single quotes, and
// an unquoted '#' starts a comment even in the middle of a word.
func shlexSplit(line string) ([]string, error) {
	var (
		tokens  []string
		token   []rune
		quoted  bool // the current token contains a quoted part (so "" counts)
		inWord  bool
		quote   rune // current quote character, 0 outside quotes
		escaped bool
	)
	emit := func() {
		if len(token) > 0 || quoted {
			tokens = append(tokens, string(token))
		}
		token, quoted, inWord = token[:0:0], false, false
	}
	for _, c := range line {
		switch {
		case escaped:
			// Inside double quotes only \" and \\ are escapes; otherwise the
			// backslash is kept.
			if quote == '"' && c != '"' && c != '\\' {
				token = append(token, '\\')
			}
			token = append(token, c)
			escaped = false
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				token = append(token, c)
			}
		case quote == '"':
			switch c {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				token = append(token, c)
			}
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if inWord {
				emit()
			}
		case c == '#':
			if inWord {
				emit()
			}
			return tokens, nil
		case c == '\\':
			inWord, escaped = true, true
		case c == '\'' || c == '"':
			inWord, quoted, quote = true, true, c
		default:
			inWord = true
			token = append(token, c)
		}
	}
	if escaped {
		return nil, errors.New("no escaped character")
	}
	if quote != 0 {
		return nil, errors.New("no closing quotation")
	}
	if inWord {
		emit()
	}
	return tokens, nil
}
