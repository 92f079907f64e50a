package stall

import "golang.org/x/sys/unix"

// archCalls are the older calls that only some architectures have.
var archCalls = map[int]callInfo{
	unix.SYS_OPEN:       {"open", callOpen, 0},
	unix.SYS_POLL:       {"poll", callPoll, 0},
	unix.SYS_SELECT:     {"select", callPoll, 0},
	unix.SYS_EPOLL_WAIT: {"epoll_wait", callPoll, 0},
	unix.SYS_PAUSE:      {"pause", callSignal, 0},
}
