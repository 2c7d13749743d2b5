package dev.matviews.metrics;

import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistrationFilter;
import dev.matviews.registry.RegistryService;
import io.smallrye.health.api.HealthGroup;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import io.smallrye.health.api.AsyncHealthCheck;

import java.util.List;

/**
 * /q/health/group/staleness: DOWN while a view is older than its maxStalenessSeconds. A group of
 * its own, so stale data alerts without making pods unready (restarting would not help).
 */
@HealthGroup("staleness")
@ApplicationScoped
public class StalenessHealthCheck implements AsyncHealthCheck {

    private final RegistryService registry;

    public StalenessHealthCheck(RegistryService registry) {
        this.registry = registry;
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        return registry.matching(new RegistrationFilter(null, null, null, true)).map(found -> {
            List<String> stale = found.stream().map(Registration::qualifiedName).toList();
            return HealthCheckResponse.named("matview staleness").status(stale.isEmpty())
                    .withData("stale", String.join(",", stale)).withData("count", stale.size()).build();
        });
    }
}
