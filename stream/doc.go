// Package stream holds tubo's builtin byte-moving nodes, Tee and Merge. They
// run inside tubo as goroutines on the descriptors that the executor wires
// to the neighbouring processes, usually pipes.
//
// Both nodes own the files they are given: they close every one of them
// before returning. Both work with blocking descriptors (as made by
// unix.Pipe2 or inherited) and with non-blocking ones (as made by os.Pipe):
// every wait is a poll(2) on the descriptor plus a private cancel pipe, so a
// node that fails can stop its own goroutines without waiting for a
// neighbour to read or write.
//
// Writes go through raw write(2)/splice(2) calls, never (*os.File).Write,
// because the os package turns EPIPE on descriptors 1 and 2 into a SIGPIPE
// that kills tubo; a raw call just returns EPIPE (the Go runtime does not
// die of a SIGPIPE raised by a write on a descriptor it did not flag as
// stdout). A program that calls signal.Notify for SIGPIPE will see those
// signals delivered.
//
// Memory is bounded: Tee holds at most a few buffers per output (plus its
// spill limit with TeeOptions.Spill); Merge holds a few buffers per input
// for Interleave and Ordered (a buffer grows only to hold the longest
// record) and spills waiting Concat inputs to unlinked temporary files
// beyond a per-input limit.
package stream
