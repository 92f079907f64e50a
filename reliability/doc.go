// Package reliability holds tubo's end-to-end reliability tests: they build
// the real tubo binary and check, with real processes, pipes, FIFOs,
// signals and a pseudo-terminal, the guarantees that docs/reliability.md
// lists (no orphans however tubo ends, FIFO cleanup, no silent FIFO hangs,
// crash and timeout reporting, failure policy, descriptor hygiene, hostile
// input, a soak of the executor API, and terminal hand-off).
//
// The package has no code of its own; everything is in _test.go files.
package reliability
