package procstat_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/procstat"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and a ')' of its own, as the kernel
	// prints it: fields are counted from the last ')'.
	line := "4121 (a b) c) S 1 4121 4121 0 -1 4194560 110 0 0 0 250 50 0 0 20 0 1 0 3 9000 77 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	cpu, rss, ok := procstat.ParseStat([]byte(line))
	if !ok || cpu != 3*time.Second || rss != 77*int64(os.Getpagesize()) {
		t.Errorf("ParseStat = %v, %d, %v; want 3s, 77 pages, true", cpu, rss, ok)
	}
	if _, _, ok := procstat.ParseStat([]byte("4121 (short) S 1 2")); ok {
		t.Error("a cut-short stat line parsed")
	}
}

func TestReadSelf(t *testing.T) {
	before := procstat.Read(os.Getpid())
	f, err := os.Create(t.TempDir() + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	after := procstat.Read(os.Getpid())
	if !after.HasCPU || after.RSS <= 0 || !after.HasIO {
		t.Fatalf("incomplete sample of a live process: %+v", after)
	}
	if d := after.Wchar - before.Wchar; d < 1<<20 {
		t.Errorf("wchar grew by %d after writing 1 MiB", d)
	}
}

func TestReadGone(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if s := procstat.Read(cmd.Process.Pid); s.OK() {
		t.Errorf("a reaped process gave %+v", s)
	}
}
