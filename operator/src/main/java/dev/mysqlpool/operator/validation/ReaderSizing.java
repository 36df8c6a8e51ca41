package dev.mysqlpool.operator.validation;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * The readers of a read/write split, sized from the same declared load: each reader is expected to
 * carry {@code readShare} of the pool's total (Little's Law, safety factor included), split over
 * the readers by weight. The writer stays sized for the whole load: when every reader lags or is
 * down, every read goes to it.
 *
 * <p>The proxy has one {@code pool.maxConnections} for every backend, so each proxy's pool to a
 * reader can grow as large as its pool to the writer. Each reader is therefore checked like the
 * writer: every pod a rolling update can run at once x (perReplica + its KILL connection) must fit
 * the reader's {@code max_connections} minus {@code reservedConnections}. When it does not,
 * perReplica is clamped to the smallest reader (reason {@code ExceedsReader}; the writer's pool
 * shrinks with it, since a server's max_connections is never exceeded), and when not even one
 * connection per pod fits, the pool is not rendered ({@code ReaderTooSmall}). Pure.
 *
 * @param readShare the share of the load the readers take
 * @param readers each reader's figures, in spec order
 * @param sizing the pool's sizing with the readers' check applied
 */
public record ReaderSizing(double readShare, List<Reader> readers, Sizing sizing) {

  /**
   * What one reader is sized against.
   *
   * @param name the backend's name in the proxy config
   * @param endpoint {@code host:port}
   * @param weight its share of the reads relative to the other readers
   * @param maxConnections the replica's max_connections
   * @param field the spec field {@code maxConnections} came from, for messages
   */
  public record Input(String name, String endpoint, int weight, int maxConnections, String field) {}

  /**
   * One reader's figures.
   *
   * @param name the backend's name in the proxy config
   * @param endpoint {@code host:port}
   * @param weight its share of the reads relative to the other readers
   * @param needed ceil(total x readShare x weight / sum of weights): connections its share of the
   *     reads needs across all replicas at the peak
   * @param budget its max_connections minus reserved
   * @param maxDuringRollout pods x (perReplica + KILL connection): the most the proxies can hold on
   *     it during a rolling update
   */
  public record Reader(
      String name, String endpoint, int weight, long needed, int budget, long maxDuringRollout) {}

  /**
   * Sizes the readers against {@code writer}'s pool.
   *
   * @param writer the pool's sizing against the writer
   * @param replicas proxy pods
   * @param readShare 0 to 1
   * @param inputs the readers, at least one
   * @param reserved connections every server keeps free (spec.backend.reservedConnections)
   */
  public static ReaderSizing compute(
      Sizing writer, int replicas, double readShare, List<Input> inputs, int reserved) {
    long weights = 0;
    for (Input in : inputs) {
      weights += in.weight();
    }
    int pods = writer.pods();
    int per = writer.perReplica();
    int fit = Integer.MAX_VALUE;
    Input smallest = null;
    List<long[]> figures = new ArrayList<>();
    for (Input in : inputs) {
      long needed =
          BigDecimal.valueOf(writer.total())
              .multiply(BigDecimal.valueOf(readShare))
              .multiply(BigDecimal.valueOf(in.weight()))
              .divide(BigDecimal.valueOf(weights), 0, RoundingMode.CEILING)
              .longValueExact();
      int budget = in.maxConnections() - reserved;
      figures.add(new long[] {needed, budget});
      int own = budget / pods - Sizing.KILL_CONNECTIONS_PER_POD;
      if (own < fit) {
        fit = own;
        smallest = in;
      }
    }
    if (!writer.usable()) {
      return new ReaderSizing(readShare, readers(inputs, figures, pods, 0), writer);
    }
    String shares = shares(readShare, writer.total(), inputs, figures);
    if (per <= fit) {
      return new ReaderSizing(
          readShare,
          readers(inputs, figures, pods, per),
          withMessage(
              writer,
              writer.message()
                  + "; "
                  + shares
                  + "; each proxy's reader pools are as large as its writer pool (pool.maxConnections"
                  + " is per backend), and "
                  + pods
                  + " x "
                  + Sizing.perPod(per)
                  + " = "
                  + Sizing.onServer(pods, per)
                  + " fits every reader's budget ("
                  + budgets(inputs, figures)
                  + ")"));
    }
    int smallestBudget = smallest.maxConnections() - reserved;
    String over =
        "each proxy's reader pools are as large as its writer pool (pool.maxConnections is per"
            + " backend): "
            + pods
            + " pods x "
            + Sizing.perPod(per)
            + " = "
            + Sizing.onServer(pods, per)
            + " exceed reader "
            + smallest.name()
            + "'s budget of "
            + smallestBudget
            + " ("
            + smallest.field()
            + " "
            + smallest.maxConnections()
            + " - reserved "
            + reserved
            + ")";
    if (fit < 1) {
      Sizing blocked =
          new Sizing(
              writer.required(),
              writer.total(),
              0,
              pods,
              0,
              writer.budget(),
              "Clamped",
              null,
              null,
              false,
              false,
              "ReaderTooSmall",
              over
                  + ", which cannot give each of the "
                  + pods
                  + " pods one connection beside its KILL connection ("
                  + Sizing.onServer(pods, 1)
                  + "). Fix: raise the replica's max_connections to at least "
                  + (Sizing.onServer(pods, 1) + reserved)
                  + " (and "
                  + smallest.field()
                  + " with it), fewer replicas (spec.replicas), or fewer"
                  + " spec.backend.reservedConnections. "
                  + writer.message());
      return new ReaderSizing(readShare, readers(inputs, figures, pods, 0), blocked);
    }
    StringBuilder notes = new StringBuilder();
    long steady = (long) replicas * fit;
    for (int i = 0; i < inputs.size(); i++) {
      if (steady < figures.get(i)[0]) {
        notes
            .append("; reader ")
            .append(inputs.get(i).name())
            .append(" gets ")
            .append(replicas)
            .append(" x ")
            .append(fit)
            .append(" = ")
            .append(steady)
            .append(", below the ")
            .append(figures.get(i)[0])
            .append(" its share of the reads needs at the peak");
      }
    }
    if (steady < writer.required()) {
      notes
          .append("; the writer gets ")
          .append(steady)
          .append(", below the ")
          .append(writer.required())
          .append(" the whole load needs when every reader is down");
    }
    Sizing.Idle idle = Sizing.Idle.clamp(writer.minIdle(), writer.maxIdle(), fit);
    Sizing clamped =
        new Sizing(
            writer.required(),
            writer.total(),
            fit,
            pods,
            Sizing.onServer(pods, fit),
            writer.budget(),
            "Clamped",
            idle.minIdle(),
            idle.maxIdle(),
            false,
            true,
            "ExceedsReader",
            over
                + "; clamped to "
                + fit
                + " per replica for every backend ("
                + pods
                + " x "
                + Sizing.perPod(fit)
                + " = "
                + Sizing.onServer(pods, fit)
                + " during a rollout)"
                + notes
                + ". Fix: raise the replica's max_connections to at least "
                + (Sizing.onServer(pods, per) + reserved)
                + " (and "
                + smallest.field()
                + " with it), fewer replicas (spec.replicas), or a lower"
                + " spec.workload.safetyFactor. "
                + shares
                + "; "
                + writer.message()
                + idle.note());
    return new ReaderSizing(readShare, readers(inputs, figures, pods, fit), clamped);
  }

  private static List<Reader> readers(List<Input> inputs, List<long[]> figures, int pods, int per) {
    List<Reader> out = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      Input in = inputs.get(i);
      out.add(
          new Reader(
              in.name(),
              in.endpoint(),
              in.weight(),
              figures.get(i)[0],
              (int) figures.get(i)[1],
              per == 0 ? 0 : Sizing.onServer(pods, per)));
    }
    return List.copyOf(out);
  }

  /** e.g. "readers by weight, read share 0.8 of total 100: replica-a 54 (weight 2), ..." */
  private static String shares(
      double readShare, long total, List<Input> inputs, List<long[]> figures) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      parts.add(
          inputs.get(i).name()
              + " "
              + figures.get(i)[0]
              + " (weight "
              + inputs.get(i).weight()
              + ")");
    }
    return "readers by weight, read share "
        + Sizing.plain(readShare)
        + " of total "
        + total
        + ": "
        + String.join(", ", parts);
  }

  private static String budgets(List<Input> inputs, List<long[]> figures) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      parts.add(inputs.get(i).name() + " " + figures.get(i)[1]);
    }
    return String.join(", ", parts);
  }

  private static Sizing withMessage(Sizing s, String message) {
    return new Sizing(
        s.required(),
        s.total(),
        s.perReplica(),
        s.pods(),
        s.maxDuringRollout(),
        s.budget(),
        s.source(),
        s.minIdle(),
        s.maxIdle(),
        s.valid(),
        s.usable(),
        s.reason(),
        message);
  }
}
