package connection

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/tend-dev/tend/pkg/shell"
)

// Every file tend writes on a host first becomes a temporary file in the
// destination's directory, named TempPrefix+RunID()+"-"+random. It is
// renamed onto the destination only after its size and checksum were
// found equal to what the controller sent, so a dropped connection, an
// interrupted run or a corrupting wrapper never installs a partial file.
// The shell that writes it removes it on any failure and on HUP, INT,
// TERM and PIPE; what a kill -9 (of tend, sshd or the host) leaves behind
// is removed by the next write of a later run to the same directory.

// TempPrefix starts the name of every temporary file tend writes.
const TempPrefix = ".tend-tmp-"

// runID tells this process's temporary files from those of earlier runs,
// which are leftovers once the run that made them is gone. It is fixed for
// the life of the process.
var runID = sync.OnceValue(func() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return strconv.FormatInt(int64(os.Getpid()), 16)
	}
	return hex.EncodeToString(b)
})

// RunID identifies this run of tend in the names of its temporary files.
func RunID() string { return runID() }

// orRunID is run, or RunID() when run is empty.
func orRunID(run string) string {
	if run == "" {
		return RunID()
	}
	return run
}

// TempName returns a new temporary file name (no directory) of the run
// named run (empty: this process's RunID).
func TempName(run string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return TempPrefix + orRunID(run) + "-" + hex.EncodeToString(b)
}

// IsLeftover reports whether name is a temporary file of another run of
// tend than run (empty: this process's RunID).
func IsLeftover(name, run string) bool {
	return strings.HasPrefix(name, TempPrefix) && !strings.HasPrefix(name, TempPrefix+orRunID(run)+"-")
}

// Digest is what the host checks a temporary file against before the
// rename: its size and its POSIX cksum, which the host computes with the
// cksum utility in one pass that also counts the bytes. SSH already
// refuses altered packets; what the check catches is content cut short
// (a dropped connection ends the stream, and `cat` sees a normal EOF) or
// changed on the way by a wrapper. CRC-32 and the exact size do that, and
// cksum is in every POSIX system and runs at disk speed: sha256sum, on
// hosts that have it, costs a second per 300 MB, about as long as the
// upload itself.
type Digest struct {
	Size  int64
	Cksum uint32 // as POSIX cksum prints it
}

// Digester computes a Digest of what is written to it. Not safe for
// concurrent use.
type Digester struct{ ck Cksum }

// NewDigester returns an empty Digester.
func NewDigester() *Digester { return &Digester{} }

// Write adds p; it never fails.
func (d *Digester) Write(p []byte) (int, error) { return d.ck.Write(p) }

// Digest is the digest of everything written so far.
func (d *Digester) Digest() Digest { return Digest{Size: d.ck.Len(), Cksum: d.ck.Sum32()} }

// DigestReader passes a reader's content through and computes its Digest
// on another goroutine, so that checksumming overlaps with sending instead
// of holding up the reads that feed the network. Call Digest exactly once,
// after the last Read, also when the transfer failed.
type DigestReader struct {
	r    io.Reader
	full chan []byte
	free chan []byte
	done chan Digest
}

// NewDigestReader starts a DigestReader reading from r.
func NewDigestReader(r io.Reader) *DigestReader {
	const bufs, size = 8, 256 << 10
	d := &DigestReader{r: r, full: make(chan []byte, bufs), free: make(chan []byte, bufs), done: make(chan Digest, 1)}
	for range bufs {
		d.free <- make([]byte, size)
	}
	go func() {
		dg := NewDigester()
		for b := range d.full {
			dg.Write(b)
			d.free <- b[:cap(b)]
		}
		d.done <- dg.Digest()
	}()
	return d
}

// Read implements io.Reader.
func (d *DigestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	for rest := p[:n]; len(rest) > 0; {
		b := <-d.free
		k := copy(b, rest)
		d.full <- b[:k]
		rest = rest[k:]
	}
	return n, err
}

// Digest waits for the checksum of everything read and returns it.
func (d *DigestReader) Digest() Digest {
	close(d.full)
	return <-d.done
}

// CheckCksum compares what `cksum < file` printed on a host with want.
func CheckCksum(out string, want Digest) error {
	f := strings.Fields(out)
	switch {
	case len(f) < 2:
		return fmt.Errorf("cksum printed %q", out)
	case f[1] != strconv.FormatInt(want.Size, 10):
		return fmt.Errorf("the temporary file holds %s bytes, %d were sent (transfer cut short?)", f[1], want.Size)
	case f[0] != strconv.FormatUint(uint64(want.Cksum), 10):
		return fmt.Errorf("the cksum of the temporary file is %s, the content sent has %d (content corrupted on the way?)", f[0], want.Cksum)
	}
	return nil
}

