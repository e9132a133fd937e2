// Command go-client drives a Toxiproxy API with Toxiproxy's own Go client
// (github.com/Shopify/toxiproxy/v2/client, the server's version), unmodified.
//
// Usage: go-client API_HOST:PORT ECHO_UPSTREAM
// ECHO_UPSTREAM is a host:port that echoes what it receives. Prints `ok` and
// exits 0 when every step behaved as it does against Toxiproxy; otherwise
// prints the failed step and exits 1.
package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAILED: "+format+"\n", args...)
	os.Exit(1)
}

func check(err error, step string) {
	if err != nil {
		fail("%s: %v", step, err)
	}
}

// roundTrip sends "ping" through listen and times the echo.
func roundTrip(listen string) time.Duration {
	conn, err := net.DialTimeout("tcp", listen, 5*time.Second)
	check(err, "connect to "+listen)
	defer conn.Close()
	check(conn.SetDeadline(time.Now().Add(5*time.Second)), "deadline")
	started := time.Now()
	_, err = conn.Write([]byte("ping"))
	check(err, "write")
	got := make([]byte, 4)
	for n := 0; n < 4; {
		m, err := conn.Read(got[n:])
		check(err, fmt.Sprintf("read the echo after %q", got[:n]))
		n += m
	}
	if string(got) != "ping" {
		fail("echo was %q", got)
	}
	return time.Since(started)
}

func refused(listen string) bool {
	conn, err := net.DialTimeout("tcp", listen, 2*time.Second)
	if err != nil {
		return strings.Contains(err.Error(), "connection refused")
	}
	conn.Close()
	return false
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: go-client API_HOST:PORT ECHO_UPSTREAM")
	}
	api, upstream := os.Args[1], os.Args[2]
	client := toxiproxy.NewClient(api)

	version, err := client.Version()
	check(err, "version")
	if len(version) == 0 {
		fail("empty version")
	}

	proxy, err := client.CreateProxy("go", "127.0.0.1:0", upstream)
	check(err, "create proxy")
	if !proxy.Enabled || strings.HasSuffix(proxy.Listen, ":0") {
		fail("created proxy: %+v", proxy)
	}
	all, err := client.Proxies()
	check(err, "list proxies")
	if _, ok := all["go"]; !ok {
		fail("proxy `go` not listed: %v", all)
	}
	if took := roundTrip(proxy.Listen); took > 200*time.Millisecond {
		fail("no toxic, round trip %v", took)
	}

	toxic, err := proxy.AddToxic("", "latency", "downstream", 1, toxiproxy.Attributes{"latency": 300})
	check(err, "add latency toxic")
	if toxic.Name != "latency_downstream" || toxic.Attributes["latency"] != float64(300) {
		fail("added toxic: %+v", toxic)
	}
	if took := roundTrip(proxy.Listen); took < 300*time.Millisecond {
		fail("latency 300 ms, round trip %v", took)
	}

	updated, err := proxy.UpdateToxic("latency_downstream", -1, toxiproxy.Attributes{"latency": 20})
	check(err, "update toxic")
	if updated.Attributes["latency"] != float64(20) || updated.Toxicity != 1 {
		fail("updated toxic: %+v", updated)
	}
	if took := roundTrip(proxy.Listen); took < 20*time.Millisecond || took > 250*time.Millisecond {
		fail("latency 20 ms, round trip %v", took)
	}
	toxics, err := proxy.Toxics()
	check(err, "list toxics")
	if len(toxics) != 1 || toxics[0].Name != "latency_downstream" {
		fail("toxics: %+v", toxics)
	}
	check(proxy.RemoveToxic("latency_downstream"), "remove toxic")
	if _, err := proxy.UpdateToxic("latency_downstream", 1, nil); err == nil || !strings.Contains(err.Error(), "404") {
		fail("update of a removed toxic: %v", err)
	}

	check(proxy.Disable(), "disable")
	if proxy.Enabled || !refused(proxy.Listen) {
		fail("disabled proxy still accepts: %+v", proxy)
	}
	check(proxy.Enable(), "enable")
	if took := roundTrip(proxy.Listen); took > 200*time.Millisecond {
		fail("enabled again, round trip %v", took)
	}

	_, err = client.AddToxic(&toxiproxy.ToxicOptions{
		ProxyName: "go", ToxicName: "hold", ToxicType: "timeout", Stream: "upstream",
		Toxicity: 1, Attributes: toxiproxy.Attributes{"timeout": 0},
	})
	check(err, "add timeout toxic by options")
	check(client.ResetState(), "reset")
	fetched, err := client.Proxy("go")
	check(err, "get proxy")
	if len(fetched.ActiveToxics) != 0 || !fetched.Enabled {
		fail("after reset: %+v", fetched)
	}

	populated, err := client.Populate([]toxiproxy.Proxy{
		{Name: "go-other", Listen: "127.0.0.1:0", Upstream: upstream, Enabled: true},
	})
	check(err, "populate")
	if len(populated) != 1 || populated[0].Name != "go-other" {
		fail("populated: %+v", populated)
	}
	if took := roundTrip(populated[0].Listen); took > 200*time.Millisecond {
		fail("populated proxy, round trip %v", took)
	}
	_, err = client.Populate([]toxiproxy.Proxy{{Name: "", Upstream: upstream}})
	if err == nil || !strings.Contains(err.Error(), "400") {
		fail("populate without a name: %v", err)
	}

	check(proxy.Delete(), "delete")
	if _, err := client.Proxy("go"); err == nil || !strings.Contains(err.Error(), "404") {
		fail("deleted proxy still there: %v", err)
	}
	fmt.Println("ok")
}
