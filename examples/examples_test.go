package examples_test

// End-to-end tests for the example programs: every program is built into a
// temporary directory once, in TestMain, and then run as a real process.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var binDir string

var programs = []string{
	"esclavo", "maestro", "fifo-consumer", "fifo-producer",
	"pipe-message", "lssort-dup", "lssort-dup2",
}

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tubo-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	gotool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "go tool not found:", err)
		return 1
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, p := range programs {
		args = append(args, "./"+p)
	}
	cmd := exec.Command(gotool, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building examples:", err)
		return 1
	}
	return m.Run()
}

func bin(name string) string { return filepath.Join(binDir, name) }

type result struct {
	stdout, stderr string
	code           int // exit status; -1 if killed by a signal
}

// run runs a program to completion with a timeout.
func run(t *testing.T, dir string, path string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running %s %q: %v", path, args, err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// --- Primes -----------------------------------------------------------------

// oraclePrimes returns the primes in [lo, hi] with a segmented sieve of
// Eratosthenes: an algorithm independent of esclavo's trial division.
func oraclePrimes(lo, hi int64) []int64 {
	if hi < 2 || lo > hi {
		return nil
	}
	lo = max(lo, 2)
	var root int64
	for (root+1)*(root+1) <= hi {
		root++
	}
	composite := make([]bool, root+1)
	var small []int64
	for i := int64(2); i <= root; i++ {
		if !composite[i] {
			small = append(small, i)
			for j := i * i; j <= root; j += i {
				composite[j] = true
			}
		}
	}
	seg := make([]bool, hi-lo+1)
	for _, p := range small {
		start := max(p*p, (lo+p-1)/p*p)
		for m := start; m <= hi; m += p {
			seg[m-lo] = true
		}
	}
	var out []int64
	for i, c := range seg {
		if !c {
			out = append(out, lo+int64(i))
		}
	}
	return out
}

func decodeInt32s(t *testing.T, b []byte) []int64 {
	t.Helper()
	if len(b)%4 != 0 {
		t.Fatalf("output is %d bytes, not a multiple of 4", len(b))
	}
	out := make([]int64, 0, len(b)/4)
	for i := 0; i < len(b); i += 4 {
		out = append(out, int64(int32(binary.NativeEndian.Uint32(b[i:]))))
	}
	return out
}

func lines(nums []int64) string {
	var sb strings.Builder
	for _, n := range nums {
		sb.WriteString(strconv.FormatInt(n, 10))
		sb.WriteByte('\n')
	}
	return sb.String()
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOracle(t *testing.T) {
	if got := oraclePrimes(0, 30); !equalInts(got, []int64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29}) {
		t.Fatalf("oracle is wrong: %v", got)
	}
}

func TestEsclavo(t *testing.T) {
	type iv struct{ lo, hi int64 }
	intervals := []iv{
		{1000, 2000}, {0, 10}, {2, 2}, {1, 1}, {0, 0}, {0, 1}, {3, 3}, {4, 4},
		{24, 26}, {0, 200000}, // perfect squares such as 25 are composite
		{2147483600, 2147483647}, {2147483647, 2147483647}, {2147483646, 2147483646},
		{2147395600, 2147395601}, // 46340^2 and 46340^2+1
	}
	rng := rand.New(rand.NewPCG(4, 2))
	for range 20 {
		lo := rng.Int64N(math.MaxInt32 + 1)
		hi := min(lo+rng.Int64N(3000), math.MaxInt32)
		intervals = append(intervals, iv{lo, hi})
	}
	for _, tc := range intervals {
		t.Run(fmt.Sprintf("%d-%d", tc.lo, tc.hi), func(t *testing.T) {
			t.Parallel()
			res := run(t, "", bin("esclavo"), strconv.FormatInt(tc.lo, 10), strconv.FormatInt(tc.hi, 10))
			if res.code != 0 || res.stderr != "" {
				t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
			}
			got := decodeInt32s(t, []byte(res.stdout))
			want := oraclePrimes(tc.lo, tc.hi)
			if !equalInts(got, want) {
				t.Fatalf("got %d primes, want %d\ngot  %v\nwant %v", len(got), len(want), head(got), head(want))
			}
			if tc.lo == 1000 && tc.hi == 2000 && len(got) != 135 {
				t.Errorf("%d primes in [1000, 2000], want 135", len(got))
			}
			if tc.hi == math.MaxInt32 && got[len(got)-1] != math.MaxInt32 {
				t.Errorf("2147483647 (2^31-1) is prime but was not reported")
			}
		})
	}
}

func head(s []int64) []int64 { return s[:min(len(s), 20)] }

func TestMaestro(t *testing.T) {
	type iv struct{ lo, hi int64 }
	for _, tc := range []iv{{1000, 2000}, {0, 300000}, {2147480000, 2147483647}} {
		want := lines(oraclePrimes(tc.lo, tc.hi))
		for n := 1; n <= 8; n++ {
			for _, seq := range []bool{false, true} {
				name := fmt.Sprintf("%d-%d/N=%d/sequential=%v", tc.lo, tc.hi, n, seq)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					args := []string{strconv.FormatInt(tc.lo, 10), strconv.FormatInt(tc.hi, 10), strconv.Itoa(n)}
					if seq {
						args = append([]string{"-sequential"}, args...)
					}
					res := run(t, "", bin("maestro"), args...)
					if res.code != 0 || res.stderr != "" {
						t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
					}
					if res.stdout != want {
						t.Fatalf("output differs from the oracle (%d bytes, want %d)", len(res.stdout), len(want))
					}
				})
			}
		}
	}
}

