package remote

import (
	"testing"
	"time"

	"github.com/tubo-pipes/tubo/executor"
)

func TestParseEnd(t *testing.T) {
	var rr executor.RemoteResult
	// dash's times, as the agent relays them: end and start of the
	// wrapper's children.
	parseEnd("143 uptime 100.25 101.75 0m1.500000s 0m0.250000s 0m0.100000s 0m0.050000s", &rr)
	if !rr.Known || rr.Status != 143 || rr.Wall != 1500*time.Millisecond || rr.WallStep != 10*time.Millisecond ||
		rr.User != 1400*time.Millisecond || rr.System != 200*time.Millisecond {
		t.Fatalf("%+v", rr)
	}
	rr = executor.RemoteResult{}
	parseEnd("0 date 1700000000 1700000002 1m2.5s 0m0s 0m0s 0m0s", &rr)
	if rr.Wall != 2*time.Second || rr.WallStep != time.Second || rr.User != 62500*time.Millisecond {
		t.Fatalf("%+v", rr)
	}
	for _, bad := range []string{"none", "", "x uptime 1 2"} {
		rr = executor.RemoteResult{}
		if parseEnd(bad, &rr); rr.Known {
			t.Errorf("%q read as known: %+v", bad, rr)
		}
	}
}
