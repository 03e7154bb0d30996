// Package bench holds tend's performance benchmarks:
//
//   - BenchmarkEngine (engine_bench_test.go): the executor alone, a
//     200-task playbook of controller-side tasks (set_fact, debug, assert,
//     loops, templated strings) on 10, 50 and 200 hosts, reported as
//     task-host results per second.
//   - TestDriftRun (drift_test.go, only with TEND_BENCH=1): a converged
//     50-task playbook on two testbed hosts run again with nothing to
//     change, timed for tend and for ansible-playbook side by side, with
//     SSH round trips per task counted for tend.
//
// The commands and the numbers measured are in README.md. The package has
// no non-test code besides this comment.
package bench
