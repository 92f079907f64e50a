package remote_test

import (
	"net"
	"strconv"
	"time"
)

type netDialer struct{}

func (netDialer) dial(port int) (net.Conn, error) {
	return net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
}
