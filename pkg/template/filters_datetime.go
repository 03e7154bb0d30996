package template

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/odict"
)

// pyDatetime is a Python naive datetime.datetime, as to_datetime returns
// it: printed "2024-01-02 00:00:00", with strftime, its fields, and
// subtraction giving a pyTimedelta.
type pyDatetime struct{ t time.Time }

// pyTimedelta is a Python datetime.timedelta, in microseconds.
type pyTimedelta struct{ us int64 }

// PyStr is Python's str(): "2024-01-02 00:00:00[.ffffff]".
func (d pyDatetime) PyStr() string {
	s := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", d.t.Year(), int(d.t.Month()), d.t.Day(), d.t.Hour(), d.t.Minute(), d.t.Second())
	if us := d.t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s
}

// PyRepr is Python's repr(): datetime.datetime(2024, 1, 2, 0, 0).
func (d pyDatetime) PyRepr() string {
	s := fmt.Sprintf("datetime.datetime(%d, %d, %d, %d, %d", d.t.Year(), int(d.t.Month()), d.t.Day(), d.t.Hour(), d.t.Minute())
	us := d.t.Nanosecond() / 1000
	if d.t.Second() != 0 || us != 0 {
		s += fmt.Sprintf(", %d", d.t.Second())
	}
	if us != 0 {
		s += fmt.Sprintf(", %d", us)
	}
	return s + ")"
}

// isoformat is datetime.isoformat(), also its JSON form in Ansible.
func (d pyDatetime) isoformat() string { return strings.Replace(d.PyStr(), " ", "T", 1) }

// parts are timedelta's normalized days, seconds and microseconds.
func (td pyTimedelta) parts() (days, secs, us int64) {
	const day = 86400 * 1_000_000
	days = td.us / day
	rest := td.us % day
	if rest < 0 {
		days--
		rest += day
	}
	return days, rest / 1_000_000, rest % 1_000_000
}

// PyStr is Python's str(): "1 day, 2:03:04[.ffffff]".
func (td pyTimedelta) PyStr() string {
	days, secs, us := td.parts()
	s := ""
	if days != 0 {
		plural := "s"
		if days == 1 || days == -1 {
			plural = ""
		}
		s = fmt.Sprintf("%d day%s, ", days, plural)
	}
	s += fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	if us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s
}

// PyRepr is Python's repr(): datetime.timedelta(days=1, seconds=5).
func (td pyTimedelta) PyRepr() string {
	days, secs, us := td.parts()
	var f []string
	for _, p := range []struct {
		name string
		v    int64
	}{{"days", days}, {"seconds", secs}, {"microseconds", us}} {
		if p.v != 0 {
			f = append(f, fmt.Sprintf("%s=%d", p.name, p.v))
		}
	}
	if len(f) == 0 {
		return "datetime.timedelta(0)"
	}
	return "datetime.timedelta(" + strings.Join(f, ", ") + ")"
}

// pyStrer is a value with its own Python str().
type pyStrer interface{ PyStr() string }

// holdsPyObject reports whether a list or dict holds a datetime or
// timedelta (at any depth up to maxDepth).
func holdsPyObject(v any, depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch x := v.(type) {
	case pyDatetime, pyTimedelta:
		return true
	case []any:
		for _, e := range x {
			if holdsPyObject(e, depth+1) {
				return true
			}
		}
	case map[string]any, *odict.Dict:
		_, m, _ := odict.As(x)
		for _, e := range m {
			if holdsPyObject(e, depth+1) {
				return true
			}
		}
	}
	return false
}

// timeAttr is a datetime's or timedelta's attribute.
func timeAttr(v any, name string) (any, bool) {
	switch x := v.(type) {
	case pyDatetime:
		m := map[string]int{"year": x.t.Year(), "month": int(x.t.Month()), "day": x.t.Day(), "hour": x.t.Hour(),
			"minute": x.t.Minute(), "second": x.t.Second(), "microsecond": x.t.Nanosecond() / 1000}
		n, ok := m[name]
		return n, ok
	case pyTimedelta:
		days, secs, us := x.parts()
		m := map[string]int64{"days": days, "seconds": secs, "microseconds": us}
		n, ok := m[name]
		return int(n), ok
	}
	return nil, false
}

