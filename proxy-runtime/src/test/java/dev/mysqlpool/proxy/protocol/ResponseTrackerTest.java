package dev.mysqlpool.proxy.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Feeds hand-built server replies to {@link ResponseTracker} packet by packet and checks that
 * exactly the last packet of each reply completes it. Packets are written here byte by byte from
 * the protocol pages, not with the main code's writers, so a shared misunderstanding cannot hide.
 */
class ResponseTrackerTest {
  private static final int CLASSIC = Capabilities.CLIENT_PROTOCOL_41;
  private static final int DEPRECATE_EOF =
      Capabilities.CLIENT_PROTOCOL_41 | Capabilities.CLIENT_DEPRECATE_EOF;
  private static final int AUTOCOMMIT = ServerStatus.AUTOCOMMIT;
  private static final int MORE = ServerStatus.MORE_RESULTS_EXISTS;

  // -------------------------------------------------------------------------------------------
  // packet builders

  /** A packet: 3-byte little-endian length, sequence id, payload. */
  private static ByteBuf packet(byte[] payload) {
    ByteBuf buf = Unpooled.buffer(Packets.HEADER_SIZE + payload.length);
    buf.writeMediumLE(payload.length);
    buf.writeByte(1);
    buf.writeBytes(payload);
    return buf;
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  /** OK_Packet: 0x00, affected rows, last insert id, status, warnings. */
  private static byte[] ok(int status) {
    return bytes(0x00, 0, 0, status & 0xff, status >>> 8, 0, 0);
  }

  /** OK_Packet with an affected-row count that needs a 3-byte length-encoded integer. */
  private static byte[] okWithLargeAffectedRows(int status) {
    return bytes(0x00, 0xfc, 0x10, 0x27, 0, status & 0xff, status >>> 8, 0, 0);
  }

  /** The OK packet with a 0xFE header that ends a result set under CLIENT_DEPRECATE_EOF. */
  private static byte[] okEof(int status) {
    return bytes(0xfe, 0, 0, status & 0xff, status >>> 8, 0, 0);
  }

  /** A classic EOF_Packet: 0xFE, warnings, status. */
  private static byte[] eof(int status) {
    return bytes(0xfe, 0, 0, status & 0xff, status >>> 8);
  }

  private static byte[] err(int code) {
    byte[] msg = "boom".getBytes(StandardCharsets.US_ASCII);
    byte[] p = new byte[9 + msg.length];
    p[0] = (byte) 0xff;
    p[1] = (byte) code;
    p[2] = (byte) (code >>> 8);
    p[3] = '#';
    System.arraycopy("HY000".getBytes(StandardCharsets.US_ASCII), 0, p, 4, 5);
    System.arraycopy(msg, 0, p, 9, msg.length);
    return p;
  }

  private static byte[] columnCount(int n) {
    return bytes(n);
  }

  /** A column definition; only its not being a terminator matters to the tracker. */
  private static byte[] column(String name) {
    ByteBuf b = Unpooled.buffer();
    for (String s : new String[] {"def", "app", "t", "t", name, name}) {
      b.writeByte(s.length());
      b.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }
    b.writeByte(0x0c)
        .writeShortLE(33)
        .writeIntLE(11)
        .writeByte(3)
        .writeShortLE(0)
        .writeByte(0)
        .writeShortLE(0);
    byte[] out = new byte[b.readableBytes()];
    b.readBytes(out);
    b.release();
    return out;
  }

  /** A text row of length-encoded strings. */
  private static byte[] row(String... values) {
    ByteBuf b = Unpooled.buffer();
    for (String v : values) {
      b.writeByte(v.length());
      b.writeBytes(v.getBytes(StandardCharsets.US_ASCII));
    }
    byte[] out = new byte[b.readableBytes()];
    b.readBytes(out);
    b.release();
    return out;
  }

  /** COM_STMT_PREPARE_OK: 0x00, statement id, columns, params, filler, warnings. */
  private static byte[] prepareOk(int columns, int params) {
    return bytes(0x00, 7, 0, 0, 0, columns, 0, params, 0, 0, 0, 0);
  }

  /**
   * Feeds the packets in order and returns, for each, whether it completed a reply; every buffer is
   * released, and none may have been retained by the tracker.
   */
  private static List<Boolean> feed(ResponseTracker tracker, byte[]... payloads) {
    List<Boolean> out = new ArrayList<>();
    for (byte[] p : payloads) {
      ByteBuf buf = packet(p);
      try {
        out.add(tracker.onPacket(buf));
        assertThat(buf.refCnt())
            .as("the tracker must neither retain nor release packets")
            .isEqualTo(1);
        assertThat(buf.readerIndex()).as("the tracker must not move the reader index").isZero();
      } finally {
        buf.release();
      }
    }
    return out;
  }

  /** n-1 falses then one true: only the last packet completes the reply. */
  private static List<Boolean> onlyLast(int n) {
    List<Boolean> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(i == n - 1);
    }
    return out;
  }

