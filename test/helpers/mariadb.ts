import { afterAll, beforeAll } from 'vitest';
import { connectMysql } from '../../src/sinks/mysql.js';
import mysql from 'mysql2/promise';

export const MARIADB_ROOT = 'mysql://root@127.0.0.1:3306';

export interface TestDatabase {
  name: string;
  url: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A fresh database on the local MariaDB (root, empty password), dropped by drop(). */
export async function freshDatabase(): Promise<TestDatabase> {
  const name = `rawcrawl_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = await mysql.createConnection({ uri: `${MARIADB_ROOT}/test`, charset: 'utf8mb4' });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  const conn = await mysql.createConnection({ uri: `${MARIADB_ROOT}/${name}`, charset: 'utf8mb4', timezone: 'Z' });
  return {
    name,
    url: `${MARIADB_ROOT}/${name}`,
    async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      const [rows] = await conn.query(sql, params);
      return rows as T[];
    },
    async drop() {
      await conn.end().catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

/**
 * A fresh database for one test file: made before its tests (with schema.sql applied when
 * `schema` is set), dropped after them. Use the returned object inside tests only.
 */
export function useFreshDatabase(options: { schema?: boolean } = {}): TestDatabase {
  let inner: TestDatabase | null = null;
  beforeAll(async () => {
    inner = await freshDatabase();
    if (options.schema) await (await connectMysql(inner.url)).end();
  });
  afterAll(async () => {
    await inner?.drop();
  });
  const get = (): TestDatabase => {
    if (!inner) throw new Error('the test database exists only inside tests');
    return inner;
  };
  return {
    get name() {
      return get().name;
    },
    get url() {
      return get().url;
    },
    query: (sql, params) => get().query(sql, params),
    drop: () => get().drop(),
  };
}
