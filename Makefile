# tend: see README.md
GO ?= go

.PHONY: build test unit demo demo-down testbed bench

# tend, and tend-kube beside it (the Kubernetes modules run in it).
build:
	$(GO) build -o bin/ ./cmd/tend ./cmd/tend-kube

# The full test suite: vet, staticcheck, unit tests, brief fuzzing, then the integration
# suite on testbed hosts (needs root; skipped with a message otherwise).
test:
	./integration/run-tests

# The fast loop: unit tests without the ansible-playbook comparisons.
unit:
	$(GO) test -short ./pkg/... ./cmd/...

# Boots local testbed hosts and deploys Posit Team (stand-in packages) on them.
demo:
	./integration/demo

demo-down:
	$(GO) run ./integration/cmd/demo --down

testbed:
	$(GO) build -o bin/testbed ./integration/cmd/testbed

# Benchmarks (root, testbed packages; the drift run also wants ansible-core).
bench:
	$(GO) test ./integration/bench -run '^$$' -bench Engine -cpu 1 -benchtime 3x
	TEND_BENCH=1 $(GO) test ./integration/bench -run TestDriftRun -v -timeout 30m
	$(GO) test ./pkg/connection/ssh -run '^$$' -bench BenchmarkTransport -benchtime 1x
	$(GO) test ./integration/testbed -run '^$$' -bench Boot -benchtime 1x