  private static ResponseTracker tracker(int caps, int... commands) {
    ResponseTracker t = new ResponseTracker(caps);
    for (int c : commands) {
      t.expect(c);
    }
    return t;
  }

  // -------------------------------------------------------------------------------------------------- simple

  @Test
  void okCompletesAQuery() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    assertThat(t.currentCommand()).isEqualTo(Commands.COM_QUERY);
    assertThat(feed(t, ok(AUTOCOMMIT))).containsExactly(true);
    assertThat(t.pending()).isZero();
    assertThat(t.currentCommand()).isEqualTo(-1);
    assertThat(t.lastWasError()).isFalse();
    assertThat(t.lastStatus()).isEqualTo(AUTOCOMMIT);
  }

  @Test
  void okWithLengthEncodedAffectedRowsStillYieldsItsStatus() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    assertThat(feed(t, okWithLargeAffectedRows(ServerStatus.IN_TRANS))).containsExactly(true);
    assertThat(t.lastStatus())
        .withFailMessage(
            "status must be read after the 3-byte affected-rows field, got 0x%x", t.lastStatus())
        .isEqualTo(ServerStatus.IN_TRANS);
  }

  @Test
  void errCompletesAQueryAndIsReportedAsError() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    assertThat(feed(t, err(1064))).containsExactly(true);
    assertThat(t.lastWasError()).isTrue();
    assertThat(t.pending()).isZero();
  }

  @Test
  void singlePacketCommandsCompleteOnTheirOnlyPacket() {
    for (int command :
        new int[] {
          Commands.COM_PING,
          Commands.COM_INIT_DB,
          Commands.COM_RESET_CONNECTION,
          Commands.COM_STMT_RESET
        }) {
      ResponseTracker t = tracker(CLASSIC, command);
      assertThat(feed(t, ok(AUTOCOMMIT))).as(Commands.name(command)).containsExactly(true);
    }
  }

  @Test
  void comSetOptionIsAnsweredWithAClassicEof() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_SET_OPTION);
    assertThat(feed(t, eof(AUTOCOMMIT))).containsExactly(true);
    assertThat(t.lastStatus()).isEqualTo(AUTOCOMMIT);
  }

  // ----------------------------------------------------------------------------------------------
  // result sets

  @Test
  void textResultSetWithClassicEofEndsAtTheSecondEof() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    List<Boolean> done = new ArrayList<>();
    done.addAll(feed(t, columnCount(2), column("a"), column("b"), eof(AUTOCOMMIT)));
    assertThat(t.readingRows()).as("after the column EOF, rows follow").isTrue();
    done.addAll(feed(t, row("1", "x"), row("2", "y"), eof(AUTOCOMMIT | ServerStatus.IN_TRANS)));
    assertThat(done).isEqualTo(onlyLast(7));
    assertThat(t.readingRows()).isFalse();
    assertThat(t.lastStatus()).isEqualTo(AUTOCOMMIT | ServerStatus.IN_TRANS);
    assertThat(t.lastWasError()).isFalse();
  }

  @Test
  void textResultSetWithDeprecateEofHasNoColumnEofAndEndsWithFeOk() {
    ResponseTracker t = tracker(DEPRECATE_EOF, Commands.COM_QUERY);
    List<Boolean> done = new ArrayList<>(feed(t, columnCount(2), column("a"), column("b")));
    assertThat(t.readingRows()).as("rows follow the last column definition directly").isTrue();
    done.addAll(feed(t, row("1", "x"), row("2", "y"), okEof(AUTOCOMMIT)));
    assertThat(done).isEqualTo(onlyLast(6));
  }

  @Test
  void emptyResultSetEndsAtItsTerminator() {
    ResponseTracker classic = tracker(CLASSIC, Commands.COM_QUERY);
    assertThat(feed(classic, columnCount(1), column("a"), eof(AUTOCOMMIT), eof(AUTOCOMMIT)))
        .isEqualTo(onlyLast(4));
    ResponseTracker deprecate = tracker(DEPRECATE_EOF, Commands.COM_QUERY);
    assertThat(feed(deprecate, columnCount(1), column("a"), okEof(AUTOCOMMIT)))
        .isEqualTo(onlyLast(3));
  }

  @Test
  void multipleResultSetsEndOnlyAtTheTerminatorWithoutMoreResults() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    List<Boolean> done =
        feed(
            t,
            columnCount(1),
            column("a"),
            eof(AUTOCOMMIT),
            row("1"),
            eof(AUTOCOMMIT | MORE),
            columnCount(2),
            column("b"),
            column("c"),
            eof(AUTOCOMMIT),
            row("two", "x"),
            eof(AUTOCOMMIT | MORE),
            ok(AUTOCOMMIT));
    assertThat(done)
        .withFailMessage("a CALL's reply ends with the final OK, got %s", done)
        .isEqualTo(onlyLast(12));
  }

  @Test
  void multipleResultSetsWithDeprecateEof() {
    ResponseTracker t = tracker(DEPRECATE_EOF, Commands.COM_QUERY);
    List<Boolean> done =
        feed(
            t,
            columnCount(1),
            column("a"),
            row("1"),
            okEof(AUTOCOMMIT | MORE),
            columnCount(1),
            column("b"),
            row("2"),
            okEof(AUTOCOMMIT));
    assertThat(done).isEqualTo(onlyLast(8));
  }

  @Test
  void okWithMoreResultsThenAResultSet() {
    // "SET @a = 1; SELECT @a" under CLIENT_MULTI_STATEMENTS.
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    List<Boolean> done =
        feed(
            t,
            ok(AUTOCOMMIT | MORE),
            columnCount(1),
            column("@a"),
            eof(AUTOCOMMIT),
            row("1"),
            eof(AUTOCOMMIT));
    assertThat(done).isEqualTo(onlyLast(6));
    assertThat(t.lastStatus() & MORE).isZero();
  }

  @Test
  void okWithMoreResultsThenAnOk() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    assertThat(feed(t, ok(AUTOCOMMIT | MORE), ok(AUTOCOMMIT | MORE), ok(AUTOCOMMIT)))
        .isEqualTo(onlyLast(3));
  }

  @Test
  void errAfterRowsEndsTheReply() {
    // A KILLed SELECT: column definitions and some rows, then ERR 1317 instead of the terminator.
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    List<Boolean> done =
        feed(t, columnCount(1), column("a"), eof(AUTOCOMMIT), row("1"), row("2"), err(1317));
    assertThat(done).isEqualTo(onlyLast(6));
    assertThat(t.lastWasError()).isTrue();
    assertThat(t.pending()).isZero();
  }

  @Test
  void errAfterColumnDefinitionsWithDeprecateEofEndsTheReply() {
    ResponseTracker t = tracker(DEPRECATE_EOF, Commands.COM_QUERY);
    assertThat(feed(t, columnCount(2), column("a"), column("b"), err(1317))).isEqualTo(onlyLast(4));
    assertThat(t.lastWasError()).isTrue();
  }

  @Test
  void errInTheSecondResultSetEndsTheReply() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    List<Boolean> done =
        feed(
            t,
            columnCount(1),
            column("a"),
            eof(AUTOCOMMIT),
            row("1"),
            eof(AUTOCOMMIT | MORE),
            err(1146));
    assertThat(done).isEqualTo(onlyLast(6));
    assertThat(t.lastWasError()).isTrue();
  }

  @Test
  void sixteenMibRowStartingWithFeIsARowNotATerminator() {
    for (int caps : new int[] {CLASSIC, DEPRECATE_EOF}) {
      ResponseTracker t = tracker(caps, Commands.COM_QUERY);
      List<Boolean> done = new ArrayList<>(feed(t, columnCount(1), column("blob")));
      if (caps == CLASSIC) {
        done.addAll(feed(t, eof(AUTOCOMMIT)));
      }
      // One column of 2^24 bytes: the length-encoded prefix is 0xFE plus 8 bytes, so the 16 MiB + 9
      // byte payload is
      // a 0xFFFFFF-byte packet starting with 0xFE and a 10-byte continuation, which itself starts
      // with 0xFE here.
      byte[] first = new byte[Packets.MAX_PAYLOAD];
      first[0] = (byte) 0xfe;
      first[4] = 1; // 0x01000000 little-endian in the 8-byte length
      byte[] continuation = bytes(0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0);
      done.addAll(feed(t, first));
      assertThat(t.readingRows())
          .as("inside a split row, the next packet is its continuation")
          .isFalse();
      done.addAll(feed(t, continuation));
      assertThat(t.pending())
          .as("neither half of the 16 MiB row may end the result (caps 0x%x)", caps)
          .isEqualTo(1);
      assertThat(t.readingRows()).isTrue();
      done.addAll(feed(t, caps == CLASSIC ? eof(AUTOCOMMIT) : okEof(AUTOCOMMIT)));
      assertThat(done).as("caps 0x%x", caps).isEqualTo(onlyLast(done.size()));
    }
  }

  @Test
  void rowOfExactlySixteenMibEndsWithAnEmptyContinuation() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    List<Boolean> done = new ArrayList<>(feed(t, columnCount(1), column("blob"), eof(AUTOCOMMIT)));
    byte[] first = new byte[Packets.MAX_PAYLOAD];
    first[0] = (byte) 0xfd;
    done.addAll(feed(t, first, new byte[0], row("x"), eof(AUTOCOMMIT)));
    assertThat(done).isEqualTo(onlyLast(7));
  }

  // ------------------------------------------------------------------------------------------
  // prepared statements

  @Test
  void prepareWithParamsAndColumnsClassic() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_STMT_PREPARE);
    List<Boolean> done =
        feed(
            t,
            prepareOk(3, 2),
            column("?"),
            column("?"),
            eof(AUTOCOMMIT),
            column("a"),
            column("b"),
            column("c"),
            eof(AUTOCOMMIT));
    assertThat(done).isEqualTo(onlyLast(8));
  }

  @Test
  void prepareWithParamsAndColumnsDeprecateEof() {
    ResponseTracker t = tracker(DEPRECATE_EOF, Commands.COM_STMT_PREPARE);
    List<Boolean> done =
        feed(t, prepareOk(3, 2), column("?"), column("?"), column("a"), column("b"), column("c"));
    assertThat(done).isEqualTo(onlyLast(6));
  }

  @Test
  void prepareWithOnlyParams() {
    ResponseTracker classic = tracker(CLASSIC, Commands.COM_STMT_PREPARE);
    assertThat(feed(classic, prepareOk(0, 2), column("?"), column("?"), eof(AUTOCOMMIT)))
        .isEqualTo(onlyLast(4));
    ResponseTracker deprecate = tracker(DEPRECATE_EOF, Commands.COM_STMT_PREPARE);
    assertThat(feed(deprecate, prepareOk(0, 2), column("?"), column("?"))).isEqualTo(onlyLast(3));
  }

  @Test
  void prepareWithOnlyColumns() {
    ResponseTracker classic = tracker(CLASSIC, Commands.COM_STMT_PREPARE);
    assertThat(feed(classic, prepareOk(2, 0), column("a"), column("b"), eof(AUTOCOMMIT)))
        .isEqualTo(onlyLast(4));
    ResponseTracker deprecate = tracker(DEPRECATE_EOF, Commands.COM_STMT_PREPARE);
    assertThat(feed(deprecate, prepareOk(2, 0), column("a"), column("b"))).isEqualTo(onlyLast(3));
  }

  @Test
  void prepareWithNeitherParamsNorColumnsIsOnePacket() {
    for (int caps : new int[] {CLASSIC, DEPRECATE_EOF}) {
      ResponseTracker t = tracker(caps, Commands.COM_STMT_PREPARE);
      assertThat(feed(t, prepareOk(0, 0))).as("caps 0x%x", caps).containsExactly(true);
    }
  }

  @Test
  void prepareErrorIsOnePacket() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_STMT_PREPARE);
    assertThat(feed(t, err(1064))).containsExactly(true);
    assertThat(t.lastWasError()).isTrue();
  }

  @Test
  void prepareFollowedByPipelinedExecuteStartsTheExecuteFresh() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_STMT_PREPARE, Commands.COM_STMT_EXECUTE);
    List<Boolean> done =
        feed(
            t,
            prepareOk(1, 1),
            column("?"),
            eof(AUTOCOMMIT),
            column("a"),
            eof(AUTOCOMMIT),
            columnCount(1),
            column("a"),
            eof(AUTOCOMMIT),
            bytes(0x00, 0x00, 1, '1'),
            eof(AUTOCOMMIT));
    assertThat(done)
        .containsExactly(false, false, false, false, true, false, false, false, false, true);
  }

  @Test
  void executeWithCursorEndsAtTheColumnEofAndFetchEndsAtItsTerminator() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_STMT_EXECUTE);
    int cursor = AUTOCOMMIT | ServerStatus.CURSOR_EXISTS;
    assertThat(feed(t, columnCount(2), column("a"), column("b"), eof(cursor)))
        .withFailMessage(
            "with CURSOR_EXISTS no rows follow the metadata; rows come by COM_STMT_FETCH")
        .isEqualTo(onlyLast(4));
    assertThat(t.lastStatus() & ServerStatus.CURSOR_EXISTS).isNotZero();

    byte[] binaryRow = bytes(0x00, 0x00, 1, 'x', 1, 'y');
    t.expect(Commands.COM_STMT_FETCH);
    assertThat(feed(t, binaryRow, binaryRow, eof(cursor))).isEqualTo(onlyLast(3));
    t.expect(Commands.COM_STMT_FETCH);
    assertThat(feed(t, binaryRow, eof(cursor | ServerStatus.LAST_ROW_SENT))).isEqualTo(onlyLast(2));
    assertThat(t.lastStatus() & ServerStatus.LAST_ROW_SENT).isNotZero();
    assertThat(t.pending()).isZero();
  }

  @Test
  void executeWithCursorUnderDeprecateEofEndsAtTheFeOk() {
    // The server ends the cursor's metadata with send_eof, which is a 0xFE OK packet under
    // CLIENT_DEPRECATE_EOF.
    ResponseTracker t = tracker(DEPRECATE_EOF, Commands.COM_STMT_EXECUTE, Commands.COM_STMT_FETCH);
    int cursor = AUTOCOMMIT | ServerStatus.CURSOR_EXISTS;
    List<Boolean> done =
        feed(
            t,
            columnCount(1),
            column("a"),
            okEof(cursor),
            bytes(0x00, 0x00, 1, 'x'),
            okEof(cursor | ServerStatus.LAST_ROW_SENT));
    assertThat(done).containsExactly(false, false, true, false, true);
  }

  @Test
  void fetchErrorEndsTheFetch() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_STMT_FETCH);
    assertThat(feed(t, err(1243))).containsExactly(true);
    assertThat(t.lastWasError()).isTrue();
  }

  @Test
  void executeWithoutCursorIsAnOrdinaryResultSet() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_STMT_EXECUTE);
    assertThat(
            feed(
                t,
                columnCount(1),
                column("a"),
                eof(AUTOCOMMIT),
                bytes(0x00, 0x00, 1, 'x'),
                eof(AUTOCOMMIT)))
        .isEqualTo(onlyLast(5));
  }

  // -------------------------------------------------------------------------------------------
  // other commands

  @Test
  void fieldListEndsAtItsTerminator() {
    ResponseTracker classic = tracker(CLASSIC, Commands.COM_FIELD_LIST);
    assertThat(feed(classic, column("id"), column("name"), eof(AUTOCOMMIT))).isEqualTo(onlyLast(3));
    ResponseTracker deprecate = tracker(DEPRECATE_EOF, Commands.COM_FIELD_LIST);
    assertThat(feed(deprecate, column("id"), okEof(AUTOCOMMIT))).isEqualTo(onlyLast(2));
    ResponseTracker failed = tracker(CLASSIC, Commands.COM_FIELD_LIST);
    assertThat(feed(failed, err(1146))).containsExactly(true);
    assertThat(failed.lastWasError()).isTrue();
  }

  @Test
  void statisticsIsOneStringPacketWhateverItStartsWith() {
    byte[] uptime = "Uptime: 12  Threads: 1  Questions: 3".getBytes(StandardCharsets.US_ASCII);
    for (byte[] reply :
        new byte[][] {uptime, bytes(0x00, 'a', 'b'), bytes(0xfb, 'x'), bytes(0xfe, 'x', 'y')}) {
      ResponseTracker t = tracker(CLASSIC, Commands.COM_STATISTICS, Commands.COM_PING);
      assertThat(feed(t, reply))
          .withFailMessage(
              "COM_STATISTICS is answered by one string packet, first byte 0x%02x", reply[0] & 0xff)
          .containsExactly(true);
      assertThat(t.localInfileRequested()).isFalse();
      assertThat(t.currentCommand()).isEqualTo(Commands.COM_PING);
      assertThat(feed(t, ok(AUTOCOMMIT))).containsExactly(true);
    }
    ResponseTracker t = tracker(CLASSIC, Commands.COM_STATISTICS);
    feed(t, ok(AUTOCOMMIT | ServerStatus.IN_TRANS));
    t.expect(Commands.COM_STATISTICS);
    feed(t, uptime);
    assertThat(t.lastStatus())
        .withFailMessage("the statistics string carries no status flags; the last known ones stay")
        .isEqualTo(AUTOCOMMIT | ServerStatus.IN_TRANS);
  }

  @Test
  void localInfileRequestThenUploadThenOk() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY, Commands.COM_PING);
    byte[] request = bytes(0xfb, '/', 't', 'm', 'p', '/', 'x');
    assertThat(feed(t, request)).containsExactly(false);
    assertThat(t.localInfileRequested()).isTrue();
    t.localInfileDone();
    assertThat(t.localInfileRequested()).isFalse();
    assertThat(t.pending()).as("the OK after the upload is still owed").isEqualTo(2);
    assertThat(feed(t, ok(AUTOCOMMIT), ok(AUTOCOMMIT))).containsExactly(true, true);
  }

  @Test
  void localInfileRefusedByErr() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    assertThat(feed(t, bytes(0xfb, 'f'))).containsExactly(false);
    t.localInfileDone();
    assertThat(feed(t, err(2068))).containsExactly(true);
    assertThat(t.lastWasError()).isTrue();
  }

  // ---------------------------------------------------------------------------------------------
  // pipelining

  @Test
  void pipelinedQueriesCompleteInOrder() {
    ResponseTracker t =
        tracker(CLASSIC, Commands.COM_QUERY, Commands.COM_QUERY, Commands.COM_QUERY);
    assertThat(t.pending()).isEqualTo(3);
    assertThat(feed(t, ok(AUTOCOMMIT))).containsExactly(true);
    assertThat(t.pending()).isEqualTo(2);
    assertThat(feed(t, columnCount(1), column("a"), eof(AUTOCOMMIT), row("1"), eof(AUTOCOMMIT)))
        .isEqualTo(onlyLast(5));
    assertThat(t.pending()).isEqualTo(1);
    assertThat(feed(t, err(1064))).containsExactly(true);
    assertThat(t.pending()).isZero();
    assertThat(t.lastWasError()).isTrue();
  }

  @Test
  void manyPipelinedCommandsAcrossQueueGrowthKeepTheirOrder() {
    ResponseTracker t = new ResponseTracker(CLASSIC);
    // Fill, drain part, then overfill so the ring buffer grows while its head is not at index 0.
    int[] commands = new int[40];
    for (int i = 0; i < commands.length; i++) {
      commands[i] =
          i % 3 == 0
              ? Commands.COM_PING
              : i % 3 == 1 ? Commands.COM_QUERY : Commands.COM_FIELD_LIST;
    }
    int sent = 0;
    for (; sent < 6; sent++) {
      t.expect(commands[sent]);
    }
    for (int answered = 0; answered < commands.length; answered++) {
      if (answered == 3) {
        for (; sent < commands.length; sent++) {
          t.expect(commands[sent]);
        }
      }
      assertThat(t.currentCommand()).as("reply %d", answered).isEqualTo(commands[answered]);
      List<Boolean> done =
          commands[answered] == Commands.COM_FIELD_LIST
              ? feed(t, column("a"), eof(AUTOCOMMIT))
              : commands[answered] == Commands.COM_QUERY
                  ? feed(t, columnCount(1), column("a"), eof(AUTOCOMMIT), eof(AUTOCOMMIT))
                  : feed(t, ok(AUTOCOMMIT));
      assertThat(done).as("reply %d", answered).isEqualTo(onlyLast(done.size()));
    }
    assertThat(t.pending()).isZero();
  }

  // -------------------------------------------------------------------------------------------
  // status tracking

  @Test
  void lastStatusFollowsTransactions() {
    ResponseTracker t = new ResponseTracker(DEPRECATE_EOF);
    t.expect(Commands.COM_QUERY); // BEGIN
    feed(t, ok(AUTOCOMMIT | ServerStatus.IN_TRANS));
    assertThat(t.lastStatus() & ServerStatus.IN_TRANS).as("BEGIN sets IN_TRANS").isNotZero();
    t.expect(Commands.COM_QUERY); // SELECT inside the transaction
    feed(t, columnCount(1), column("a"), row("1"), okEof(AUTOCOMMIT | ServerStatus.IN_TRANS));
    assertThat(t.lastStatus() & ServerStatus.IN_TRANS)
        .as("a result set's terminator keeps IN_TRANS")
        .isNotZero();
    t.expect(Commands.COM_QUERY); // COMMIT
    feed(t, ok(AUTOCOMMIT));
    assertThat(t.lastStatus() & ServerStatus.IN_TRANS).as("COMMIT clears IN_TRANS").isZero();
    t.expect(Commands.COM_QUERY); // a failed statement leaves the status as it was
    feed(t, ok(AUTOCOMMIT | ServerStatus.IN_TRANS));
    t.expect(Commands.COM_QUERY);
    feed(t, err(1146));
    assertThat(t.lastStatus() & ServerStatus.IN_TRANS)
        .as("ERR carries no status; IN_TRANS stays")
        .isNotZero();
  }

  @Test
  void lastStatusFromClassicEofTerminator() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    feed(t, columnCount(1), column("a"), eof(AUTOCOMMIT), row("1"), eof(ServerStatus.IN_TRANS));
    assertThat(t.lastStatus()).isEqualTo(ServerStatus.IN_TRANS);
  }

  @Test
  void initialStatusIsAutocommit() {
    assertThat(new ResponseTracker(CLASSIC).lastStatus()).isEqualTo(AUTOCOMMIT);
  }

  // ------------------------------------------------------------------------------------------------ misuse

  @Test
  void packetWithNothingPendingThrows() {
    ResponseTracker t = new ResponseTracker(CLASSIC);
    ByteBuf buf = packet(ok(AUTOCOMMIT));
    try {
      assertThatThrownBy(() -> t.onPacket(buf))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("unexpected packet from server with no command pending");
    } finally {
      buf.release();
    }
  }

  @Test
  void packetAfterTheLastReplyThrows() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_PING);
    feed(t, ok(AUTOCOMMIT));
    ByteBuf extra = packet(ok(AUTOCOMMIT));
    try {
      assertThatThrownBy(() -> t.onPacket(extra)).isInstanceOf(IllegalStateException.class);
    } finally {
      extra.release();
    }
  }

  @Test
  void aColumnCountCutShortByItsPacketThrowsEvenWithMoreBytesAfterIt() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_QUERY);
    // A 2-byte length-encoded count (0xfc) in a 1-byte payload, framed in place inside a batch
    // that goes on: the bytes after the packet are not part of the count.
    ByteBuf batch = packet(bytes(0xfc));
    batch.writeBytes(new byte[] {1, 0, 0, 2, 0});
    batch.writerIndex(Packets.HEADER_SIZE + 1);
    try {
      assertThatThrownBy(() -> t.onPacket(batch))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("a column count runs past the end of its packet");
    } finally {
      batch.release();
    }
  }

  @Test
  void prepareAnsweredWithSomethingElseThrows() {
    ResponseTracker t = tracker(CLASSIC, Commands.COM_STMT_PREPARE);
    ByteBuf buf = packet(columnCount(1));
    try {
      assertThatThrownBy(() -> t.onPacket(buf))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("unexpected reply 0x1 to COM_STMT_PREPARE");
    } finally {
      buf.release();
    }
  }
}
