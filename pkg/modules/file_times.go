package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tend-dev/tend/pkg/module"
	"github.com/tend-dev/tend/pkg/shell"
)

// strptimeLocal reads value with a Python strptime format (the
// directives %Y %m %d %H %M %S %y and %%) and returns the time as
// "YYYY-MM-DD HH:MM:SS", for the host to read in its own time zone as
// Ansible's time.mktime does.
func strptimeLocal(value, format string) (string, error) {
	f := map[byte]int{'Y': 1900, 'm': 1, 'd': 1}
	v := value
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			if v == "" || v[0] != c {
				return "", fmt.Errorf("time data %q does not match format %q", value, format)
			}
			v = v[1:]
			continue
		}
		i++
		if i >= len(format) {
			return "", fmt.Errorf("stray %% in format %q", format)
		}
		d := format[i]
		if d == '%' {
			if v == "" || v[0] != '%' {
				return "", fmt.Errorf("time data %q does not match format %q", value, format)
			}
			v = v[1:]
			continue
		}
		width, ok := map[byte]int{'Y': 4, 'y': 2, 'm': 2, 'd': 2, 'H': 2, 'M': 2, 'S': 2}[d]
		if !ok {
			return "", fmt.Errorf("the directive %%%c is not supported by tend", d)
		}
		n := 0
		for n < width && n < len(v) && v[n] >= '0' && v[n] <= '9' {
			n++
		}
		if n == 0 {
			return "", fmt.Errorf("time data %q does not match format %q", value, format)
		}
		x, _ := strconv.Atoi(v[:n])
		v = v[n:]
		if d == 'y' {
			d, x = 'Y', x+1900
			if x < 1969 {
				x += 100
			}
		}
		f[d] = x
	}
	if v != "" {
		return "", fmt.Errorf("unconverted data remains: %s", v)
	}
	if f['m'] < 1 || f['m'] > 12 || f['d'] < 1 || f['d'] > 31 || f['H'] > 23 || f['M'] > 59 || f['S'] > 61 {
		return "", fmt.Errorf("time data %q does not match format %q", value, format)
	}
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", f['Y'], f['m'], f['d'], f['H'], f['M'], f['S']), nil
}

// fileTime is a modification or access time a file task sets: "" (keep
// it), "now", or an epoch second.
type fileTime struct {
	now   bool
	epoch int64
	set   bool
}

// fileTimes reads modification_time and access_time (preserve unless
// given; touch's default is now), the explicit ones converted by the
// host's date in its time zone, in one round trip.
func fileTimes(ctx context.Context, h *module.Host, args module.Args, state string) (mt, at fileTime, err error) {
	var locals []string
	var which []*fileTime
	for _, x := range []struct {
		arg string
		t   *fileTime
	}{{"modification_time", &mt}, {"access_time", &at}} {
		v := args.String(x.arg)
		if v == "" {
			v = "preserve"
			if state == "touch" {
				v = "now"
			}
		}
		switch v {
		case "preserve":
			continue
		case "now":
			*x.t = fileTime{now: true, set: true}
			continue
		}
		l, perr := strptimeLocal(v, args.String(x.arg+"_format"))
		if perr != nil {
			return mt, at, fmt.Errorf("Error while obtaining timestamp for time %s using format %s: %v", v, args.String(x.arg+"_format"), perr)
		}
		locals = append(locals, "date -d "+shell.Quote(l)+" +%s")
		which = append(which, x.t)
	}
	if len(locals) == 0 {
		return mt, at, nil
	}
	res, rerr := h.Run(ctx, strings.Join(locals, " && "))
	if rerr != nil {
		return mt, at, fmt.Errorf("read the time on %s: %w", h.Name, rerr)
	}
	out := strings.Fields(string(res.Stdout))
	if res.ExitCode != 0 || len(out) != len(which) {
		return mt, at, fmt.Errorf("date on %s: %s", h.Name, strings.TrimSpace(string(res.Stderr)))
	}
	for i, t := range which {
		e, _ := strconv.ParseInt(out[i], 10, 64)
		*t = fileTime{epoch: e, set: true}
	}
	return mt, at, nil
}

// timesPlan is what setting the times of st changes: the touch
// commands, and the before/after of the diff; nothing when they are
// already so (an explicit time) or not asked for.
func timesPlan(st *RemoteStat, mt, at fileTime) (cmd string, before, after map[string]any) {
	before, after = map[string]any{}, map[string]any{}
	var cmds []string
	for _, x := range []struct {
		t    fileTime
		cur  float64
		key  string
		flag string
	}{{mt, st.Mtime, "mtime", "-m"}, {at, st.Atime, "atime", "-a"}} {
		switch {
		case !x.t.set:
		case x.t.now:
			cmds = append(cmds, "touch "+x.flag+" -- "+shell.Quote(st.Path))
			before[x.key], after[x.key] = x.cur, "now"
		case float64(x.t.epoch) != x.cur:
			cmds = append(cmds, "touch "+x.flag+" -d @"+strconv.FormatInt(x.t.epoch, 10)+" -- "+shell.Quote(st.Path))
			before[x.key], after[x.key] = x.cur, float64(x.t.epoch)
		}
	}
	return strings.Join(cmds, " && "), before, after
}