func TestMaestroDefaultsAndSmallIntervals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"1000", "2000"}, lines(oraclePrimes(1000, 2000))},
		{[]string{"5", "7", "8"}, "5\n7\n"}, // N > total: 3 workers
		{[]string{"0", "0", "64"}, ""},
		{[]string{"2", "2", "64"}, "2\n"},
		{[]string{"--", "10", "20"}, "11\n13\n17\n19\n"},
	} {
		res := run(t, "", bin("maestro"), tc.args...)
		if res.code != 0 || res.stderr != "" || res.stdout != tc.want {
			t.Errorf("maestro %q: exit %d, stdout %q, stderr %q; want stdout %q", tc.args, res.code, res.stdout, res.stderr, tc.want)
		}
	}
}

func TestBadArgs(t *testing.T) {
	for _, tc := range []struct {
		prog string
		args []string
	}{
		{"esclavo", nil},
		{"esclavo", []string{"1"}},
		{"esclavo", []string{"1", "2", "3"}},
		{"esclavo", []string{"20", "10"}},
		{"esclavo", []string{"-1", "10"}},
		{"esclavo", []string{"-10", "-1"}},
		{"esclavo", []string{"a", "10"}},
		{"esclavo", []string{"1", "1e3"}},
		{"esclavo", []string{"1", "2.5"}},
		{"esclavo", []string{"1", ""}},
		{"esclavo", []string{"0", "2147483648"}},
		{"esclavo", []string{"0", "99999999999999999999999"}},
		{"maestro", nil},
		{"maestro", []string{"1"}},
		{"maestro", []string{"1", "2", "3", "4"}},
		{"maestro", []string{"20", "10"}},
		{"maestro", []string{"-1", "10"}},
		{"maestro", []string{"x", "10"}},
		{"maestro", []string{"0", "2147483648"}},
		{"maestro", []string{"1", "10", "0"}},
		{"maestro", []string{"1", "10", "-3"}},
		{"maestro", []string{"1", "10", "65"}},
		{"maestro", []string{"1", "10", "two"}},
		{"maestro", []string{"-bogus", "1", "10"}},
		{"maestro", []string{"-sequential", "10", "1"}},
	} {
		res := run(t, "", bin(tc.prog), tc.args...)
		if res.code != 2 || res.stdout != "" || !strings.HasPrefix(res.stderr, tc.prog+": ") {
			t.Errorf("%s %q: exit %d, stdout %q, stderr %q; want exit 2, a %q message and no output",
				tc.prog, tc.args, res.code, res.stdout, res.stderr, tc.prog+": ")
		}
	}
}

