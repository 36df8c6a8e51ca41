package dev.mysqlpool.proxy.it;

import dev.mysqlpool.proxy.it.SessionScript.Client;
import dev.mysqlpool.proxy.it.SessionScript.Driver;
import dev.mysqlpool.proxy.it.SessionScript.Route;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Savepoint;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The session-semantics script of {@code SessionSemanticsIT}: one {@link SessionScript} per
 * connection a client opens, run in this order. The first two of each driver keep only state a
 * transaction-mode proxy must carry from backend to backend (schema, autocommit, sql_mode,
 * time_zone, character sets, isolation, read-only); the last of each driver creates state that must
 * pin the client to its backend (server-side prepared statements, user variables, temporary tables,
 * named locks, LOCK TABLES, SQL_CALC_FOUND_ROWS, other variables), so what it checks holds even
 * when pinned, and pinning starts late enough to leave the earlier checks multiplexed.
 *
 * <p>The scripts read back every piece of state in several later statements and transactions, and
 * through effects rather than just variable values where one exists (an isolation level through
 * what a side connection's commit does to a running transaction, a time zone through stored
 * TIMESTAMPs, a collation through a comparison).
 */
final class SessionScripts {
  /** The database the scripts connect to; created and dropped by the test. */
  static final String DB = "sem_it";

  /** A second database for USE and COM_INIT_DB. */
  static final String OTHER_DB = "sem_it_o";

  /** The text every script puts in non-ASCII columns: Latin-1, CJK and a 4-byte character. */
  static final String NON_ASCII = "grüße 日本 😀";

  private SessionScripts() {}

  /** Every script, in the order a client runs them, each on a connection of its own. */
  static List<SessionScript> all() {
    return List.of(
        mysqlTransactions(),
        mysqlVariables(),
        mysqlPinned(),
        mariadbSchemaAndCharsets(),
        mariadbPinned());
  }

