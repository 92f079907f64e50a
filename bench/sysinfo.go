package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// machine describes where the numbers were taken.
func machine(b *bench) [][2]string {
	first := func(argv ...string) string {
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			return "?"
		}
		line, _, _ := strings.Cut(string(out), "\n")
		return strings.TrimSpace(line)
	}
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(b))
	}
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return [][2]string{
		{"CPUs (nproc)", first("nproc")},
		{"CPU model", model},
		{"kernel", read("/proc/sys/kernel/osrelease")},
		{"go", first("go", "version") + " (harness built with " + runtime.Version() + ")"},
		{"tubo", first(b.tubo, "--version")},
		{"dash", "dpkg " + first("dpkg-query", "-W", "-f", "${Version}", "dash")},
		{"bash", first("bash", "--version")},
		{"GNU parallel", first("parallel", "--version")},
		{"coreutils", first("cat", "--version")},
		{"pipe-max-size", read("/proc/sys/fs/pipe-max-size")},
		{"RLIMIT_NOFILE (soft hard)", first("sh", "-c", "echo $(ulimit -Sn) $(ulimit -Hn)")},
		{"load average at start", read("/proc/loadavg")},
	}
}
