"""The client matrix's Python producer: kafka-python (PyPI), unmodified.

    PYTHONPATH="$FAULTLAB_KAFKA_CLIENT_PYTHONPATH" python3 tests/kafka_clients/python/producer.py \
        --bootstrap HOST:PORT --topic T --messages N --mode plain|idempotent --client-id ID

The contract is tests/kafka_clients/README.md's.
"""

import argparse
import json
import logging
import sys

import kafka
from kafka import KafkaProducer

MAX_ERRORS = 5


def arguments():
    parser = argparse.ArgumentParser(prog="producer.py")
    parser.add_argument("--bootstrap", required=True, metavar="HOST:PORT")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--messages", required=True, type=int)
    parser.add_argument("--mode", required=True, choices=["plain", "idempotent"])
    parser.add_argument("--client-id", required=True)
    args = parser.parse_args()  # exits 2 on a usage error
    if args.messages < 0:
        parser.error("--messages must be 0 or more")
    return args


def main():
    args = arguments()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    if args.mode == "plain":
        reliability = {"acks": 1, "enable_idempotence": False}
    else:
        reliability = {"acks": "all", "enable_idempotence": True}
    try:
        producer = KafkaProducer(
            bootstrap_servers=args.bootstrap,
            client_id=args.client_id,
            linger_ms=0,
            max_in_flight_requests_per_connection=1,
            retries=2**31 - 1,
            retry_backoff_ms=100,
            request_timeout_ms=2000,
            delivery_timeout_ms=60000,
            max_block_ms=30000,
            **reliability,
        )
        # The cluster must answer before anything is sent: a setup error otherwise.
        if not producer.partitions_for(args.topic):
            raise RuntimeError(f"no partitions for {args.topic}")
    except Exception as e:  # noqa: BLE001 - any setup failure is the same exit
        print(f"producer.py: cannot produce to {args.topic} at {args.bootstrap}: {e!r}", file=sys.stderr)
        sys.exit(1)

    acked = failed = 0
    errors = []
    for i in range(1, args.messages + 1):
        try:
            producer.send(args.topic, key=f"k{i}".encode(), value=f"{args.client_id}-{i}".encode()).get(timeout=120)
            acked += 1
        except Exception as e:  # noqa: BLE001 - every failure is counted
            failed += 1
            if len(errors) < MAX_ERRORS:
                errors.append(f"message {i}: {e!r}")
    producer.close(timeout=10)
    result = {"client": "kafka-python", "version": kafka.__version__, "sent": args.messages,
              "acked": acked, "failed": failed, "errors": errors}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