  /**
   * Runs {@link #all()} in {@code clients} concurrent clients (suffixes {@code _c1} ... {@code
   * _cN}), started together, and returns each client's normalized transcript by client number.
   */
  static Map<Integer, List<String>> runClients(Route route, Route sideRoute, int clients)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    CountDownLatch start = new CountDownLatch(1);
    try {
      Map<Integer, Future<List<String>>> futures = new TreeMap<>();
      for (int i = 1; i <= clients; i++) {
        String suffix = "_c" + i;
        futures.put(
            i,
            pool.submit(
                () -> {
                  start.await();
                  List<String> lines = new ArrayList<>();
                  for (SessionScript script : all()) {
                    script.run(route, sideRoute, suffix, lines);
                  }
                  return lines;
                }));
      }
      start.countDown();
      Map<Integer, List<String>> out = new TreeMap<>();
      for (Map.Entry<Integer, Future<List<String>>> e : futures.entrySet()) {
        out.put(e.getKey(), e.getValue().get(180, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * MySQL Connector/J: autocommit, transactions, savepoints, errors,
   * LAST_INSERT_ID/ROW_COUNT/FOUND_ROWS, warnings.
   */
  static SessionScript mysqlTransactions() {
    return new SessionScript(
            "cj-tx", Driver.MYSQL_CJ, "allowMultiQueries=true&useServerPrepStmts=false")
        .sqlNoWarnings("setup", "DROP TABLE IF EXISTS acct_cX")
        .sql(
            "create table",
            "CREATE TABLE acct_cX (id INT AUTO_INCREMENT PRIMARY KEY,"
                + " name VARCHAR(20) NOT NULL UNIQUE, amount INT NOT NULL)")
        .jdbc("getAutoCommit", c -> String.valueOf(c.conn.getAutoCommit()))
        .sql("autocommit and in_transaction", "SELECT @@autocommit, @@in_transaction")
        // LAST_INSERT_ID, ROW_COUNT and FOUND_ROWS, each read by the statement right after
        .insert("insert a", "INSERT INTO acct_cX (name, amount) VALUES ('a', 10)")
        .sql("LAST_INSERT_ID after insert a", "SELECT LAST_INSERT_ID()")
        .insert("insert b,c", "INSERT INTO acct_cX (name, amount) VALUES ('b', 20), ('c', 30)")
        .sql("LAST_INSERT_ID after insert b,c", "SELECT LAST_INSERT_ID()")
        .sql("LAST_INSERT_ID again", "SELECT LAST_INSERT_ID()")
        .sql("update two rows", "UPDATE acct_cX SET amount = amount + 1 WHERE amount >= 20")
        .sql("ROW_COUNT after update", "SELECT ROW_COUNT()")
        .sql("delete nothing", "DELETE FROM acct_cX WHERE name = 'nobody'")
        .sql("ROW_COUNT after delete", "SELECT ROW_COUNT()")
        .sql(
            "insert ignore duplicate", "INSERT IGNORE INTO acct_cX (name, amount) VALUES ('a', 99)")
        .sql("ROW_COUNT after insert ignore", "SELECT ROW_COUNT()")
        .sql("select limit 2", "SELECT name FROM acct_cX ORDER BY id LIMIT 2")
        .sql("FOUND_ROWS after select", "SELECT FOUND_ROWS()")
        .sql("select where nothing", "SELECT name FROM acct_cX WHERE amount > 1000")
        .sql("FOUND_ROWS after empty select", "SELECT FOUND_ROWS()")
        .side("side sees autocommitted rows", "SELECT COUNT(*) FROM acct_cX")
        // an explicit transaction that commits
        .sql("start transaction", "START TRANSACTION")
        .sql("in_transaction after start", "SELECT @@in_transaction")
        .insert("insert d in transaction", "INSERT INTO acct_cX (name, amount) VALUES ('d', 40)")
        .sql("LAST_INSERT_ID in transaction", "SELECT LAST_INSERT_ID()")
        .side("side does not see d yet", "SELECT COUNT(*) FROM acct_cX")
        .sql("commit", "COMMIT")
        .sql("LAST_INSERT_ID after commit", "SELECT LAST_INSERT_ID()")
        .sql("in_transaction after commit", "SELECT @@in_transaction")
        .side("side sees d", "SELECT COUNT(*) FROM acct_cX")
        // an explicit transaction that rolls back
        .sql("begin", "BEGIN")
        .insert("insert e", "INSERT INTO acct_cX (name, amount) VALUES ('e', 50)")
        .sql("update a", "UPDATE acct_cX SET amount = 0 WHERE name = 'a'")
        .sql("rollback", "ROLLBACK")
        .sql("rows after rollback", "SELECT name, amount FROM acct_cX ORDER BY id")
        .sql("LAST_INSERT_ID after rollback", "SELECT LAST_INSERT_ID()")
        // JDBC autocommit off
        .jdbc(
            "setAutoCommit(false)",
            c -> {
              c.conn.setAutoCommit(false);
              return String.valueOf(c.conn.getAutoCommit());
            })
        .sql("autocommit is 0", "SELECT @@autocommit, @@in_transaction")
        .sql("read in implicit transaction", "SELECT COUNT(*) FROM acct_cX")
        .insert("insert f", "INSERT INTO acct_cX (name, amount) VALUES ('f', 60)")
        .sql("in_transaction after insert f", "SELECT @@in_transaction")
        .side("side does not see f", "SELECT COUNT(*) FROM acct_cX")
        .jdbc(
            "commit()",
            c -> {
              c.conn.commit();
              return "ok";
            })
        .side("side sees f", "SELECT COUNT(*) FROM acct_cX")
        .insert("insert g", "INSERT INTO acct_cX (name, amount) VALUES ('g', 70)")
        .jdbc(
            "rollback()",
            c -> {
              c.conn.rollback();
              return "ok";
            })
        .sql("g is gone", "SELECT COUNT(*) FROM acct_cX WHERE name = 'g'")
        // savepoints, through JDBC and through SQL
        .insert("insert h", "INSERT INTO acct_cX (name, amount) VALUES ('h', 80)")
        .jdbc(
            "setSavepoint(sp1)",
            c -> {
              c.put("sp1", c.conn.setSavepoint("sp1"));
              return "ok";
            })
        .insert("insert i", "INSERT INTO acct_cX (name, amount) VALUES ('i', 90)")
        .sql("savepoint sp2", "SAVEPOINT sp2")
        .insert("insert j", "INSERT INTO acct_cX (name, amount) VALUES ('j', 100)")
        .sql("rollback to sp2", "ROLLBACK TO SAVEPOINT sp2")
        .sql(
            "h and i remain",
            "SELECT name FROM acct_cX WHERE name IN ('h', 'i', 'j') ORDER BY name")
        .jdbc(
            "rollback(sp1)",
            c -> {
              c.conn.rollback(c.savepoint("sp1"));
              return "ok";
            })
        .sql(
            "only h remains",
            "SELECT name FROM acct_cX WHERE name IN ('h', 'i', 'j') ORDER BY name")
        .sql("rollback to released sp2 fails", "ROLLBACK TO SAVEPOINT sp2")
        .jdbc(
            "releaseSavepoint(sp1)",
            c -> {
              c.conn.releaseSavepoint(c.savepoint("sp1"));
              return "ok";
            })
        .sql("release sp1 again fails", "RELEASE SAVEPOINT sp1")
        .jdbc(
            "commit() with h",
            c -> {
              c.conn.commit();
              return "ok";
            })
        .side(
            "side sees h only",
            "SELECT name FROM acct_cX WHERE name IN ('h', 'i', 'j') ORDER BY name")
        // an error inside a transaction rolls back only its statement
        .insert("insert k", "INSERT INTO acct_cX (name, amount) VALUES ('k', 110)")
        .insert("insert duplicate a fails", "INSERT INTO acct_cX (name, amount) VALUES ('a', 1)")
        .sql("still in transaction after error", "SELECT @@in_transaction")
        .insert("insert l", "INSERT INTO acct_cX (name, amount) VALUES ('l', 120)")
        .jdbc(
            "commit() after error",
            c -> {
              c.conn.commit();
              return "ok";
            })
        .side(
            "side sees k and l", "SELECT name FROM acct_cX WHERE name IN ('k', 'l') ORDER BY name")
        .insert("insert m", "INSERT INTO acct_cX (name, amount) VALUES ('m', 130)")
        .sql("select from missing table fails", "SELECT * FROM missing_cX")
        .jdbc(
            "rollback() after error",
            c -> {
              c.conn.rollback();
              return "ok";
            })
        .side("side does not see m", "SELECT COUNT(*) FROM acct_cX WHERE name = 'm'")
        // DDL commits implicitly
        .insert("insert n", "INSERT INTO acct_cX (name, amount) VALUES ('n', 140)")
        .sql("create table commits", "CREATE TABLE ddl_cX (x INT)")
        .jdbc(
            "rollback() after DDL",
            c -> {
              c.conn.rollback();
              return "ok";
            })
        .side("side sees n", "SELECT COUNT(*) FROM acct_cX WHERE name = 'n'")
        .sql("drop ddl table", "DROP TABLE ddl_cX")
        .jdbc(
            "setAutoCommit(true)",
            c -> {
              c.conn.setAutoCommit(true);
              return String.valueOf(c.conn.getAutoCommit());
            })
        // autocommit through SQL; setting it to 1 commits
        .sql("SET autocommit=0", "SET autocommit = 0")
        .jdbc("getAutoCommit after SET", c -> String.valueOf(c.conn.getAutoCommit()))
        .sql("select with autocommit 0", "SELECT 1")
        .sql("autocommit 0 after select", "SELECT @@autocommit, @@in_transaction")
        .insert("insert o", "INSERT INTO acct_cX (name, amount) VALUES ('o', 150)")
        .sql("rollback o", "ROLLBACK")
        .insert("insert p", "INSERT INTO acct_cX (name, amount) VALUES ('p', 160)")
        .side("side does not see p", "SELECT COUNT(*) FROM acct_cX WHERE name = 'p'")
        .sql("SET autocommit=1 commits", "SET autocommit = 1")
        .side("side sees p, not o", "SELECT name FROM acct_cX WHERE name IN ('o', 'p')")
        .jdbc("getAutoCommit after SET 1", c -> String.valueOf(c.conn.getAutoCommit()))
        .sql("LAST_INSERT_ID after commit by SET", "SELECT LAST_INSERT_ID()")
        .sql("set LAST_INSERT_ID(77)", "SELECT LAST_INSERT_ID(77)")
        .sql("LAST_INSERT_ID is 77", "SELECT LAST_INSERT_ID()")
        .sql(
            "update with LAST_INSERT_ID(expr)",
            "UPDATE acct_cX SET amount = LAST_INSERT_ID(amount + 5) WHERE name = 'a'")
        // Alone, as transaction mode answers it for the previous statement on any connection;
        // inside other
        // expressions it is refused there outside a transaction (TransactionModeIT covers that).
        .sql("ROW_COUNT of the update", "SELECT ROW_COUNT()")
        .sql("LAST_INSERT_ID is 15", "SELECT LAST_INSERT_ID()")
        // warnings, by Statement.getWarnings and by SHOW WARNINGS in the next statement
        .sql("1/0 with getWarnings", "SELECT 1/0 AS q")
        .sql("SHOW WARNINGS after getWarnings", "SHOW WARNINGS")
        .sqlNoWarnings("cast warning, not fetched", "SELECT CAST('12abc' AS INT) AS v")
        .sqlNoWarnings("SHOW WARNINGS", "SHOW WARNINGS")
        .sqlNoWarnings("SHOW COUNT(*) WARNINGS", "SHOW COUNT(*) WARNINGS")
        .sqlNoWarnings("1/0 again", "SELECT 1/0 AS q")
        .sqlNoWarnings("warning_count", "SELECT @@warning_count")
        .sqlNoWarnings("select 1 (keeps the diagnostics area)", "SELECT 1")
        .sqlNoWarnings("SHOW WARNINGS after select 1", "SHOW WARNINGS")
        .sqlNoWarnings("select from a table", "SELECT COUNT(*) FROM acct_cX")
        .sqlNoWarnings("SHOW WARNINGS after select from a table", "SHOW WARNINGS")
        .sqlNoWarnings("error then SHOW ERRORS", "SELECT * FROM missing_cX")
        .sqlNoWarnings("SHOW ERRORS", "SHOW ERRORS")
        .sql("begin, 1/0 in transaction", "START TRANSACTION")
        .sqlNoWarnings("1/0 in transaction", "SELECT 1/0 AS q")
        .sqlNoWarnings("SHOW WARNINGS in transaction", "SHOW WARNINGS")
        .sql("commit after warnings", "COMMIT")
        // multi-statements
        .sql(
            "multi: insert, LAST_INSERT_ID, update, ROW_COUNT, 1/0",
            "INSERT INTO acct_cX (name, amount) VALUES ('q', 1); SELECT LAST_INSERT_ID();"
                + " UPDATE acct_cX SET amount = 2 WHERE name IN ('q', 'a'); SELECT ROW_COUNT(); SELECT 1/0")
        .sql("LAST_INSERT_ID after multi", "SELECT LAST_INSERT_ID()")
        .sql(
            "multi: begin and insert, left open",
            "START TRANSACTION; INSERT INTO acct_cX (name, amount)"
                + " VALUES ('r', 3); SELECT @@in_transaction")
        .side("side does not see r", "SELECT COUNT(*) FROM acct_cX WHERE name = 'r'")
        .sql(
            "in transaction from multi",
            "SELECT @@in_transaction, COUNT(*) FROM acct_cX WHERE name = 'r'")
        .sql("multi: rollback and count", "ROLLBACK; SELECT COUNT(*) FROM acct_cX WHERE name = 'r'")
        .sql(
            "multi with error in the middle",
            "SELECT 1 AS one; SELECT * FROM missing_cX; SELECT 3 AS three")
        .sql("statement after failed multi", "SELECT 'after' AS s")
        .sql(
            "multi: transaction with commit",
            "START TRANSACTION; INSERT INTO acct_cX (name, amount)"
                + " VALUES ('s', 4); COMMIT; SELECT @@in_transaction")
        .side("side sees s", "SELECT COUNT(*) FROM acct_cX WHERE name = 's'")
        .sql("final rows", "SELECT id, name, amount FROM acct_cX ORDER BY id")
        .sql("drop table", "DROP TABLE acct_cX");
  }

  /**
   * MySQL Connector/J: carried variables, each read back in several later statements and
   * transactions: sql_mode, time_zone, isolation (setTransactionIsolation and SET SESSION/SET
   * TRANSACTION), read-only, SET NAMES.
   */
  static SessionScript mysqlVariables() {
    return new SessionScript(
            "cj-vars", Driver.MYSQL_CJ, "allowMultiQueries=true&useServerPrepStmts=false")
        .sqlNoWarnings("setup", "DROP TABLE IF EXISTS v_cX")
        .sql(
            "create table",
            "CREATE TABLE v_cX (id INT PRIMARY KEY, s VARCHAR(3), ts TIMESTAMP NULL,"
                + " u VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci)")
        // sql_mode
        .sql("default sql_mode", "SELECT @@sql_mode")
        .sql("strict insert fails", "INSERT INTO v_cX (id, s) VALUES (1, 'abcdef')")
        .sql("set sql_mode", "SET SESSION sql_mode = 'PIPES_AS_CONCAT,ANSI_QUOTES'")
        .sql("sql_mode in effect", "SELECT @@sql_mode, 'a' || 'b' AS c")
        .sql("non-strict insert truncates", "INSERT INTO v_cX (id, s) VALUES (2, 'abcdef')")
        .sql("begin (sql_mode)", "START TRANSACTION")
        .sql("ANSI_QUOTES in transaction", "SELECT \"s\" FROM v_cX WHERE id = 2")
        .sql("truncating insert in transaction", "INSERT INTO v_cX (id, s) VALUES (3, 'xyzxyz')")
        .sql("commit (sql_mode)", "COMMIT")
        .sql("PIPES_AS_CONCAT later", "SELECT 'x' || 'y' AS c, @@sql_mode")
        .sql("set sql_mode TRADITIONAL", "SET sql_mode = 'TRADITIONAL'")
        .sql(
            "division by zero is an error in TRADITIONAL",
            "INSERT INTO v_cX (id, s) VALUES (4, 1/0)")
        .sql("TRADITIONAL later", "SELECT @@sql_mode")
        .sql("restore default sql_mode", "SET sql_mode = DEFAULT")
        // time_zone
        .sql("default time zone", "SELECT @@time_zone")
        .sql("set time_zone +05:30", "SET time_zone = '+05:30'")
        .sql(
            "time zone in effect",
            "SELECT @@time_zone, TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW()) AS offset_min,"
                + " CAST(FROM_UNIXTIME(0) AS CHAR) AS epoch")
        .sql(
            "store a TIMESTAMP at +05:30",
            "INSERT INTO v_cX (id, ts) VALUES (5, '2024-01-01 00:00:00')")
        .sql("begin (tz)", "START TRANSACTION")
        .sql(
            "TIMESTAMP in transaction",
            "SELECT CAST(ts AS CHAR) AS ts, UNIX_TIMESTAMP(ts) AS unix FROM v_cX WHERE id = 5")
        .sql("commit (tz)", "COMMIT")
        .sql("set time_zone -03:00", "SET time_zone = '-03:00'")
        .sql("TIMESTAMP at -03:00", "SELECT CAST(ts AS CHAR) AS ts FROM v_cX WHERE id = 5")
        .sql(
            "offset at -03:00",
            "SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW()) AS offset_min")
        .sql("begin (tz 2)", "START TRANSACTION")
        .sql(
            "FROM_UNIXTIME in transaction",
            "SELECT CAST(FROM_UNIXTIME(0) AS CHAR) AS epoch, @@time_zone")
        .sql("commit (tz 2)", "COMMIT")
        // setCatalog in Connector/J sends USE
        .jdbc(
            "setCatalog(other) sends USE",
            c -> {
              c.conn.setCatalog(OTHER_DB);
              return c.conn.getCatalog();
            })
        .sql("DATABASE() after setCatalog", "SELECT DATABASE()")
        .sql("begin (setCatalog)", "START TRANSACTION")
        .sql(
            "DATABASE() in transaction",
            "SELECT DATABASE(), (SELECT COUNT(*) FROM " + DB + ".v_cX) AS n")
        .sql("commit (setCatalog)", "COMMIT")
        .sql("unqualified table of the main database is not found", "SELECT COUNT(*) FROM v_cX")
        .jdbc(
            "setCatalog(main)",
            c -> {
              c.conn.setCatalog(DB);
              return c.conn.getCatalog();
            })
        .sql("DATABASE() back", "SELECT DATABASE(), COUNT(*) FROM v_cX")
        // isolation through JDBC, observed through a side connection's commit under a running
        // transaction
        .jdbc(
            "getTransactionIsolation default",
            c -> String.valueOf(c.conn.getTransactionIsolation()))
        .sql("isolation variables", "SELECT @@transaction_isolation, @@tx_isolation")
        .jdbc(
            "setTransactionIsolation(READ_COMMITTED)",
            c -> {
              c.conn.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
              return String.valueOf(c.conn.getTransactionIsolation());
            })
        .sql("isolation is READ-COMMITTED", "SELECT @@transaction_isolation")
        .sql("row to watch", "INSERT INTO v_cX (id, s) VALUES (10, 'v0')")
        .sql("begin (RC)", "START TRANSACTION")
        .sql("RC first read", "SELECT s FROM v_cX WHERE id = 10")
        .side("side commits v1", "UPDATE v_cX SET s = 'v1' WHERE id = 10")
        .sql("RC sees v1", "SELECT s FROM v_cX WHERE id = 10")
        .sql("commit (RC)", "COMMIT")
        .sql("set session RR", "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .jdbc(
            "getTransactionIsolation after SET SESSION",
            c -> String.valueOf(c.conn.getTransactionIsolation()))
        .sql("begin (RR)", "START TRANSACTION")
        .sql("RR first read", "SELECT s FROM v_cX WHERE id = 10")
        .side("side commits v2", "UPDATE v_cX SET s = 'v2' WHERE id = 10")
        .sql("RR still sees v1", "SELECT s FROM v_cX WHERE id = 10")
        .sql("commit (RR)", "COMMIT")
        .sql("v2 after commit", "SELECT s FROM v_cX WHERE id = 10")
        .sql(
            "SET TRANSACTION RC for the next transaction only",
            "SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .sql("begin (next-transaction RC)", "START TRANSACTION")
        .sql("next-transaction RC first read", "SELECT s FROM v_cX WHERE id = 10")
        .side("side commits v3", "UPDATE v_cX SET s = 'v3' WHERE id = 10")
        .sql("next-transaction RC sees v3", "SELECT s FROM v_cX WHERE id = 10")
        .sql("commit (next-transaction RC)", "COMMIT")
        .sql("begin (back to RR)", "START TRANSACTION")
        .sql("back to RR first read", "SELECT s FROM v_cX WHERE id = 10")
        .side("side commits v4", "UPDATE v_cX SET s = 'v4' WHERE id = 10")
        .sql("back to RR still sees v3", "SELECT s FROM v_cX WHERE id = 10")
        .sql("commit (back to RR)", "COMMIT")
        .sql("set session SERIALIZABLE", "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        .sql("SERIALIZABLE later", "SELECT @@transaction_isolation, @@tx_isolation")
        .jdbc(
            "getTransactionIsolation SERIALIZABLE",
            c -> String.valueOf(c.conn.getTransactionIsolation()))
        .jdbc(
            "setTransactionIsolation(REPEATABLE_READ)",
            c -> {
              c.conn.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
              return String.valueOf(c.conn.getTransactionIsolation());
            })
        // read-only, through JDBC and through SQL
        .jdbc(
            "setReadOnly(true)",
            c -> {
              c.conn.setReadOnly(true);
              return String.valueOf(c.conn.isReadOnly());
            })
        .sql("read-only variables", "SELECT @@transaction_read_only, @@tx_read_only")
        .sql("insert in read-only fails", "INSERT INTO v_cX (id, s) VALUES (20, 'ro')")
        .sql("begin (read-only)", "START TRANSACTION")
        .sql("read in read-only transaction", "SELECT COUNT(*) FROM v_cX")
        .sql("commit (read-only)", "COMMIT")
        .sql("insert still fails", "INSERT INTO v_cX (id, s) VALUES (21, 'ro')")
        .jdbc(
            "setReadOnly(false)",
            c -> {
              c.conn.setReadOnly(false);
              return String.valueOf(c.conn.isReadOnly());
            })
        .sql("insert works again", "INSERT INTO v_cX (id, s) VALUES (22, 'rw')")
        .sql("SET SESSION TRANSACTION READ ONLY", "SET SESSION TRANSACTION READ ONLY")
        .jdbc("isReadOnly after SQL", c -> String.valueOf(c.conn.isReadOnly()))
        .sql("insert fails after SQL read only", "INSERT INTO v_cX (id, s) VALUES (23, 'ro')")
        .sql("select works", "SELECT COUNT(*) FROM v_cX")
        .sql("insert fails again", "INSERT INTO v_cX (id, s) VALUES (24, 'ro')")
        .sql("SET SESSION TRANSACTION READ WRITE", "SET SESSION TRANSACTION READ WRITE")
        .sql("SET TRANSACTION READ ONLY for the next transaction", "SET TRANSACTION READ ONLY")
        .sql("next transaction is read only", "INSERT INTO v_cX (id, s) VALUES (25, 'ro')")
        .sql(
            "second insert after SET TRANSACTION READ ONLY",
            "INSERT INTO v_cX (id, s) VALUES (26, 'ro?')")
        .sql("read-only after failed inserts", "SELECT @@transaction_read_only")
        .sql("commit ends the next-transaction characteristic", "COMMIT")
        .sql("insert after commit", "INSERT INTO v_cX (id, s) VALUES (27, 'rw')")
        .sql("START TRANSACTION READ ONLY", "START TRANSACTION READ ONLY")
        .sql(
            "insert in START TRANSACTION READ ONLY fails",
            "INSERT INTO v_cX (id, s) VALUES (28, 'ro')")
        .sql("commit (START TRANSACTION READ ONLY)", "COMMIT")
        .sql("ids after read-only checks", "SELECT id FROM v_cX WHERE id >= 20 ORDER BY id")
        // character sets and collations
        .sql(
            "default character set variables",
            "SELECT @@character_set_client, @@character_set_connection,"
                + " @@character_set_results, @@collation_connection")
        .sql(
            "default comparisons",
            "SELECT 'a' = 'A' AS ci, 'ß' = 'ss' AS sz, CHAR_LENGTH('"
                + NON_ASCII
                + "') AS chars, HEX('ü') AS hex")
        .sql("SET NAMES utf8mb4 COLLATE utf8mb4_bin", "SET NAMES utf8mb4 COLLATE utf8mb4_bin")
        .sql("binary collation in effect", "SELECT 'a' = 'A' AS ci, @@collation_connection")
        .sql("begin (collation)", "START TRANSACTION")
        .sql("binary collation in transaction", "SELECT 'a' = 'A' AS ci, 'b' < 'B' AS lt")
        .sql("commit (collation)", "COMMIT")
        .sql(
            "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
            "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci")
        .sql(
            "unicode collation: ß = ss",
            "SELECT 'ß' = 'ss' AS sz, 'a' = 'A' AS ci, @@collation_connection")
        .sql("round trip utf8mb4", "INSERT INTO v_cX (id, u) VALUES (30, '" + NON_ASCII + "')")
        .sql("read back utf8mb4", "SELECT u, HEX(u), CHAR_LENGTH(u) FROM v_cX WHERE id = 30")
        .sql("SET NAMES latin1", "SET NAMES latin1")
        .sql(
            "latin1 variables",
            "SELECT @@character_set_client, @@character_set_connection,"
                + " @@character_set_results, @@collation_connection")
        .sql("latin1: literal length", "SELECT CHAR_LENGTH('ü') AS chars, HEX('ü') AS hex")
        .sql("latin1: insert", "INSERT INTO v_cX (id, u) VALUES (31, 'grüße')")
        .sql("begin (latin1)", "START TRANSACTION")
        .sql(
            "latin1: read stored utf8mb4 text",
            "SELECT u, HEX(u) FROM v_cX WHERE id IN (30, 31) ORDER BY id")
        .sql("commit (latin1)", "COMMIT")
        .sql("latin1: still in effect", "SELECT @@character_set_client, CHAR_LENGTH('ü') AS chars")
        .sql("set character_set_results utf8mb4", "SET character_set_results = utf8mb4")
        .sql(
            "mixed variables",
            "SELECT @@character_set_client, @@character_set_results, HEX(u) FROM v_cX"
                + " WHERE id = 31")
        .sql("SET NAMES utf8mb4", "SET NAMES utf8mb4")
        .sql(
            "utf8mb4 again",
            "SELECT u, HEX(u), CHAR_LENGTH(u) FROM v_cX WHERE id IN (30, 31) ORDER BY id")
        // several carried variables at once, read back after a transaction
        .sql("set several", "SET SESSION sql_mode = 'ANSI', time_zone = '+09:00', autocommit = 0")
        .sql("several in effect", "SELECT @@sql_mode, @@time_zone, @@autocommit")
        .sql("commit (several)", "COMMIT")
        .sql(
            "several still in effect",
            "SELECT @@sql_mode, @@time_zone, @@autocommit, @@in_transaction")
        .sql("restore autocommit", "SET autocommit = 1")
        .sql("drop table", "DROP TABLE v_cX");
  }

  /**
   * MySQL Connector/J with server-side prepared statements, then state that pins: user variables,
   * text PREPARE, non-carried variables, temporary tables, GET_LOCK, LOCK TABLES,
   * SQL_CALC_FOUND_ROWS.
   */
  static SessionScript mysqlPinned() {
    return new SessionScript(
            "cj-pin",
            Driver.MYSQL_CJ,
            "allowMultiQueries=true&useServerPrepStmts=true&cachePrepStmts=false")
        .sqlNoWarnings("setup", "DROP TABLE IF EXISTS p_cX, fk_cX")
        .sql(
            "create table",
            "CREATE TABLE p_cX (id INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(40) CHARACTER SET"
                + " utf8mb4, n INT, d DATETIME, UNIQUE KEY (n))")
        .sql(
            "create fk table",
            "CREATE TABLE fk_cX (id INT PRIMARY KEY, parent INT NULL,"
                + " FOREIGN KEY (parent) REFERENCES fk_cX (id))")
        // server-side prepared statements
        .jdbc(
            "prepare select",
            c -> {
              PreparedStatement ps =
                  c.prepared("sel", "SELECT ? AS a, CHAR_LENGTH(?) AS len, ? + 1 AS n", false);
              ps.setString(1, NON_ASCII);
              ps.setString(2, NON_ASCII);
              ps.setInt(3, 41);
              return Client.exec(ps);
            })
        .jdbc(
            "prepared insert 1",
            c -> {
              PreparedStatement ps =
                  c.prepared("ins", "INSERT INTO p_cX (s, n, d) VALUES (?, ?, ?)", true);
              ps.setString(1, NON_ASCII);
              ps.setInt(2, 1);
              ps.setTimestamp(3, Timestamp.valueOf("2024-02-29 12:34:56"));
              return Client.update(ps);
            })
        .sql("LAST_INSERT_ID after prepared insert", "SELECT LAST_INSERT_ID()")
        .jdbc(
            "prepared insert with NULLs",
            c -> {
              PreparedStatement ps = c.prepared("ins", null, true);
              ps.setNull(1, Types.VARCHAR);
              ps.setInt(2, 2);
              ps.setNull(3, Types.TIMESTAMP);
              return Client.update(ps);
            })
        .sql("begin (prepared)", "START TRANSACTION")
        .jdbc(
            "prepared insert in transaction",
            c -> {
              PreparedStatement ps = c.prepared("ins", null, true);
              ps.setString(1, "in tx");
              ps.setInt(2, 3);
              ps.setTimestamp(3, Timestamp.valueOf("2000-01-01 00:00:00"));
              return Client.update(ps);
            })
        .jdbc(
            "prepared duplicate fails",
            c -> {
              PreparedStatement ps = c.prepared("ins", null, true);
              ps.setString(1, "dup");
              ps.setInt(2, 3);
              return Client.update(ps);
            })
        .sql("commit (prepared)", "COMMIT")
        .jdbc(
            "prepared batch",
            c -> {
              PreparedStatement ps = c.prepared("ins", null, true);
              for (int i = 4; i <= 6; i++) {
                ps.setString(1, "batch " + i);
                ps.setInt(2, i);
                ps.setNull(3, Types.TIMESTAMP);
                ps.addBatch();
              }
              int[] counts = ps.executeBatch();
              return Arrays.toString(counts) + " keys=" + SessionScript.keys(ps);
            })
        .jdbc(
            "prepared select reused after commit",
            c -> {
              PreparedStatement ps = c.prepared("sel", null, false);
              ps.setString(1, "x");
              ps.setString(2, "xyz");
              ps.setInt(3, 1);
              return Client.exec(ps);
            })
        .jdbc(
            "prepared query of rows",
            c -> {
              PreparedStatement ps =
                  c.prepared(
                      "rows", "SELECT id, s, n, d FROM p_cX WHERE n >= ? ORDER BY id", false);
              ps.setInt(1, 0);
              return Client.exec(ps);
            })
        .jdbc("close prepared select", c -> c.closePrepared("sel"))
        .jdbc(
            "prepare again after close",
            c -> {
              PreparedStatement ps = c.prepared("sel", "SELECT ? * 2 AS twice", false);
              ps.setInt(1, 21);
              return Client.exec(ps);
            })
        .jdbc(
            "prepared 1/0 warning",
            c -> {
              PreparedStatement ps = c.prepared("div", "SELECT ? / 0 AS q", false);
              ps.setInt(1, 1);
              return Client.exec(ps);
            })
        .jdbc(
            "close prepared statements",
            c ->
                c.closePrepared("ins")
                    + " "
                    + c.closePrepared("rows")
                    + " "
                    + c.closePrepared("sel")
                    + " "
                    + c.closePrepared("div"))
        // user variables and text PREPARE
        .sql("set user variables", "SET @x = 42, @s = '" + NON_ASCII + "'")
        .sql("read user variables", "SELECT @x, @s, @unset")
        .sql("begin (user variables)", "START TRANSACTION")
        .sql("increment in transaction", "SELECT @x := @x + 1 AS x")
        .sql("commit (user variables)", "COMMIT")
        .sql("user variable after commit", "SELECT @x")
        .sql("text PREPARE", "PREPARE st FROM 'SELECT ? * 2 AS twice'")
        .sql("EXECUTE USING", "SET @a = 21; EXECUTE st USING @a")
        .sql("EXECUTE in transaction", "START TRANSACTION; EXECUTE st USING @x; COMMIT")
        .sql("DEALLOCATE", "DEALLOCATE PREPARE st")
        .sql("EXECUTE after DEALLOCATE fails", "EXECUTE st USING @a")
        // variables that are not carried
        .sql("set div_precision_increment", "SET SESSION div_precision_increment = 8")
        .sql("1/3 with 8 digits", "SELECT 1/3 AS q")
        .sql("begin (div)", "START TRANSACTION")
        .sql("2/3 in transaction", "SELECT 2/3 AS q, @@div_precision_increment")
        .sql("commit (div)", "COMMIT")
        .sql("still 8 digits", "SELECT 1/7 AS q")
        .sql("orphan fails with foreign keys checked", "INSERT INTO fk_cX VALUES (1, 99)")
        .sql("set foreign_key_checks=0", "SET SESSION foreign_key_checks = 0")
        .sql("orphan accepted", "INSERT INTO fk_cX VALUES (2, 99)")
        .sql("begin (fk)", "START TRANSACTION")
        .sql("orphan accepted in transaction", "INSERT INTO fk_cX VALUES (3, 98)")
        .sql("commit (fk)", "COMMIT")
        .sql("set foreign_key_checks=1", "SET SESSION foreign_key_checks = 1")
        .sql("orphan fails again", "INSERT INTO fk_cX VALUES (4, 97)")
        // temporary tables, one shadowing a real table
        .sql(
            "create temporary table",
            "CREATE TEMPORARY TABLE tmp_cX (id INT PRIMARY KEY, s VARCHAR(20))")
        .sql("insert into temporary table", "INSERT INTO tmp_cX VALUES (1, 'a'), (2, 'b')")
        .sql("begin (temporary)", "START TRANSACTION")
        .sql(
            "insert in transaction (temporary)",
            "INSERT INTO tmp_cX VALUES (3, '" + NON_ASCII + "')")
        .sql("commit (temporary)", "COMMIT")
        .sql("read temporary table", "SELECT * FROM tmp_cX ORDER BY id")
        .sql("real table count", "SELECT COUNT(*) FROM p_cX")
        .sql("shadow the real table", "CREATE TEMPORARY TABLE p_cX (id INT)")
        .sql("shadow is read", "SELECT COUNT(*) FROM p_cX")
        .sql("drop the shadow", "DROP TEMPORARY TABLE p_cX")
        .sql("real table again", "SELECT COUNT(*) FROM p_cX")
        .sql("temporary table still there", "SELECT COUNT(*) FROM tmp_cX")
        // named locks
        .sql("GET_LOCK", "SELECT GET_LOCK('sem_lock_cX', 0)")
        .sql(
            "lock held by this session",
            "SELECT IS_USED_LOCK('sem_lock_cX') = CONNECTION_ID() AS mine,"
                + " IS_FREE_LOCK('sem_lock_cX') AS free")
        .side(
            "side sees the lock taken",
            "SELECT IS_FREE_LOCK('sem_lock_cX') AS free, GET_LOCK('sem_lock_cX', 0) AS got")
        .sql("begin (lock)", "START TRANSACTION")
        .sql(
            "lock held in transaction",
            "SELECT IS_USED_LOCK('sem_lock_cX') = CONNECTION_ID() AS mine")
        .sql("commit (lock)", "COMMIT")
        .sql("RELEASE_LOCK", "SELECT RELEASE_LOCK('sem_lock_cX')")
        .sql("RELEASE_LOCK again", "SELECT RELEASE_LOCK('sem_lock_cX')")
        .side("side sees the lock free", "SELECT IS_FREE_LOCK('sem_lock_cX') AS free")
        .sql("GET_LOCK kept until disconnect", "SELECT GET_LOCK('sem_lock2_cX', 0)")
        // LOCK TABLES
        .sql("LOCK TABLES READ", "LOCK TABLES p_cX READ")
        .sql("write to read-locked table fails", "INSERT INTO p_cX (s, n) VALUES ('locked', 100)")
        .sql("unlocked table is not accessible", "SELECT COUNT(*) FROM fk_cX")
        .sql("read-locked table is readable", "SELECT COUNT(*) FROM p_cX")
        .sql("UNLOCK TABLES", "UNLOCK TABLES")
        .sql("other table accessible again", "SELECT COUNT(*) FROM fk_cX")
        // SQL_CALC_FOUND_ROWS
        .sql("SQL_CALC_FOUND_ROWS", "SELECT SQL_CALC_FOUND_ROWS id FROM p_cX ORDER BY id LIMIT 1")
        .sql("FOUND_ROWS is the total", "SELECT FOUND_ROWS()")
        .sql("drop tables", "DROP TABLE p_cX, fk_cX")
        .sql("temporary table outlives drop of others", "SELECT COUNT(*) FROM tmp_cX")
        .afterCloseAwaitSide(
            "lock freed after disconnect", "SELECT IS_FREE_LOCK('sem_lock2_cX')", "1");
  }

  /**
   * MariaDB Connector/J (session tracking, pipelining): USE and COM_INIT_DB (setCatalog), non-ASCII
   * round trips, isolation through its cache, autocommit, LAST_INSERT_ID, warnings and
   * multi-statements.
   */
  static SessionScript mariadbSchemaAndCharsets() {
    return new SessionScript("mj-main", Driver.MARIADB_CJ, "allowMultiQueries=true")
        .sqlNoWarnings("setup", "DROP TABLE IF EXISTS m_cX, " + OTHER_DB + ".o_cX")
        .sql(
            "create table",
            "CREATE TABLE m_cX (id INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(40) CHARACTER SET"
                + " utf8mb4 COLLATE utf8mb4_bin)")
        .sql(
            "create table in other database",
            "CREATE TABLE "
                + OTHER_DB
                + ".o_cX (id INT AUTO_INCREMENT PRIMARY KEY,"
                + " s VARCHAR(20))")
        .sql(
            "rows in both",
            "INSERT INTO m_cX (s) VALUES ('main'); INSERT INTO "
                + OTHER_DB
                + ".o_cX (s) VALUES ('other')")
        // USE (text) and COM_INIT_DB (setCatalog in MariaDB Connector/J)
        .jdbc("getCatalog", c -> c.conn.getCatalog())
        .sql("DATABASE()", "SELECT DATABASE()")
        .sql("USE other", "USE " + OTHER_DB)
        .sql("DATABASE() after USE", "SELECT DATABASE()")
        .jdbc("getCatalog after USE", c -> c.conn.getCatalog())
        .sql("unqualified table of other database", "SELECT s FROM o_cX")
        .sql("begin (USE)", "START TRANSACTION")
        .sql("insert into unqualified table", "INSERT INTO o_cX (s) VALUES ('in tx')")
        .sql("commit (USE)", "COMMIT")
        .sql("DATABASE() after commit", "SELECT DATABASE(), COUNT(*) FROM o_cX")
        .jdbc(
            "setCatalog(main) sends COM_INIT_DB",
            c -> {
              c.conn.setCatalog(DB);
              return c.conn.getCatalog();
            })
        .sql("DATABASE() after COM_INIT_DB", "SELECT DATABASE()")
        .sql("unqualified table of main database", "SELECT s FROM m_cX")
        .sql("begin (COM_INIT_DB)", "START TRANSACTION")
        .sql("DATABASE() in transaction", "SELECT DATABASE(), (SELECT COUNT(*) FROM m_cX) AS n")
        .sql("commit (COM_INIT_DB)", "COMMIT")
        .jdbc(
            "setCatalog(other)",
            c -> {
              c.conn.setCatalog(OTHER_DB);
              return c.conn.getCatalog();
            })
        .sql("other database after setCatalog", "SELECT DATABASE(), COUNT(*) FROM o_cX")
        .sql("USE of a missing database fails", "USE sem_it_missing")
        .sql("database unchanged after failed USE", "SELECT DATABASE()")
        .jdbc(
            "setCatalog of a missing database fails",
            c -> {
              c.conn.setCatalog("sem_it_missing");
              return c.conn.getCatalog();
            })
        .sql("database unchanged after failed COM_INIT_DB", "SELECT DATABASE()")
        .jdbc(
            "setCatalog(main) again",
            c -> {
              c.conn.setCatalog(DB);
              return c.conn.getCatalog();
            })
        .jdbc(
            "setSchema(other)",
            c -> {
              c.conn.setSchema(OTHER_DB);
              return c.conn.getCatalog() + " schema=" + c.conn.getSchema();
            })
        .sql("DATABASE() after setSchema", "SELECT DATABASE()")
        .sql("USE main", "USE " + DB)
        // non-ASCII round trips
        .sql("literal insert", "INSERT INTO m_cX (s) VALUES ('" + NON_ASCII + "')")
        .jdbc(
            "parameter insert",
            c -> {
              PreparedStatement ps = c.prepared("ins", "INSERT INTO m_cX (s) VALUES (?)", true);
              ps.setString(1, NON_ASCII);
              return Client.update(ps);
            })
        .sql("LAST_INSERT_ID after parameter insert", "SELECT LAST_INSERT_ID()")
        .sql("read back", "SELECT id, s, HEX(s), CHAR_LENGTH(s), LENGTH(s) FROM m_cX ORDER BY id")
        .sql("compare", "SELECT COUNT(*) FROM m_cX WHERE s = '" + NON_ASCII + "'")
        .sql(
            "character set variables",
            "SELECT @@character_set_client, @@character_set_connection,"
                + " @@character_set_results, @@collation_connection")
        .sql(
            "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
            "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci")
        .sql("unicode collation later", "SELECT 'ß' = 'ss' AS sz, @@collation_connection")
        .sql("begin (collation)", "START TRANSACTION")
        .sql("unicode collation in transaction", "SELECT 'ß' = 'ss' AS sz, 'a' = 'A' AS ci")
        .sql("commit (collation)", "COMMIT")
        .sql("SET NAMES utf8mb4", "SET NAMES utf8mb4")
        // carried variables through MariaDB Connector/J
        .sql("set time_zone and sql_mode", "SET time_zone = '-07:00', sql_mode = 'NO_ZERO_DATE'")
        .sql(
            "tz and sql_mode later",
            "SELECT @@time_zone, @@sql_mode, TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW())"
                + " AS offset_min")
        .sql("begin (tz)", "START TRANSACTION")
        .sql("tz in transaction", "SELECT CAST(FROM_UNIXTIME(3600) AS CHAR) AS t, @@sql_mode")
        .sql("commit (tz)", "COMMIT")
        .jdbc(
            "getTransactionIsolation default",
            c -> String.valueOf(c.conn.getTransactionIsolation()))
        .jdbc(
            "setTransactionIsolation(READ_COMMITTED)",
            c -> {
              c.conn.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
              return String.valueOf(c.conn.getTransactionIsolation());
            })
        .sql("row to watch", "INSERT INTO m_cX (id, s) VALUES (100, 'v0')")
        .sql("begin (RC)", "START TRANSACTION")
        .sql("RC first read", "SELECT s, @@transaction_isolation FROM m_cX WHERE id = 100")
        .side("side commits v1", "UPDATE m_cX SET s = 'v1' WHERE id = 100")
        .sql("RC sees v1", "SELECT s FROM m_cX WHERE id = 100")
        .sql("commit (RC)", "COMMIT")
        .sql(
            "SET SESSION READ UNCOMMITTED",
            "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
        .jdbc(
            "getTransactionIsolation after SQL",
            c -> String.valueOf(c.conn.getTransactionIsolation()))
        .sql("READ UNCOMMITTED later", "SELECT @@transaction_isolation")
        .jdbc(
            "setTransactionIsolation(REPEATABLE_READ)",
            c -> {
              c.conn.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
              return String.valueOf(c.conn.getTransactionIsolation());
            })
        .sql("begin (RR)", "START TRANSACTION")
        .sql("RR first read", "SELECT s, @@transaction_isolation FROM m_cX WHERE id = 100")
        .side("side commits v2", "UPDATE m_cX SET s = 'v2' WHERE id = 100")
        .sql("RR still sees v1", "SELECT s FROM m_cX WHERE id = 100")
        .sql("commit (RR)", "COMMIT")
        .jdbc(
            "setReadOnly(true)",
            c -> {
              c.conn.setReadOnly(true);
              return String.valueOf(c.conn.isReadOnly());
            })
        .sql("insert after setReadOnly", "INSERT INTO m_cX (s) VALUES ('ro?')")
        .jdbc(
            "setReadOnly(false)",
            c -> {
              c.conn.setReadOnly(false);
              return String.valueOf(c.conn.isReadOnly());
            })
        // autocommit and LAST_INSERT_ID through MariaDB Connector/J
        .jdbc(
            "setAutoCommit(false)",
            c -> {
              c.conn.setAutoCommit(false);
              return String.valueOf(c.conn.getAutoCommit());
            })
        .insert("insert in implicit transaction", "INSERT INTO m_cX (s) VALUES ('implicit')")
        .side("side does not see it", "SELECT COUNT(*) FROM m_cX WHERE s = 'implicit'")
        .jdbc(
            "commit()",
            c -> {
              c.conn.commit();
              return "ok";
            })
        .sql("LAST_INSERT_ID after commit()", "SELECT LAST_INSERT_ID()")
        .side("side sees it", "SELECT COUNT(*) FROM m_cX WHERE s = 'implicit'")
        .insert("insert to roll back", "INSERT INTO m_cX (s) VALUES ('rolled back')")
        .jdbc(
            "rollback()",
            c -> {
              c.conn.rollback();
              return "ok";
            })
        .sql(
            "LAST_INSERT_ID after rollback()",
            "SELECT LAST_INSERT_ID(), COUNT(*) FROM m_cX WHERE s = 'rolled back'")
        .jdbc(
            "savepoint, insert, rollback to it",
            c -> {
              Savepoint sp = c.conn.setSavepoint();
              try (var s = c.conn.createStatement()) {
                s.executeUpdate(c.sub("INSERT INTO m_cX (s) VALUES ('after savepoint')"));
              }
              c.conn.rollback(sp);
              c.conn.commit();
              return "ok";
            })
        .sql("nothing after savepoint", "SELECT COUNT(*) FROM m_cX WHERE s = 'after savepoint'")
        .jdbc(
            "setAutoCommit(true)",
            c -> {
              c.conn.setAutoCommit(true);
              return String.valueOf(c.conn.getAutoCommit());
            })
        // warnings and multi-statements through MariaDB Connector/J
        .sql("1/0 with getWarnings", "SELECT 1/0 AS q")
        .sql(
            "insert ignore duplicate with getWarnings",
            "INSERT IGNORE INTO m_cX (id, s) VALUES (1, 'dup')")
        .sqlNoWarnings(
            "truncation, not fetched", "SELECT CAST('9x' AS INT) AS v, CAST('8y' AS INT) AS w")
        .sqlNoWarnings("SHOW WARNINGS", "SHOW WARNINGS")
        .sqlNoWarnings("warning_count", "SELECT @@warning_count")
        .sql(
            "multi: insert, LAST_INSERT_ID, ROW_COUNT",
            "INSERT INTO m_cX (s) VALUES ('m1'), ('m2');"
                + " SELECT LAST_INSERT_ID(); UPDATE m_cX SET s = 'm3' WHERE s IN ('m1', 'm2'); SELECT ROW_COUNT()")
        .sql("LAST_INSERT_ID after multi", "SELECT LAST_INSERT_ID()")
        .sql(
            "multi with error in the middle",
            "SELECT 1 AS one; SELECT * FROM missing_cX; SELECT 3 AS three")
        .sql("after failed multi", "SELECT 'after' AS s, DATABASE()")
        .sql("final rows", "SELECT id, s FROM m_cX ORDER BY id")
        .jdbc("close prepared statements", c -> c.closePrepared("ins"))
        .sql("drop tables", "DROP TABLE m_cX, " + OTHER_DB + ".o_cX");
  }

  /**
   * MariaDB Connector/J with server-side prepared statements, user variables, a temporary table and
   * a named lock, then {@code Connection.reset()} (COM_RESET_CONNECTION with {@code
   * useResetConnection}), which must clear all of that and the carried variables, and leave a
   * client that works (and may be multiplexed) afterwards.
   */
  static SessionScript mariadbPinned() {
    return new SessionScript(
            "mj-pin",
            Driver.MARIADB_CJ,
            "allowMultiQueries=true&useServerPrepStmts=true&useResetConnection=true")
        .sqlNoWarnings("setup", "DROP TABLE IF EXISTS q_cX")
        .sql(
            "create table",
            "CREATE TABLE q_cX (id INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(40) CHARACTER SET"
                + " utf8mb4, n BIGINT)")
        .sql("set carried variables", "SET time_zone = '+02:00', sql_mode = 'ANSI_QUOTES'")
        .jdbc(
            "prepared select",
            c -> {
              PreparedStatement ps =
                  c.prepared("sel", "SELECT ? AS a, CHAR_LENGTH(?) AS len, ? * 2 AS n", false);
              ps.setString(1, NON_ASCII);
              ps.setString(2, NON_ASCII);
              ps.setLong(3, 21);
              return Client.exec(ps);
            })
        .jdbc(
            "prepared insert",
            c -> {
              PreparedStatement ps =
                  c.prepared("ins", "INSERT INTO q_cX (s, n) VALUES (?, ?)", true);
              ps.setString(1, NON_ASCII);
              ps.setLong(2, 1);
              return Client.update(ps);
            })
        .sql("LAST_INSERT_ID after prepared insert", "SELECT LAST_INSERT_ID()")
        .sql("begin (prepared)", "START TRANSACTION")
        .jdbc(
            "prepared batch in transaction",
            c -> {
              PreparedStatement ps = c.prepared("ins", null, true);
              for (int i = 2; i <= 4; i++) {
                ps.setString(1, "batch " + i);
                ps.setLong(2, i);
                ps.addBatch();
              }
              return Arrays.toString(ps.executeBatch());
            })
        .sql("commit (prepared)", "COMMIT")
        .jdbc(
            "prepared select reused",
            c -> {
              PreparedStatement ps = c.prepared("sel", null, false);
              ps.setString(1, "b");
              ps.setString(2, "bb");
              ps.setLong(3, 5);
              return Client.exec(ps);
            })
        .jdbc(
            "prepared read of rows",
            c -> {
              PreparedStatement ps =
                  c.prepared("rows", "SELECT id, s, n FROM q_cX WHERE n >= ? ORDER BY id", false);
              ps.setLong(1, 0);
              return Client.exec(ps);
            })
        .sql("set user variable", "SET @y = 'kept'")
        .sql("create temporary table", "CREATE TEMPORARY TABLE tmpq_cX (id INT)")
        .sql("insert into temporary table", "INSERT INTO tmpq_cX VALUES (1), (2)")
        .sql("GET_LOCK", "SELECT GET_LOCK('sem_mlock_cX', 0)")
        .sql(
            "session before reset",
            "SELECT @y, (SELECT COUNT(*) FROM tmpq_cX) AS tmp, @@time_zone, @@sql_mode,"
                + " IS_USED_LOCK('sem_mlock_cX') = CONNECTION_ID() AS mine")
        .jdbc(
            "close prepared statements before reset",
            c ->
                c.closePrepared("sel")
                    + " "
                    + c.closePrepared("ins")
                    + " "
                    + c.closePrepared("rows"))
        .jdbc(
            "reset() sends COM_RESET_CONNECTION",
            c -> {
              c.conn.unwrap(org.mariadb.jdbc.Connection.class).reset();
              return "ok";
            })
        .sql("user variable gone", "SELECT @y")
        .sql("temporary table gone", "SELECT COUNT(*) FROM tmpq_cX")
        .sql("variables back to defaults", "SELECT @@time_zone, @@sql_mode, DATABASE()")
        .side("side sees the lock free after reset", "SELECT IS_FREE_LOCK('sem_mlock_cX') AS free")
        .sql("LAST_INSERT_ID after reset", "SELECT LAST_INSERT_ID()")
        .sql("set time_zone after reset", "SET time_zone = '+03:00'")
        .sql("begin (after reset)", "START TRANSACTION")
        .sql(
            "time zone in transaction after reset",
            "SELECT @@time_zone, CAST(FROM_UNIXTIME(0) AS CHAR) AS epoch")
        .sql("commit (after reset)", "COMMIT")
        .sql("time zone later after reset", "SELECT @@time_zone")
        .jdbc(
            "prepare after reset",
            c -> {
              PreparedStatement ps =
                  c.prepared("sel2", "SELECT COUNT(*) AS n FROM q_cX WHERE n > ?", false);
              ps.setLong(1, 1);
              return Client.exec(ps);
            })
        .jdbc("close prepared after reset", c -> c.closePrepared("sel2"))
        .sql("drop table", "DROP TABLE q_cX");
  }
}
