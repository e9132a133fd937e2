// faultlab's Java producer: one KafkaProducer of Apache Kafka's own client
// (kafka-clients), driven by faultlab over JSON lines. faultlab embeds this
// file, writes it out and runs it in Java's source-file mode:
//
//   java -cp "<Kafka's libs>/*" FaultlabProducer.java
//
// stdin, from faultlab, one JSON object a line:
//   {"type":"config","properties":{...},"topic":T}   first: the producer's
//                                           properties and the topic it will write
//   {"type":"send","index":N,"topic":T,"key":K,"value":V}
//   {"type":"flush"}                        send what lingers, now
//   end of input                            close (faultlab is done or gone)
// stdout, to faultlab, one JSON object a line:
//   {"type":"hello","version":"4.1.2"}      the producer exists and has read
//                                           the topic's metadata (connected and
//                                           warmed up, as a running service is,
//                                           before the run's clock starts)
//   {"type":"acked","index":N,"partition":P,"offset":O}   O is -1 without one
//   {"type":"failed","index":N,"error":E,"possibly_persisted":B}
//   {"type":"error","message":M}            no producer (bad config); exits
// Everything else the JVM prints (the client's log) goes to stderr, which
// faultlab reads into its own log. src/run/java.rs is the other side.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.UnknownServerException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;

public class FaultlabProducer {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The protocol's stdout; System.out is pointed at stderr. */
    private static final PrintStream REPLIES = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);

    public static void main(String[] args) throws Exception {
        System.setOut(System.err);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String first = in.readLine();
        if (first == null) {
            return;
        }
        JsonNode config = JSON.readTree(first);
        Properties properties = new Properties();
        for (Map.Entry<String, JsonNode> property : config.get("properties").properties()) {
            properties.put(property.getKey(), property.getValue().asText());
        }
        properties.put("key.serializer", ByteArraySerializer.class.getName());
        properties.put("value.serializer", ByteArraySerializer.class.getName());
        KafkaProducer<byte[], byte[]> producer;
        try {
            producer = new KafkaProducer<>(properties);
        } catch (RuntimeException e) {
            reply(JSON.createObjectNode().put("type", "error").put("message", describe(e)));
            System.exit(2);
            return;
        }
        // A cold JVM takes its time over the first send (metadata, class
        // loading); done here, it does not fall into the run's fault windows.
        if (config.hasNonNull("topic")) {
            try {
                producer.partitionsFor(config.get("topic").asText());
            } catch (RuntimeException e) {
                reply(JSON.createObjectNode().put("type", "error").put("message", describe(e)));
                System.exit(2);
                return;
            }
        }
        reply(JSON.createObjectNode().put("type", "hello").put("version", AppInfoParser.getVersion()));
        String line;
        while ((line = in.readLine()) != null) {
            JsonNode message = JSON.readTree(line);
            switch (message.get("type").asText()) {
                case "send" -> send(producer, message);
                case "flush" -> producer.flush();
                default -> System.err.println("faultlab: unknown message " + line);
            }
        }
        producer.close(Duration.ZERO);
        System.exit(0);
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, JsonNode message) {
        long index = message.get("index").asLong();
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(
            message.get("topic").asText(),
            message.get("key").asText().getBytes(StandardCharsets.UTF_8),
            message.get("value").asText().getBytes(StandardCharsets.UTF_8));
        try {
            producer.send(record, (metadata, error) -> {
                if (error == null) {
                    reply(JSON.createObjectNode().put("type", "acked").put("index", index)
                        .put("partition", metadata.partition()).put("offset", metadata.hasOffset() ? metadata.offset() : -1));
                } else {
                    failed(index, error, possiblyPersisted(error));
                }
            });
        } catch (RuntimeException e) {
            // Thrown by send itself: never handed to the client.
            failed(index, e, false);
        }
    }

    /**
     * Whether a failed record may be in the log anyway. Definite (false):
     * an error the broker answered for the record (an ApiException that is
     * not retriable, such as RecordTooLarge, InvalidTopic, OutOfOrderSequence,
     * authorization). Possibly persisted (true): a TimeoutException (the
     * request timed out in flight, or delivery.timeout.ms expired with the
     * batch possibly in flight), a disconnect with the batch in flight
     * (NetworkException, DisconnectException), any other retriable error
     * (retries ran out, and an earlier attempt may have been written), an
     * unknown server error, and anything else (the producer closed with the
     * batch in flight).
     */
    static boolean possiblyPersisted(Exception error) {
        if (error instanceof RetriableException || error instanceof UnknownServerException) {
            return true;
        }
        return !(error instanceof ApiException);
    }

    private static void failed(long index, Exception error, boolean possiblyPersisted) {
        reply(JSON.createObjectNode().put("type", "failed").put("index", index)
            .put("error", describe(error)).put("possibly_persisted", possiblyPersisted));
    }

    private static String describe(Throwable error) {
        return error.getClass().getSimpleName() + ": " + error.getMessage();
    }

    /** One line to faultlab; from the main thread and the client's I/O thread. */
    private static synchronized void reply(ObjectNode message) {
        try {
            REPLIES.println(JSON.writeValueAsString(message));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        REPLIES.flush();
    }
}
