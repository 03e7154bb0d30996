# tend: see README.md
GO ?= go

.PHONY: build test unit integration demo bench

build:
	$(GO) build -o bin/tend ./cmd/tend

# The full test suite: unit tests, then the integration suite on testbed hosts
# (needs root; skipped with a message otherwise).
test:
	./integration/run-tests

unit:
	$(GO) test ./pkg/... ./cmd/...
