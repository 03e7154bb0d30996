package template

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/config"
)

// Jinja2's lexer skips whitespace between the tokens of a tag with
// Python's \s, which matches Unicode spaces too: "{{\u00a0x }}" (a
// non-breaking space typed after the braces) is x. gonja's lexer knows
// ASCII spaces only. normalizeTagSpaces replaces, inside variable and
// block tags and outside their string literals, every other character
// Python's \s matches with as many ASCII spaces as it has bytes, so that
// positions in the source stay where they were. Text outside tags,
// comments and raw blocks are left alone.

// isPySpace reports whether \s matches r in Python but not gonja's lexer.
func isPySpace(r rune) bool {
	return r >= 0x1c && r <= 0x1f || r >= utf8.RuneSelf && unicode.IsSpace(r)
}

// mayHavePySpace is a quick test: no byte of such a character occurs.
func mayHavePySpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x1c && c <= 0x1f || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func normalizeTagSpaces(src string, cfg *config.Config) string {
	if !mayHavePySpace(src) {
		return src
	}
	var b strings.Builder
	b.Grow(len(src))
	i := 0
	for i < len(src) {
		var end string
		block := false
		switch {
		case strings.HasPrefix(src[i:], cfg.CommentStartString):
			j := strings.Index(src[i+len(cfg.CommentStartString):], cfg.CommentEndString)
			if j < 0 {
				b.WriteString(src[i:])
				return b.String()
			}
			j += i + len(cfg.CommentStartString) + len(cfg.CommentEndString)
			b.WriteString(src[i:j])
			i = j
			continue
		case strings.HasPrefix(src[i:], cfg.VariableStartString):
			b.WriteString(cfg.VariableStartString)
			i += len(cfg.VariableStartString)
			end = cfg.VariableEndString
		case strings.HasPrefix(src[i:], cfg.BlockStartString):
			b.WriteString(cfg.BlockStartString)
			i += len(cfg.BlockStartString)
			end = cfg.BlockEndString
			block = true
		default:
			b.WriteByte(src[i])
			i++
			continue
		}
		start := b.Len()
		i = copyTag(&b, src, i, end)
		if block && isRawTag(b.String()[start:], end) {
			i = skipRaw(&b, src, i, cfg)
		}
	}
	return b.String()
}

// copyTag copies the inside of a tag from src[i:] up to and including
// end (outside string literals), replacing Python-only spaces outside
// string literals, and returns the index after it.
func copyTag(b *strings.Builder, src string, i int, end string) int {
	var quote byte
	for i < len(src) {
		c := src[i]
		switch {
		case quote != 0:
			b.WriteByte(c)
			i++
			if c == '\\' && i < len(src) {
				b.WriteByte(src[i])
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		case c == '\'' || c == '"':
			quote = c
		case strings.HasPrefix(src[i:], end):
			b.WriteString(end)
			return i + len(end)
		case c >= 0x1c && c <= 0x1f || c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(src[i:])
			if isPySpace(r) {
				b.WriteString(strings.Repeat(" ", n))
			} else {
				b.WriteString(src[i : i+n])
			}
			i += n
			continue
		}
		b.WriteByte(c)
		i++
	}
	return i
}

// isRawTag reports whether tag (a block tag's inside, with its end) is
// {% raw %}, with whitespace control marks or not.
func isRawTag(tag, end string) bool {
	s := strings.TrimSuffix(tag, end)
	s = strings.Trim(strings.TrimSpace(s), "-+")
	return strings.TrimSpace(s) == "raw"
}

// skipRaw copies src[i:] up to the end of the raw block's {% endraw %}
// unchanged and returns the index after it.
func skipRaw(b *strings.Builder, src string, i int, cfg *config.Config) int {
	for j := i; j < len(src); {
		k := strings.Index(src[j:], cfg.BlockStartString)
		if k < 0 {
			break
		}
		k += j
		e := strings.Index(src[k:], cfg.BlockEndString)
		if e < 0 {
			break
		}
		e += k + len(cfg.BlockEndString)
		inner := strings.Trim(strings.TrimSpace(src[k+len(cfg.BlockStartString):e-len(cfg.BlockEndString)]), "-+")
		if strings.TrimSpace(inner) == "endraw" {
			b.WriteString(src[i:e])
			return e
		}
		j = k + len(cfg.BlockStartString)
	}
	b.WriteString(src[i:])
	return len(src)
}
