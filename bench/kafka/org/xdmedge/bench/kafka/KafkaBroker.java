package org.xdmedge.bench.kafka;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-broker Kafka cluster in KRaft mode (one controller, one broker) for the benchmark's
 * Kafka scenarios, from Maven Central's {@code kafka-test-common-runtime} (a test dependency of the
 * project; the bench compiles this file against the Maven test classpath, never into the jar).
 * Creates the topics named on the command line, prints {@code bootstrap=<host:port>} and runs until
 * its standard input closes or it is terminated.
 *
 * <p>Usage: {@code KafkaBroker <partitions> <topic>...}
 */
public final class KafkaBroker {
    public static void main(String[] args) throws Exception {
        int partitions = Integer.parseInt(args[0]);
        KafkaClusterTestKit kit = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setCombined(false).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("transaction.state.log.num.partitions", "2")
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "2")
                .setConfigProp("num.partitions", Integer.toString(partitions))
                .build();
        kit.format();
        kit.startup();
        kit.waitForReadyBrokers();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                kit.close();
            } catch (Exception e) {
                // exiting anyway
            }
        }));
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kit.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            List<NewTopic> topics = new java.util.ArrayList<>();
            for (int i = 1; i < args.length; i++) {
                topics.add(new NewTopic(args[i], partitions, (short) 1).configs(Map.of("min.insync.replicas", "1")));
            }
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }
        System.out.println("bootstrap=" + kit.bootstrapServers());
        System.out.flush();
        while (System.in.read() >= 0) {
            // runs until stdin closes
        }
        System.exit(0);
    }
}