// Spool makes src readable a second time so its digest can be known before
// the content is sent: a seekable src is read once for the digest and
// rewound, anything else is copied to a temporary file on the controller.
// The returned reader yields src's content from where it stood; done
// releases what Spool made.
func Spool(src io.Reader) (io.Reader, Digest, func(), error) {
	d := NewDigester()
	if rs, ok := src.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if err == nil {
			if _, err := io.Copy(d, rs); err != nil {
				return nil, Digest{}, nil, fmt.Errorf("read content: %w", err)
			}
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return nil, Digest{}, nil, fmt.Errorf("rewind content: %w", err)
			}
			return rs, d.Digest(), func() {}, nil
		}
	}
	f, err := os.CreateTemp("", "tend-spool-*")
	if err != nil {
		return nil, Digest{}, nil, fmt.Errorf("spool content: %w", err)
	}
	done := func() { f.Close(); os.Remove(f.Name()) }
	if _, err := io.Copy(io.MultiWriter(f, d), src); err != nil {
		done()
		return nil, Digest{}, nil, fmt.Errorf("spool content: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		done()
		return nil, Digest{}, nil, fmt.Errorf("spool content: %w", err)
	}
	return f, d.Digest(), done, nil
}

// WriteScript is the POSIX sh program that installs one file on a host
// atomically. The content comes from standard input, checked against
// Digest, or from another file on the host (From, copied without a digest
// since it never crossed the network: cat's exit status tells whether
// it was read whole).
type WriteScript struct {
	Dst          string
	Mode         fs.FileMode // permission bits applied before the rename
	Owner, Group string      // applied before the rename when not empty
	Digest       *Digest
	From         string
	// Sweep removes leftovers of other runs owned by the same user from
	// Dst's directory first.
	Sweep bool
	// Run names the run in temporary file names; empty: RunID().
	Run string
}

// scriptTraps make the shell remove its temporary file ($t) however it
// ends: a dropped connection gives HUP or PIPE, an interrupted run TERM.
const scriptTraps = `t=; trap 'rm -f -- "$t"' EXIT; trap 'exit 129' HUP; trap 'exit 130' INT; ` +
	`trap 'exit 141' PIPE; trap 'exit 143' TERM; `

// SweepCommand removes the temporary files of other runs than run (empty:
// RunID()) that the current user owns from the directory in $d (which it
// must set).
func SweepCommand(run string) string {
	// Names are tested before -type and -user, so only tend's files are
	// stat'ed: in a large directory the sweep costs one readdir.
	return `find "$d/." ! -name . -prune -name '` + TempPrefix + `*' ! -name '` + TempPrefix + orRunID(run) +
		`-*' -type f -user "$(id -u)" -exec rm -f -- {} + 2>/dev/null; `
}

// String returns the script.
func (w WriteScript) String() string {
	var b strings.Builder
	b.WriteString("umask 077; " + scriptTraps)
	b.WriteString("d=" + shell.Quote(path.Dir(w.Dst)) + "; ")
	if w.Sweep {
		b.WriteString(SweepCommand(w.Run))
	}
	fail := func(what string) string {
		return ` || { echo ` + shell.Quote("tend: "+what+" for "+w.Dst+" failed; the destination is left unchanged") + ` >&2; exit 1; }; `
	}
	b.WriteString(`t=$(mktemp "$d/` + TempPrefix + orRunID(w.Run) + `-XXXXXXXX") || exit 1; `)
	if w.From != "" {
		b.WriteString(`cat -- ` + shell.Quote(w.From) + ` > "$t"` + fail("copying "+w.From))
	} else {
		b.WriteString(`cat > "$t"` + fail("writing the temporary file"))
	}
	if w.Digest != nil {
		b.WriteString(verifyCommand(w.Dst, *w.Digest))
	}
	b.WriteString(`chmod ` + fmt.Sprintf("%04o", w.Mode.Perm()) + ` "$t"` + fail("chmod"))
	if w.Owner != "" || w.Group != "" {
		og := w.Owner
		if w.Group != "" {
			og += ":" + w.Group
		}
		b.WriteString(`chown -- ` + shell.Quote(og) + ` "$t"` + fail("chown"))
	}
	b.WriteString(`mv -f -- "$t" ` + shell.Quote(w.Dst) + fail("rename") + "t=")
	return b.String()
}

// verifyCommand checks $t against dg with one cksum, which prints the
// checksum and the size.
func verifyCommand(dst string, dg Digest) string {
	size := strconv.FormatInt(dg.Size, 10)
	sum := strconv.FormatUint(uint64(dg.Cksum), 10)
	bad := func(what string) string {
		return `{ printf 'tend: %s; the destination %s is left unchanged\n' "` + what + `" ` + shell.Quote(dst) + ` >&2; exit 1; }; `
	}
	return `s=$(cksum < "$t") || ` + bad(`cannot read the temporary file`) + `set -- $s; ` +
		`[ "$2" = ` + size + ` ] || ` + bad(`the temporary file holds ${2:-no} bytes, `+size+` were sent (transfer cut short?)`) +
		`[ "$1" = ` + sum + ` ] || ` + bad(`the cksum of the temporary file is $1, the content sent has `+sum+` (content corrupted on the way?)`)
}

// ContextReader returns a reader that ends a copy when ctx is done, so an
// interrupted run stops sending and the temporary file is removed.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	return ctxReader{ctx, r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
