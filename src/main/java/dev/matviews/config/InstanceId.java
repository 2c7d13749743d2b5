package dev.matviews.config;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.net.InetAddress;
import java.util.UUID;

/** The name this instance writes into run history: configured, else the host (pod) name. */
@ApplicationScoped
public class InstanceId {

    private final String value;

    @Inject
    public InstanceId(MatviewsConfig config) {
        this(config.instanceId().filter(s -> !s.isBlank()).orElseGet(InstanceId::hostName));
    }

    /** A fixed name, for a second instance started by hand (tests, tools). */
    public InstanceId(String value) {
        this.value = value;
    }

    public String value() {
        return value;
    }

    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "instance-" + UUID.randomUUID().toString().substring(0, 8);
        }
    }
}
