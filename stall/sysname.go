package stall

import "golang.org/x/sys/unix"

// callKind groups the system calls a blocked process can sit in by what
// it waits for.
type callKind int

const (
	callOther  callKind = iota
	callRead            // args[0] is the descriptor
	callWrite           // args[0] is the descriptor
	callOpen            // the path is args[pathArg]
	callWait            // a child to change state
	callPoll            // several descriptors, or a timer
	callSleep           // a timer: it wakes by itself
	callSplice          // splice/tee/sendfile: args[0] in, args[2] (or 1) out
	callFutex           // a lock between threads
	callSignal          // a signal (pause, sigsuspend)
)

type callInfo struct {
	name    string
	kind    callKind
	pathArg int // callOpen: which argument holds the path
}

// calls names the system calls tubo explains; the others are shown by
// number.
var calls = map[int]callInfo{
	unix.SYS_READ:            {"read", callRead, 0},
	unix.SYS_READV:           {"readv", callRead, 0},
	unix.SYS_PREAD64:         {"pread64", callRead, 0},
	unix.SYS_WRITE:           {"write", callWrite, 0},
	unix.SYS_WRITEV:          {"writev", callWrite, 0},
	unix.SYS_PWRITE64:        {"pwrite64", callWrite, 0},
	unix.SYS_OPENAT:          {"open", callOpen, 1},
	unix.SYS_OPENAT2:         {"open", callOpen, 1},
	unix.SYS_WAIT4:           {"wait4", callWait, 0},
	unix.SYS_WAITID:          {"waitid", callWait, 0},
	unix.SYS_PPOLL:           {"ppoll", callPoll, 0},
	unix.SYS_PSELECT6:        {"pselect6", callPoll, 0},
	unix.SYS_EPOLL_PWAIT:     {"epoll_pwait", callPoll, 0},
	unix.SYS_NANOSLEEP:       {"nanosleep", callSleep, 0},
	unix.SYS_CLOCK_NANOSLEEP: {"clock_nanosleep", callSleep, 0},
	unix.SYS_SPLICE:          {"splice", callSplice, 0},
	unix.SYS_TEE:             {"tee", callSplice, 0},
	unix.SYS_SENDFILE:        {"sendfile", callSplice, 0},
	unix.SYS_FUTEX:           {"futex", callFutex, 0},
	unix.SYS_RT_SIGSUSPEND:   {"rt_sigsuspend", callSignal, 0},
}

func init() {
	for n, c := range archCalls {
		calls[n] = c
	}
}
