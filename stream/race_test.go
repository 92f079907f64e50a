//go:build race

package stream

// raceEnabled loosens the memory bounds: under the race detector
// sync.Pool drops items at random, so more garbage is in the heap.
const raceEnabled = true
