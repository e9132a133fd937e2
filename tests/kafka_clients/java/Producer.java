// The client matrix's Java producer: Apache Kafka's own kafka-clients,
// unmodified, run in Java's source-file mode (no build step):
//
//   java -cp "$FAULTLAB_KAFKA_LIBS/*" tests/kafka_clients/java/Producer.java \
//       --bootstrap HOST:PORT --topic T --messages N --mode plain|idempotent --client-id ID
//
// The contract is tests/kafka_clients/README.md's.

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.AppInfoParser;

public class Producer {
    static final int MAX_ERRORS = 5;

    public static void main(String[] argv) throws InterruptedException {
        // Only the result goes to stdout: anything the client logs goes to stderr.
        PrintStream result = System.out;
        System.setOut(System.err);

        Map<String, String> args = parse(argv);
        if (args == null) {
            System.err.println("usage: Producer --bootstrap HOST:PORT --topic T --messages N --mode plain|idempotent --client-id ID");
            System.exit(2);
        }
        String topic = args.get("--topic");
        String clientId = args.get("--client-id");
        int messages = Integer.parseInt(args.get("--messages"));

        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("--bootstrap"));
        config.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        config.put(ProducerConfig.RETRIES_CONFIG, Integer.toString(Integer.MAX_VALUE));
        config.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "100");
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        if (args.get("--mode").equals("plain")) {
            config.put(ProducerConfig.ACKS_CONFIG, "1");
            config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        } else {
            config.put(ProducerConfig.ACKS_CONFIG, "all");
            config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        }

        int acked = 0;
        int failed = 0;
        List<String> errors = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
            // The cluster must answer before anything is sent: a setup error otherwise.
            try {
                producer.partitionsFor(topic);
            } catch (RuntimeException e) {
                System.err.println("Producer: no metadata for " + topic + " from " + args.get("--bootstrap") + ": " + e);
                System.exit(1);
            }
            for (int i = 1; i <= messages; i++) {
                try {
                    producer.send(new ProducerRecord<>(topic, "k" + i, clientId + "-" + i)).get();
                    acked++;
                } catch (ExecutionException | RuntimeException e) {
                    failed++;
                    if (errors.size() < MAX_ERRORS) {
                        errors.add("message " + i + ": " + (e.getCause() != null ? e.getCause() : e));
                    }
                }
            }
        }
        result.println(json(AppInfoParser.getVersion(), messages, acked, failed, errors));
    }

    /** The five options, each once; null when anything else is given. */
    static Map<String, String> parse(String[] argv) {
        List<String> names = List.of("--bootstrap", "--topic", "--messages", "--mode", "--client-id");
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!names.contains(argv[i]) || args.put(argv[i], argv[i + 1]) != null) {
                return null;
            }
        }
        if (argv.length % 2 != 0 || args.size() != names.size()) {
            return null;
        }
        if (!args.get("--mode").equals("plain") && !args.get("--mode").equals("idempotent")) {
            return null;
        }
        try {
            return Integer.parseInt(args.get("--messages")) >= 0 ? args : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static String json(String version, int sent, int acked, int failed, List<String> errors) {
        List<String> quoted = new ArrayList<>();
        for (String error : errors) {
            quoted.add(quote(error));
        }
        return "{\"client\":\"java\",\"version\":" + quote(version) + ",\"sent\":" + sent + ",\"acked\":" + acked + ",\"failed\":" + failed
            + ",\"errors\":[" + String.join(",", quoted) + "]}";
    }

    static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return out.append('"').toString();
    }
}
