package dev.mysqlpool.proxy.config;

import dev.mysqlpool.proxy.config.ConfigLoader.Obj;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendRole;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import dev.mysqlpool.proxy.config.ProxyConfig.PoolMode;
import dev.mysqlpool.proxy.config.Routing.ReadYourWrites;
import dev.mysqlpool.proxy.config.Routing.RouteTarget;
import dev.mysqlpool.proxy.config.Routing.Rule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@code routing} section (read/write split, issue 15) and what it asks of the backends and the
 * pool: one writer, at least one reader, transaction mode; and no reader without a split, where it
 * would sit unused while the user believes reads are spread. Part of {@link ConfigLoader}, which
 * collects the problems.
 */
final class RoutingSettings {
  private static final Duration MAX_LAG = Duration.ofHours(1);

  private final ConfigLoader loader;

  RoutingSettings(ConfigLoader loader) {
    this.loader = loader;
  }

  Routing routing(Obj top, List<Backend> backends, Pool pool) {
    Obj r =
        top.child(
            "routing",
            Set.of(
                "readWriteSplit",
                "maxReplicationLag",
                "readYourWrites",
                "readYourWritesWait",
                "rules"));
    boolean split = r.bool("readWriteSplit", false);
    Duration lag = lag(r);
    ReadYourWrites ryw = readYourWrites(r);
    Duration wait = readYourWritesWait(r);
    List<Rule> rules = rules(r);
    if (split) {
      splitNeeds(r, backends, pool);
    } else {
      for (int i = 0; i < backends.size(); i++) {
        if (backends.get(i).role() == BackendRole.READER) {
          loader.problem(
              "backends["
                  + i
                  + "].role: reader is unused without routing.readWriteSplit: true (every"
                  + " statement goes to the writer); set routing.readWriteSplit: true, or use role:"
                  + " any for a backend that users name directly");
        }
      }
      if (!rules.isEmpty()) {
        loader.problem(
            r.path("rules")
                + ": has no effect without routing.readWriteSplit: true (every statement goes to"
                + " the writer); set routing.readWriteSplit: true or remove the rules");
      }
    }
    return new Routing(split, lag, ryw, wait, rules);
  }

  /**
   * The backend a user's sessions start on when {@code users[].backend} is not set: with a split,
   * the writer (reads are split from there); else the first backend.
   */
  static String defaultBackend(List<Backend> backends, Routing routing) {
    if (routing.readWriteSplit()) {
      for (Backend b : backends) {
        if (b.role() == BackendRole.WRITER) {
          return b.name();
        }
      }
    }
    return backends.isEmpty() ? null : backends.get(0).name();
  }

  private void splitNeeds(Obj r, List<Backend> backends, Pool pool) {
    String field = r.path("readWriteSplit");
    if (pool.mode() != PoolMode.TRANSACTION) {
      loader.problem(
          field
              + ": needs pool.mode: transaction (moving a client between the writer and the readers"
              + " statement by statement is what transaction mode does); set pool.mode:"
              + " transaction, or turn readWriteSplit off");
    }
    List<String> writers = new ArrayList<>();
    int readers = 0;
    for (Backend b : backends) {
      if (b.role() == BackendRole.WRITER) {
        writers.add(b.name());
      } else if (b.role() == BackendRole.READER) {
        readers++;
      }
    }
    if (writers.isEmpty()) {
      loader.problem(
          field
              + ": needs one backend with role: writer, where everything but reads goes; none has"
              + " it, set role: writer on the primary");
    } else if (writers.size() > 1) {
      loader.problem(
          field
              + ": needs exactly one backend with role: writer; "
              + writers.size()
              + " have it ("
              + String.join(", ", writers)
              + "), keep it on the primary and make the others role: reader");
    }
    if (readers == 0) {
      loader.problem(
          field
              + ": needs at least one backend with role: reader to send reads to; add the replicas"
              + " with role: reader, or turn readWriteSplit off");
    }
  }

  private Duration lag(Obj r) {
    Duration lag =
        r.duration("maxReplicationLag", Routing.DEFAULT_MAX_REPLICATION_LAG, /* zero= */ false);
    if (lag.toMillis() % 1000 != 0 || lag.compareTo(MAX_LAG) > 0) {
      // Seconds_Behind_Master is whole seconds: a finer bound could not be told apart from the next
      // whole second, so it is refused rather than rounded.
      loader.problem(
          r.path("maxReplicationLag")
              + ": "
              + Durations.format(lag)
              + " cannot be checked; use whole seconds from 1s to 1h (replicas report their lag in"
              + " whole seconds)");
      return Routing.DEFAULT_MAX_REPLICATION_LAG;
    }
    return lag;
  }

  /**
   * {@code readYourWritesWait}: 0 (never wait: the writer serves) up to a minute; a read held
   * longer than that is better served by the writer at once.
   */
  private Duration readYourWritesWait(Obj r) {
    Duration wait =
        r.duration("readYourWritesWait", Routing.DEFAULT_READ_YOUR_WRITES_WAIT, /* zero= */ true);
    if (wait.compareTo(Duration.ofMinutes(1)) > 0) {
      loader.problem(
          r.path("readYourWritesWait")
              + ": "
              + Durations.format(wait)
              + " would hold a read that long before the writer serves it; use 0 (never wait) up"
              + " to 1m, the default 1s suits most replicas");
      return Routing.DEFAULT_READ_YOUR_WRITES_WAIT;
    }
    return wait;
  }

  private ReadYourWrites readYourWrites(Obj r) {
    String text = r.string("readYourWrites", Routing.DEFAULT_READ_YOUR_WRITES.configName());
    ReadYourWrites ryw = ReadYourWrites.named(text);
    if (ryw == null) {
      loader.problem(
          r.path("readYourWrites")
              + ": '"
              + text
              + "' is not a read-your-writes mode; use session (a client's reads see its own"
              + " writes) or none");
      return Routing.DEFAULT_READ_YOUR_WRITES;
    }
    return ryw;
  }

  private List<Rule> rules(Obj r) {
    List<Obj> items = r.list("rules", Set.of("match", "to"));
    if (items.size() > Routing.MAX_RULES) {
      // Every statement runs through the rules until one matches: the bound keeps that cost small.
      loader.problem(
          r.path("rules")
              + ": "
              + items.size()
              + " rules; at most "
              + Routing.MAX_RULES
              + " are allowed, join patterns with | where they go to the same place");
    }
    List<Rule> rules = new ArrayList<>();
    for (Obj item : items) {
      Pattern match = pattern(item);
      RouteTarget to = target(item);
      if (match != null && to != null) {
        rules.add(new Rule(match, to));
      }
    }
    return rules;
  }

  private Pattern pattern(Obj item) {
    String regex = item.requiredString("match");
    if (regex == null) {
      return null;
    }
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      loader.problem(
          item.path("match")
              + ": '"
              + regex
              + "' is not a valid regular expression ("
              + e.getDescription()
              + (e.getIndex() >= 0 ? " near index " + e.getIndex() : "")
              + "); fix the pattern, escaping a literal ( [ * + ? or \\ with \\");
      return null;
    }
  }

  private RouteTarget target(Obj item) {
    String text = item.requiredString("to");
    if (text == null) {
      return null;
    }
    RouteTarget to = RouteTarget.named(text);
    if (to == null) {
      loader.problem(
          item.path("to") + ": '" + text + "' is not a route target; use writer or reader");
    }
    return to;
  }
}
