package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.config.Routing.RouteTarget;
import dev.mysqlpool.proxy.config.Routing.Rule;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.regex.Matcher;

/**
 * The {@code routing.rules} of the config, applied to one COM_QUERY's text before the statement
 * classifier: the first rule whose pattern is found in the text, comments included (so a {@code /*
 * mysqlpool:writer *}{@code /} hint can match), decides where the statement goes.
 *
 * <p>The text is searched through a {@link ByteChars} view of the packet's bytes, one char per
 * byte: no String per statement, and ASCII patterns match UTF-8 text as written. Each rule keeps
 * its {@link Matcher}, reset onto the next statement. With no rules configured {@link #EMPTY} is
 * used and nothing runs. One instance per session (matchers are not thread-safe), used on that
 * session's event loop; the caller keeps the buffer.
 */
final class RoutingRules {
  /** No rules: {@link #match} returns null at once; shared, as it holds no state. */
  static final RoutingRules EMPTY = new RoutingRules(List.of());

  private final Matcher[] matchers;
  private final RouteTarget[] targets;
  private final ByteChars text = new ByteChars();

  private RoutingRules(List<Rule> rules) {
    matchers = new Matcher[rules.size()];
    targets = new RouteTarget[rules.size()];
    for (int i = 0; i < matchers.length; i++) {
      matchers[i] = rules.get(i).match().matcher("");
      targets[i] = rules.get(i).to();
    }
  }

  /** A session's own rules; {@link #EMPTY} when there are none. */
  static RoutingRules of(List<Rule> rules) {
    return rules.isEmpty() ? EMPTY : new RoutingRules(rules);
  }

  /**
   * Where the first rule that matches the SQL text in {@code buf} between {@code start} and {@code
   * end} sends it, or null when none does (the classifier decides). Reads only those bytes.
   */
  RouteTarget match(ByteBuf buf, int start, int end) {
    if (matchers.length == 0) {
      return null;
    }
    text.reset(buf, start, end);
    try {
      for (int i = 0; i < matchers.length; i++) {
        Matcher m = matchers[i].reset(text);
        if (m.find()) {
          return targets[i];
        }
      }
      return null;
    } finally {
      // The matchers keep the view, and the view must not keep the packet once it is released.
      text.clear();
    }
  }
}
