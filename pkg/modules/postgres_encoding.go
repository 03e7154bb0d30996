package modules

import (
	"fmt"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/ianaindex"
)

// pgEncoding is a client encoding other than UTF-8: Name is what libpq
// gets, enc converts (nil for SQL_ASCII, whose bytes pass as they are).
type pgEncoding struct {
	Name string
	enc  encoding.Encoding
}

// pgEncodingNames maps PostgreSQL's client encoding names (normalized as
// the server does: lower case, letters and digits only) to IANA names.
var pgEncodingNames = map[string]string{
	"latin1": "ISO-8859-1", "latin2": "ISO-8859-2", "latin3": "ISO-8859-3", "latin4": "ISO-8859-4",
	"latin5": "ISO-8859-9", "latin6": "ISO-8859-10", "latin7": "ISO-8859-13", "latin8": "ISO-8859-14",
	"latin9": "ISO-8859-15", "latin10": "ISO-8859-16",
	"iso88591": "ISO-8859-1", "iso88592": "ISO-8859-2", "iso88593": "ISO-8859-3", "iso88594": "ISO-8859-4",
	"iso88595": "ISO-8859-5", "iso88596": "ISO-8859-6", "iso88597": "ISO-8859-7", "iso88598": "ISO-8859-8",
	"iso88599": "ISO-8859-9", "iso885910": "ISO-8859-10", "iso885913": "ISO-8859-13", "iso885914": "ISO-8859-14",
	"iso885915": "ISO-8859-15", "iso885916": "ISO-8859-16",
	"win866": "IBM866", "win874": "windows-874", "win1250": "windows-1250", "win1251": "windows-1251",
	"win1252": "windows-1252", "win1253": "windows-1253", "win1254": "windows-1254", "win1255": "windows-1255",
	"win1256": "windows-1256", "win1257": "windows-1257", "win1258": "windows-1258",
	"koi8": "KOI8-R", "koi8r": "KOI8-R", "koi8u": "KOI8-U", "eucjp": "EUC-JP", "sjis": "Shift_JIS", "shiftjis": "Shift_JIS",
	"euckr": "EUC-KR", "big5": "Big5", "gbk": "GBK", "gb18030": "GB18030",
}

// pgClientEncoding resolves postgresql_query's encoding: nil for UTF-8
// (tend's default), an error naming the value when tend cannot convert it.
func pgClientEncoding(name string) (*pgEncoding, error) {
	norm := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.ToLower(name))
	norm = strings.Replace(norm, "windows", "win", 1)
	switch norm {
	case "", "utf8", "unicode":
		return nil, nil
	case "sqlascii":
		return &pgEncoding{Name: "SQL_ASCII"}, nil
	}
	iana, ok := pgEncodingNames[norm]
	if !ok {
		return nil, fmt.Errorf("encoding %q: tend cannot convert this client encoding (supported: UTF8, SQL_ASCII, LATIN1-10, ISO-8859-x, WIN866/874/125x, KOI8R/U, EUC_JP, SJIS, EUC_KR, BIG5, GBK, GB18030)", name)
	}
	enc, err := ianaindex.IANA.Encoding(iana)
	if err != nil || enc == nil {
		return nil, fmt.Errorf("encoding %q: %v", name, err)
	}
	return &pgEncoding{Name: norm, enc: enc}, nil
}

// encode converts UTF-8 SQL to the client encoding; a character the
// encoding lacks is an error, as psycopg2's encode is in Ansible.
func (e *pgEncoding) encode(s string) (string, error) {
	if e.enc == nil {
		return s, nil
	}
	out, err := e.enc.NewEncoder().String(s)
	if err != nil {
		return "", fmt.Errorf("encoding the SQL as %s: %w", e.Name, err)
	}
	return out, nil
}

// decode converts psql's output to UTF-8.
func (e *pgEncoding) decode(b []byte) []byte {
	if e.enc == nil {
		return b
	}
	out, err := e.enc.NewDecoder().Bytes(b)
	if err != nil {
		return b
	}
	return out
}