// fakeEsclavo installs maestro next to a shell script named esclavo.
func fakeEsclavo(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, bin("maestro"), filepath.Join(dir, "maestro"))
	if err := os.WriteFile(filepath.Join(dir, "esclavo"), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestMaestroReportsWorkerFailure(t *testing.T) {
	for _, tc := range []struct{ name, script, wantErr string }{
		{"exit", `[ "$1" = 1501 ] && exit 3; exit 0`, "worker 2 (esclavo 1501 2000) failed: exit status 3"},
		{"signal", `kill -TERM $$`, "failed: signal: terminated"},
		{"truncated", `printf abc`, "truncated record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeEsclavo(t, tc.script)
			res := run(t, "", filepath.Join(dir, "maestro"), "1000", "2000")
			if res.code != 1 || !strings.Contains(res.stderr, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", res.code, res.stderr, tc.wantErr)
			}
		})
	}
}

func TestMaestroFindsEsclavoOnPath(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, bin("maestro"), filepath.Join(dir, "maestro"))
	cmd := exec.Command(filepath.Join(dir, "maestro"), "10", "20")
	cmd.Env = append(os.Environ(), "PATH="+binDir)
	out, err := cmd.Output()
	if err != nil || string(out) != "11\n13\n17\n19\n" {
		t.Errorf("with esclavo on PATH: %q, %v", out, err)
	}
	cmd = exec.Command(filepath.Join(dir, "maestro"), "10", "20")
	cmd.Env = append(os.Environ(), "PATH="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if cmd.ProcessState.ExitCode() != 1 || len(out) != 0 || !strings.Contains(stderr.String(), "esclavo not found") {
		t.Errorf("without esclavo: err %v, stdout %q, stderr %q", err, out, stderr.String())
	}
}

// --- FIFOs ------------------------------------------------------------------

type bg struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan error
}

func start(t *testing.T, path string, args ...string) *bg {
	t.Helper()
	b := &bg{cmd: exec.Command(path, args...), done: make(chan error, 1)}
	b.cmd.Stdout, b.cmd.Stderr = &b.stdout, &b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			b.cmd.Process.Kill()
			<-b.done
		}
	})
	return b
}

// wait waits for the process and returns its exit code.
func (b *bg) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-b.done:
		return b.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit; stdout so far %q", b.cmd.Path, b.stdout.String())
		return 0
	}
}

