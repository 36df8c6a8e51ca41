// Runs server-side prepared statements with the Node.js drivers mysql2 (execute(): binary protocol,
// its own statement cache) and mariadb (execute(), and batch() with bulk off), and prints what the
// application sees as JSON, so runs directly and through the proxy can be compared byte for byte.
// Usage: node prepared.js <node_modules dir> <host> <port> <user> <password> <database> <table>
'use strict';
const [modules, host, port, user, password, database, table] = process.argv.slice(2);
const mysql2 = require(modules + '/mysql2/promise');
const mariadb = require(modules + '/mariadb');

function plain(value) {
  return JSON.parse(
    JSON.stringify(value, (k, v) => {
      if (typeof v === 'bigint') return 'bigint:' + v.toString();
      if (v && v.type === 'Buffer' && Array.isArray(v.data)) return 'hex:' + Buffer.from(v.data).toString('hex');
      return v;
    }),
  );
}

function okPacket(r) {
  // What applications read of a write's result; the rest (server status, info) differs by design.
  return { affectedRows: Number(r.affectedRows), insertId: Number(r.insertId), warningStatus: r.warningStatus };
}

async function withMysql2(out) {
  const opts = { host, port: Number(port), user, password, database, dateStrings: true, supportBigNumbers: true };
  const a = await mysql2.createConnection(opts);
  const b = await mysql2.createConnection(opts);
  try {
    const sel = 'SELECT ? + 1 AS n, CONCAT(?, ?) AS s, ? IS NULL AS isnull, CAST(? AS DECIMAL(10,3)) AS d';
    for (let i = 0; i < 3; i++) {
      const [ra] = await a.execute(sel, [i, 'héllo', i, null, '3.125']);
      const [rb] = await b.execute(sel, [i * 10, 'x', 'y', 1, 2.5]);
      out.push(['mysql2 select', ra, rb]);
    }
    const [ins] = await a.execute('INSERT INTO ' + table + ' (k, s, b, d, t) VALUES (?, ?, ?, ?, ?)', [
      'mysql2', 'é ü', Buffer.from([0, 1, 2, 255]), 12.5, '2024-02-29 12:34:56',
    ]);
    out.push(['mysql2 insert', okPacket(ins)]);
    const [rows] = await b.execute('SELECT k, s, b, d, t FROM ' + table + ' WHERE k = ? ORDER BY id', ['mysql2']);
    out.push(['mysql2 rows', rows]);
    await Promise.all([a.execute('SELECT ?', [1]), b.execute('SELECT ?', ['two'])]).then((r) =>
      out.push(['mysql2 concurrent', r.map((x) => x[0])]),
    );
  } finally {
    await a.end();
    await b.end();
  }
}

async function withMariadb(out) {
  const opts = { host, port: Number(port), user, password, database, dateStrings: true, bulk: false };
  const a = await mariadb.createConnection(opts);
  const b = await mariadb.createConnection(opts);
  try {
    const sel = 'SELECT ? + 1 AS n, CONCAT(?, ?) AS s, ? IS NULL AS isnull';
    for (let i = 0; i < 3; i++) {
      out.push(['mariadb select', await a.execute(sel, [i, 'héllo', i, null]), await b.execute(sel, [i * 10, 'x', 'y', 1])]);
    }
    const batch = await a.batch('INSERT INTO ' + table + ' (k, s, b, d, t) VALUES (?, ?, ?, ?, ?)', [
      ['mariadb', 'one', Buffer.from([9, 8]), 1.5, '2024-01-01 00:00:00'],
      ['mariadb', null, null, null, null],
      ['mariadb', 'three', Buffer.from([]), -2.25, '1999-12-31 23:59:59'],
    ]);
    out.push(['mariadb batch', Array.isArray(batch) ? batch.map(okPacket) : okPacket(batch)]);
    // With bulk (the connector's default): one COM_STMT_BULK_EXECUTE, one aggregated result.
    const c = await mariadb.createConnection({ ...opts, bulk: true });
    try {
      const bulk = await c.batch('INSERT INTO ' + table + ' (k, s, b, d, t) VALUES (?, ?, ?, ?, ?)', [
        ['bulk', 'b1', Buffer.from([1]), 0.5, '2020-02-02 02:02:02'],
        ['bulk', null, null, null, null],
      ]);
      out.push(['mariadb bulk batch', Array.isArray(bulk) ? bulk.map(okPacket) : okPacket(bulk)]);
      out.push(['mariadb bulk rows', await c.execute('SELECT k, s, b, d, t FROM ' + table + ' WHERE k = ? ORDER BY id', ['bulk'])]);
    } finally {
      await c.end();
    }
    out.push(['mariadb rows', await b.execute('SELECT k, s, b, d, t FROM ' + table + ' WHERE k = ? ORDER BY id', ['mariadb'])]);
  } finally {
    await a.end();
    await b.end();
  }
}

(async () => {
  const out = [];
  await withMysql2(out);
  await withMariadb(out);
  process.stdout.write(JSON.stringify(plain(out), null, 1) + '\n');
})().catch((e) => {
  process.stderr.write('FAILED: ' + (e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
