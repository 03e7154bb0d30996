package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/tend-dev/tend/pkg/atomicfile"
)

// FileFormats are the formats --report writes, in the order --help
// lists them.
var FileFormats = []string{"json", "junit", "prometheus", "html"}

// FileSpec is one report to write at the end of a run: --report
// FORMAT=PATH.
type FileSpec struct {
	Format string
	Path   string
}

// ParseFileSpec reads a --report value, FORMAT=PATH.
func ParseFileSpec(s string) (FileSpec, error) {
	format, path, ok := strings.Cut(s, "=")
	if !ok || path == "" {
		return FileSpec{}, fmt.Errorf("--report %q: expected FORMAT=PATH with FORMAT one of %s", s, strings.Join(FileFormats, ", "))
	}
	for _, f := range FileFormats {
		if f == format {
			return FileSpec{Format: format, Path: path}, nil
		}
	}
	return FileSpec{}, fmt.Errorf("--report %q: unknown format %q (want one of %s)", s, format, strings.Join(FileFormats, ", "))
}

// RunInfo is what a run's reports need beyond its events.
type RunInfo struct {
	Finished time.Time
	ExitCode int
	// Command is the command line as the HTML report shows it (the
	// caller hides secrets in it); Inventories the inventory sources.
	Command     []string
	Inventories []string
}

// Files collects a run and writes it to report files at the end. Every
// format is rendered from the one Document that --output json prints, so
// the files never disagree. It is a Reporter (safe for concurrent use);
// Write, called once after the run, writes the files.
type Files struct {
	Reporter
	buf     *bytes.Buffer
	specs   []FileSpec
	history *History
}

// NewFiles returns a Files writing specs and, when history is not nil, a
// report set into its directory; nil when there is nothing to write.
func NewFiles(specs []FileSpec, history *History, opts Options) *Files {
	if len(specs) == 0 && history == nil {
		return nil
	}
	buf := new(bytes.Buffer)
	opts.Err = io.Discard
	return &Files{Reporter: NewJSON(buf, opts), buf: buf, specs: specs, history: history}
}

// Close does nothing: the files are written by Write, once the exit
// code is known.
func (f *Files) Close() error { return nil }

// Write renders every report and replaces each file atomically (a
// temporary file in the same directory, renamed), so a reader such as
// node_exporter's textfile collector never sees half a file.
func (f *Files) Write(info RunInfo) error {
	if err := f.Reporter.Close(); err != nil {
		return err
	}
	var doc Document
	if err := json.Unmarshal(f.buf.Bytes(), &doc); err != nil {
		return fmt.Errorf("read back the run's report: %w", err)
	}
	errs := []error{f.write(f.specs, "", &doc, info)}
	if f.history != nil {
		errs = append(errs, f.writeHistory(&doc, info))
	}
	return errors.Join(errs...)
}

// write renders each spec into dir (when its path is relative and dir
// is not empty).
func (f *Files) write(specs []FileSpec, dir string, doc *Document, info RunInfo) error {
	var errs []error
	for _, s := range specs {
		var b []byte
		var err error
		switch s.Format {
		case "json":
			b = f.buf.Bytes()
		case "junit":
			b, err = JUnit(doc)
		case "prometheus":
			b, err = Prometheus(doc, info)
		case "html":
			b, err = HTML(doc, info)
		}
		path := s.Path
		if dir != "" {
			path = filepath.Join(dir, path)
		}
		if err == nil {
			// Reports are read by other users (node_exporter, a web server).
			err = atomicfile.Write(path, b, 0o644)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("write %s report %s: %w", s.Format, path, err))
		}
	}
	return errors.Join(errs...)
}

// writeHistory writes the run's report set into a new run directory,
// then moves "latest" to it and prunes: "latest" never points at a half
// written set.
func (f *Files) writeHistory(doc *Document, info RunInfo) error {
	name, err := f.history.newRunDir(info.Finished)
	if err != nil {
		return err
	}
	if err := f.write(historyFiles, filepath.Join(f.history.Dir, name), doc, info); err != nil {
		return err
	}
	return f.history.finish(name)
}