func waitForFIFO(t *testing.T, path string) os.FileInfo {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(path)
		if err == nil {
			return fi
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not created: %v", path, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openWriter opens the FIFO for writing once a reader has it open. It uses
// O_NONBLOCK, which makes open fail with ENXIO while there is no reader,
// instead of blocking forever if the consumer never gets there.
func openWriter(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err == nil {
			return fd
		}
		if !errors.Is(err, unix.ENXIO) || time.Now().After(deadline) {
			t.Fatalf("opening %s for writing: %v", path, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func produce(t *testing.T, fifo, msg string) {
	t.Helper()
	if res := run(t, "", bin("fifo-producer"), fifo, msg); res.code != 0 {
		t.Fatalf("fifo-producer %q: exit %d, stderr %q", msg, res.code, res.stderr)
	}
}

func TestFIFOConsumerProducers(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	consumer := start(t, bin("fifo-consumer"), fifo)
	fi := waitForFIFO(t, fifo)
	if fi.Mode().Type() != os.ModeNamedPipe || fi.Mode().Perm() != 0o600 {
		t.Errorf("FIFO mode is %v, want a named pipe with permissions 0600", fi.Mode())
	}

	// Hold a write end open for the whole test: otherwise the consumer
	// (O_RDONLY) would see EOF and exit when the first producer closes.
	fd := openWriter(t, fifo)
	defer unix.Close(fd)
	// Several messages in one write, and one message split across writes.
	if _, err := unix.Write(fd, []byte("one\x00two\x00thr")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := unix.Write(fd, []byte("ee\x00")); err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"alpha", "beta gamma", "δ", ""} {
		produce(t, fifo, msg)
	}
	produce(t, fifo, "fin")
	if code := consumer.wait(t); code != 0 {
		t.Errorf("consumer exit %d, stderr %q", code, consumer.stderr.String())
	}
	want := "received: one\nreceived: two\nreceived: three\nreceived: alpha\nreceived: beta gamma\nreceived: δ\nreceived: \n"
	if got := consumer.stdout.String(); got != want {
		t.Errorf("consumer printed\n%s\nwant\n%s", got, want)
	}
}

func TestFIFOConsumerExitsAtEOF(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	consumer := start(t, bin("fifo-consumer"), fifo)
	waitForFIFO(t, fifo)
	produce(t, fifo, "only one")
	if code := consumer.wait(t); code != 0 || consumer.stdout.String() != "received: only one\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, consumer.stdout.String(), consumer.stderr.String())
	}
}

func TestFIFOProducerFirst(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The producer blocks in open(O_WRONLY) until the consumer arrives.
	producer := start(t, bin("fifo-producer"), fifo, "early bird")
	time.Sleep(100 * time.Millisecond)
	select {
	case <-producer.done:
		t.Fatalf("producer exited without a reader: %q", producer.stderr.String())
	default:
	}
	consumer := start(t, bin("fifo-consumer"), fifo)
	if code := producer.wait(t); code != 0 {
		t.Errorf("producer exit %d, stderr %q", code, producer.stderr.String())
	}
	if code := consumer.wait(t); code != 0 || consumer.stdout.String() != "received: early bird\n" {
		t.Errorf("consumer exit %d, stdout %q, stderr %q", code, consumer.stdout.String(), consumer.stderr.String())
	}
}

func TestFIFOConsumerRDWR(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	consumer := start(t, bin("fifo-consumer"), "-rdwr", fifo)
	waitForFIFO(t, fifo)
	// No writer is held open by the test: with O_RDWR the consumer is its
	// own writer, so it survives each producer's close.
	for _, msg := range []string{"m1", "m2", "m3"} {
		produce(t, fifo, msg)
	}
	time.Sleep(50 * time.Millisecond)
	select {
	case <-consumer.done:
		t.Fatalf("O_RDWR consumer exited before fin: %q", consumer.stdout.String())
	default:
	}
	produce(t, fifo, "fin")
	if code := consumer.wait(t); code != 0 || consumer.stdout.String() != "received: m1\nreceived: m2\nreceived: m3\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, consumer.stdout.String(), consumer.stderr.String())
	}
}

func TestFIFOConsumerTruncatedMessage(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	consumer := start(t, bin("fifo-consumer"), fifo)
	waitForFIFO(t, fifo)
	fd := openWriter(t, fifo)
	unix.Write(fd, []byte("ok\x00no terminator"))
	unix.Close(fd)
	if code := consumer.wait(t); code != 1 || consumer.stdout.String() != "received: ok\n" ||
		!strings.Contains(consumer.stderr.String(), "EOF in the middle of a message") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, consumer.stdout.String(), consumer.stderr.String())
	}
}

func TestFIFOErrors(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"fifo-consumer", []string{regular}, 2},
		{"fifo-consumer", []string{dir}, 2},
		{"fifo-consumer", nil, 2},
		{"fifo-producer", []string{regular, "x"}, 2},
		{"fifo-producer", []string{filepath.Join(dir, "missing"), "x"}, 1},
		{"fifo-producer", []string{fifo, strings.Repeat("a", 4096)}, 2}, // 4097 bytes with NUL
		{"fifo-producer", []string{fifo}, 2},
	} {
		res := run(t, "", bin(tc.name), tc.args...)
		if res.code != tc.code || res.stdout != "" || !strings.HasPrefix(res.stderr, tc.name) && !strings.HasPrefix(res.stderr, "usage") {
			t.Errorf("%s %.40q: exit %d, stdout %q, stderr %q; want exit %d", tc.name, tc.args, res.code, res.stdout, res.stderr, tc.code)
		}
	}
	if b, _ := os.ReadFile(regular); string(b) != "data" {
		t.Errorf("regular file was modified: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("producer created a missing FIFO")
	}
}