// timeMethod calls a datetime's or timedelta's method; handled false when
// it has none of that name.
func timeMethod(v any, name string, args []any) (any, bool, error) {
	switch x := v.(type) {
	case pyDatetime:
		switch name {
		case "strftime":
			if len(args) != 1 {
				return nil, true, fmt.Errorf("strftime() takes exactly one argument (%d given)", len(args))
			}
			return strftime(toStr(args[0]), x.t), true, nil
		case "isoformat":
			return x.isoformat(), true, nil
		case "weekday":
			return (int(x.t.Weekday()) + 6) % 7, true, nil
		case "isoweekday":
			return (int(x.t.Weekday())+6)%7 + 1, true, nil
		}
	case pyTimedelta:
		if name == "total_seconds" {
			return float64(x.us) / 1e6, true, nil
		}
	}
	return nil, false, nil
}

// timeArith is - and + on datetimes and timedeltas; handled false for
// other operands.
func timeArith(op string, left, right any) (any, bool) {
	switch l := left.(type) {
	case pyDatetime:
		switch r := right.(type) {
		case pyDatetime:
			if op == "-" {
				return pyTimedelta{us: l.t.Sub(r.t).Microseconds()}, true
			}
		case pyTimedelta:
			switch op {
			case "+":
				return pyDatetime{l.t.Add(time.Duration(r.us) * time.Microsecond)}, true
			case "-":
				return pyDatetime{l.t.Add(-time.Duration(r.us) * time.Microsecond)}, true
			}
		}
	case pyTimedelta:
		if r, ok := right.(pyTimedelta); ok {
			switch op {
			case "+":
				return pyTimedelta{l.us + r.us}, true
			case "-":
				return pyTimedelta{l.us - r.us}, true
			}
		}
		if r, ok := right.(pyDatetime); ok && op == "+" {
			return timeArith(op, r, l)
		}
	}
	return nil, false
}

// timeCompare orders two datetimes or two timedeltas.
func timeCompare(a, b any) (int, bool) {
	switch x := a.(type) {
	case pyDatetime:
		if y, ok := b.(pyDatetime); ok {
			return x.t.Compare(y.t), true
		}
	case pyTimedelta:
		if y, ok := b.(pyTimedelta); ok {
			switch {
			case x.us < y.us:
				return -1, true
			case x.us > y.us:
				return 1, true
			}
			return 0, true
		}
	}
	return 0, false
}

// filterToDatetime is to_datetime(string, format='%Y-%m-%d %H:%M:%S'):
// Python's datetime.strptime.
func filterToDatetime(_ *state, in any, args []any, kw map[string]any) (any, error) {
	format := argStr(args, kw, 0, "format", "%Y-%m-%d %H:%M:%S")
	s, ok := in.(string)
	if !ok {
		return nil, fmt.Errorf("strptime() argument 1 must be str, not %s", typeName(in))
	}
	t, err := strptime(s, format)
	if err != nil {
		return nil, err
	}
	return pyDatetime{t}, nil
}

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"}

var dayNames = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// strptimeFields are what strptime has read.
type strptimeFields struct {
	year, month, day, hour, minute, second, us, hour12, yday int
	pm, hasPM, has12                                         bool
}

