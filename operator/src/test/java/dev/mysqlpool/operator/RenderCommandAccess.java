package dev.mysqlpool.operator;

import dev.mysqlpool.operator.api.MySQLPool;
import java.io.IOException;
import java.util.List;

/** Lets tests in other packages read pool files the way {@code render} does. */
public final class RenderCommandAccess {
  private RenderCommandAccess() {}

  public static List<MySQLPool> read(String yaml) throws IOException {
    return RenderCommand.read(yaml);
  }

  public static int run(
      List<String> files,
      dev.mysqlpool.operator.render.RenderSettings settings,
      java.io.PrintStream out,
      java.io.PrintStream err) {
    return RenderCommand.run(
        files, settings, new java.io.ByteArrayInputStream(new byte[0]), out, err);
  }
}