func TestFIFOProducerMaxMessage(t *testing.T) {
	// 4095 bytes + NUL = PIPE_BUF: accepted, and arrives whole.
	fifo := filepath.Join(t.TempDir(), "fifo")
	consumer := start(t, bin("fifo-consumer"), fifo)
	waitForFIFO(t, fifo)
	msg := strings.Repeat("x", 4095)
	produce(t, fifo, msg)
	if code := consumer.wait(t); code != 0 || consumer.stdout.String() != "received: "+msg+"\n" {
		t.Errorf("exit %d, stdout %d bytes, stderr %q", code, consumer.stdout.Len(), consumer.stderr.String())
	}
}

// --- Unnamed pipes ----------------------------------------------------------

func TestPipeMessage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "bytes received: 39\nmessage: the first message sent through a pipe!!\n"},
		{[]string{"hola"}, "bytes received: 4\nmessage: hola\n"},
		{[]string{"ñandú"}, "bytes received: 7\nmessage: ñandú\n"},
		{[]string{""}, "bytes received: 0\nmessage: \n"},
	} {
		res := run(t, "", bin("pipe-message"), tc.args...)
		if res.code != 0 || res.stdout != tc.want || res.stderr != "" {
			t.Errorf("pipe-message %q: exit %d, stdout %q, stderr %q; want %q", tc.args, res.code, res.stdout, res.stderr, tc.want)
		}
	}
	// A large message: more than the pipe capacity, so it needs many reads.
	big := strings.Repeat("0123456789", 10000)
	res := run(t, "", bin("pipe-message"), big)
	if res.code != 0 || res.stdout != "bytes received: 100000\nmessage: "+big+"\n" {
		t.Errorf("100000-byte message: exit %d, %d bytes of output, stderr %q", res.code, len(res.stdout), res.stderr)
	}
	// The hidden child mode refuses to run without a pipe on fd 3.
	res = run(t, "", bin("pipe-message"), "-child", "x")
	if res.code != 2 || res.stdout != "" {
		t.Errorf("pipe-message -child x: exit %d, stdout %q", res.code, res.stdout)
	}
}

func TestLsSort(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b", "a", "C", "10", "2", "with space", ".hidden", "ünïcode", "z-last", "_under"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")

	shell := func(cwd string, args ...string) string {
		cmd := exec.Command("/bin/sh", append([]string{"-c", `ls "$@" | sort`, "sh"}, args...)...)
		cmd.Dir = cwd
		out, _ := cmd.Output()
		return string(out)
	}
	for _, prog := range []string{"lssort-dup", "lssort-dup2"} {
		t.Run(prog, func(t *testing.T) {
			want := shell("", dir)
			if !strings.Contains(want, "with space\n") {
				t.Fatalf("unexpected reference output %q", want)
			}
			res := run(t, "", bin(prog), dir)
			if res.code != 0 || res.stdout != want || res.stderr != "" {
				t.Errorf("%s DIR: exit %d, stdout %q, stderr %q; want %q", prog, res.code, res.stdout, res.stderr, want)
			}
			// Default directory ".".
			res = run(t, dir, bin(prog))
			if want := shell(dir); res.code != 0 || res.stdout != want {
				t.Errorf("%s: exit %d, stdout %q; want %q", prog, res.code, res.stdout, want)
			}
			// ls fails, sort succeeds on empty input: status 1.
			res = run(t, "", bin(prog), missing)
			if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "missing") {
				t.Errorf("%s MISSING: exit %d, stdout %q, stderr %q", prog, res.code, res.stdout, res.stderr)
			}
			res = run(t, "", bin(prog), "a", "b")
			if res.code != 2 {
				t.Errorf("%s a b: exit %d, want 2", prog, res.code)
			}
		})
	}
	res := run(t, "", bin("lssort-dup"), "-dup-exec", "1", "ls")
	if res.code != 2 || res.stdout != "" {
		t.Errorf("lssort-dup -dup-exec without a pipe: exit %d, stdout %q", res.code, res.stdout)
	}
}
