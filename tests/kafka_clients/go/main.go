// Command producer is the client matrix's franz-go producer
// (github.com/twmb/franz-go, the version in go.mod), unmodified.
//
// Usage: producer --bootstrap HOST:PORT --topic T --messages N --mode plain|idempotent --client-id ID
//
// The contract is tests/kafka_clients/README.md's.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const maxErrors = 5

type result struct {
	Client  string   `json:"client"`
	Version string   `json:"version"`
	Sent    int      `json:"sent"`
	Acked   int      `json:"acked"`
	Failed  int      `json:"failed"`
	Errors  []string `json:"errors"`
}

func usage(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "producer: "+format+"\n", args...)
	fmt.Fprintln(os.Stderr, "usage: producer --bootstrap HOST:PORT --topic T --messages N --mode plain|idempotent --client-id ID")
	os.Exit(2)
}

// franzVersion: the franz-go version this program was built with (1.22.3).
func franzVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/twmb/franz-go" {
				return strings.TrimPrefix(dep.Version, "v")
			}
		}
	}
	return "unknown"
}

func main() {
	flags := flag.NewFlagSet("producer", flag.ContinueOnError)
	bootstrap := flags.String("bootstrap", "", "HOST:PORT")
	topic := flags.String("topic", "", "topic")
	messages := flags.Int("messages", -1, "how many messages")
	mode := flags.String("mode", "", "plain or idempotent")
	clientID := flags.String("client-id", "", "client id")
	if err := flags.Parse(os.Args[1:]); err != nil {
		usage("%v", err)
	}
	if *bootstrap == "" || *topic == "" || *messages < 0 || *clientID == "" || flags.NArg() != 0 {
		usage("every option is required, once")
	}

	opts := []kgo.Opt{
		kgo.SeedBrokers(*bootstrap),
		kgo.ClientID(*clientID),
		kgo.ProducerLinger(0),
		kgo.RequestTimeoutOverhead(2 * time.Second),
		kgo.ProduceRequestTimeout(2 * time.Second),
		kgo.RecordDeliveryTimeout(60 * time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }),
	}
	switch *mode {
	case "plain":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(1))
	case "idempotent":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	default:
		usage("--mode is plain or idempotent, not %q", *mode)
	}
	client, err := kgo.NewClient(opts...)
	if err != nil {
		usage("%v", err)
	}
	defer client.Close()

	// The cluster must answer before anything is sent: a setup error otherwise.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err = client.Ping(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "producer: no broker answers at %s: %v\n", *bootstrap, err)
		os.Exit(1)
	}

	out := result{Client: "franz-go", Version: franzVersion(), Sent: *messages, Errors: []string{}}
	for i := 1; i <= *messages; i++ {
		record := &kgo.Record{Topic: *topic, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "%s-%d", *clientID, i)}
		if err := client.ProduceSync(context.Background(), record).FirstErr(); err != nil {
			out.Failed++
			if len(out.Errors) < maxErrors {
				out.Errors = append(out.Errors, fmt.Sprintf("message %d: %v", i, err))
			}
		} else {
			out.Acked++
		}
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}
