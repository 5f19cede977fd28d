import { Command, Option } from 'commander';
import { RawcrawlError } from '../errors.js';
import { errorLine } from './fetch.js';
import { EXIT, type Io } from './io.js';

export function initDbCommand(io: Io, setExit: (code: number) => void): Command {
  return new Command('init-db')
    .description('create the tables of schema.sql (safe to run again)')
    .addOption(new Option('--mysql <url>', 'mysql://user:pass@host:3306/db').env('RAWCRAWL_MYSQL_URL'))
    .action(async (flags: { mysql?: string }) => {
      try {
        if (!flags.mysql) throw new RawcrawlError('ERR_INVALID_OPTION', 'init-db needs --mysql URL (or RAWCRAWL_MYSQL_URL)');
        const { connectMysql } = await import('../sinks/mysql.js');
        const pool = await connectMysql(flags.mysql);
        await pool.end();
        io.stderr.write('rawcrawl: schema applied\n');
        setExit(EXIT.OK);
      } catch (err) {
        io.stderr.write(errorLine(err) + '\n');
        setExit(err instanceof RawcrawlError && err.code === 'ERR_INVALID_OPTION' ? EXIT.USAGE : EXIT.FAILED);
      }
    });
}