// strptime is Python's datetime.strptime for the common directives (%Y
// %y %m %d %H %I %M %S %f %p %b %B %a %A %j %%); white space in the
// format matches any white space.
func strptime(s, format string) (time.Time, error) {
	bad := fmt.Errorf("time data %s does not match format %s", pyQuote(s), pyQuote(format))
	f := strptimeFields{year: 1900, month: 1, day: 1}
	rest := s
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch {
		case c == '%' && i+1 < len(format):
			i++
			var ok bool
			if rest, ok = f.read(format[i], rest); !ok {
				return time.Time{}, bad
			}
		case c == ' ' || c == '\t' || c == '\n':
			trimmed := strings.TrimLeft(rest, " \t\n\r\f\v")
			if len(trimmed) == len(rest) {
				return time.Time{}, bad
			}
			rest = trimmed
			for i+1 < len(format) && strings.IndexByte(" \t\n", format[i+1]) >= 0 {
				i++
			}
		default:
			if rest == "" || !strings.EqualFold(rest[:1], string(c)) {
				return time.Time{}, bad
			}
			rest = rest[1:]
		}
	}
	if rest != "" {
		return time.Time{}, fmt.Errorf("unconverted data remains: %s", rest)
	}
	return f.time()
}

func (f *strptimeFields) time() (time.Time, error) {
	if f.has12 {
		f.hour = f.hour12 % 12
		if f.pm {
			f.hour += 12
		}
	}
	if f.yday > 0 {
		t := time.Date(f.year, 1, 1, f.hour, f.minute, f.second, f.us*1000, time.UTC).AddDate(0, 0, f.yday-1)
		return t, nil
	}
	t := time.Date(f.year, time.Month(f.month), f.day, f.hour, f.minute, f.second, f.us*1000, time.UTC)
	if t.Day() != f.day {
		return time.Time{}, fmt.Errorf("day is out of range for month")
	}
	return t, nil
}

// num reads 1 to max digits (at least min) as a number within lo..hi.
func num(s string, minDigits, maxDigits, lo, hi int) (int, string, bool) {
	n := 0
	for n < len(s) && n < maxDigits && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n < minDigits {
		return 0, s, false
	}
	v, _ := strconv.Atoi(s[:n])
	if v < lo || v > hi {
		return 0, s, false
	}
	return v, s[n:], true
}

// name reads one of names (or its three-letter abbreviation), returning
// its index.
func name(s string, names []string) (int, string, bool) {
	low := strings.ToLower(s)
	for i, n := range names {
		if strings.HasPrefix(low, n) {
			return i, s[len(n):], true
		}
	}
	for i, n := range names {
		if strings.HasPrefix(low, n[:3]) {
			return i, s[3:], true
		}
	}
	return 0, s, false
}

// read reads one directive's field.
func (f *strptimeFields) read(d byte, s string) (string, bool) {
	var ok bool
	switch d {
	case 'Y':
		f.year, s, ok = num(s, 4, 4, 0, 9999)
	case 'y':
		var y int
		if y, s, ok = num(s, 2, 2, 0, 99); ok {
			f.year = 1900 + y
			if y < 69 {
				f.year = 2000 + y
			}
		}
	case 'm':
		f.month, s, ok = num(s, 1, 2, 1, 12)
	case 'd':
		f.day, s, ok = num(s, 1, 2, 1, 31)
	case 'H':
		f.hour, s, ok = num(s, 1, 2, 0, 23)
	case 'I':
		f.has12 = true
		f.hour12, s, ok = num(s, 1, 2, 1, 12)
	case 'M':
		f.minute, s, ok = num(s, 1, 2, 0, 59)
	case 'S':
		f.second, s, ok = num(s, 1, 2, 0, 61)
	case 'j':
		f.yday, s, ok = num(s, 1, 3, 1, 366)
	case 'f':
		digits := s
		if f.us, s, ok = num(s, 1, 6, 0, 999999); ok {
			for n := len(digits) - len(s); n < 6; n++ {
				f.us *= 10
			}
		}
	case 'p':
		low := strings.ToLower(s)
		if ok = strings.HasPrefix(low, "am") || strings.HasPrefix(low, "pm"); ok {
			f.pm, f.hasPM, s = low[0] == 'p', true, s[2:]
		}
	case 'b', 'B', 'h':
		var m int
		if m, s, ok = name(s, monthNames); ok {
			f.month = m + 1
		}
	case 'a', 'A':
		_, s, ok = name(s, dayNames)
	case '%':
		if ok = strings.HasPrefix(s, "%"); ok {
			s = s[1:]
		}
	}
	return s, ok
}
