package testbed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Start boots hosts for a test and registers their teardown with
// t.Cleanup; an interrupt (SIGINT, SIGTERM) also tears the bed down before
// the process ends. Without root or the needed Debian packages the test is
// skipped with a message naming what is missing, except in CI (environment
// CI=true), where that fails the test: CI must run the integration suite.
//
// The bed is named after the test package's directory and the test, so
// test packages running at the same time do not collide, and a rerun
// removes what a crashed run left behind.
func Start(t testing.TB, hosts ...HostSpec) *Bed {
	t.Helper()
	if err := CheckPrerequisites(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testbed: %v (CI=true: the integration suite must run in CI)", err)
		}
		t.Skipf("testbed: skipping test that boots hosts: %v", err)
	}
	name := bedName(t)

	// An interrupt while booting cancels the boot, which tears down what
	// exists; after the boot it tears down the bed.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	booting := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-booting:
		}
	}()
	log := &lineLogger{t: t}
	b, err := Up(ctx, Options{Name: name, Log: log}, hosts...)
	close(booting)
	if err != nil {
		signal.Stop(sigs)
		t.Fatalf("testbed: %v", err)
	}
	b.mu.Lock()
	b.log = io.Discard // t.Log must not be called after the test
	b.mu.Unlock()

	done := make(chan struct{})
	var once sync.Once
	down := func() {
		once.Do(func() {
			dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer dcancel()
			if err := b.Down(dctx); err != nil {
				t.Errorf("testbed: %v", err)
			}
		})
	}
	go func() {
		select {
		case sig := <-sigs:
			down()
			// Let the default action (or the next handler) end the process.
			signal.Stop(sigs)
			_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		case <-done:
		}
	}()
	t.Cleanup(func() {
		close(done)
		signal.Stop(sigs)
		down()
	})
	return b
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9]+`)

// bedName derives a bed name from the test package directory and the test
// name, shortened with a hash when too long for a bed name.
func bedName(t testing.TB) string {
	wd, _ := os.Getwd()
	raw := filepath.Base(wd) + "-" + t.Name()
	s := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(raw), "-"), "-")
	if len(s) > 40 {
		h := sha256.Sum256([]byte(raw))
		s = strings.TrimRight(s[:31], "-") + "-" + hex.EncodeToString(h[:4])
	}
	if s == "" {
		s = "test"
	}
	return s
}

// lineLogger sends whole lines to t.Log.
type lineLogger struct {
	t   testing.TB
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line) // incomplete: keep for the next write
			return len(p), nil
		}
		l.t.Log(strings.TrimSuffix(line, "\n"))
	}
}
