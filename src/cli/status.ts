import { Command, Option } from 'commander';
import { RawcrawlError } from '../errors.js';
import { errorLine } from './fetch.js';
import { EXIT, type Io } from './io.js';

export function statusCommand(io: Io, setExit: (code: number) => void): Command {
  return new Command('status')
    .description('print the counts of a --crawl-id crawl (works while it runs)')
    .addOption(new Option('--mysql <url>', 'mysql://user:pass@host:3306/db').env('RAWCRAWL_MYSQL_URL'))
    // Checked in the action, not by commander: its check of a required option comes before the
    // one of unknown options, and would call a mistyped --crawl-idd a missing --crawl-id.
    .option('--crawl-id <name>', 'the crawl to report on (required)')
    .option('--json', 'print JSON')
    .action(async (flags: { mysql?: string; crawlId?: string; json?: boolean }) => {
      try {
        if (flags.crawlId === undefined) throw new RawcrawlError('ERR_INVALID_OPTION', 'status needs --crawl-id NAME');
        if (!flags.mysql) throw new RawcrawlError('ERR_INVALID_OPTION', 'status needs --mysql URL (or RAWCRAWL_MYSQL_URL)');
        const { connectMysql } = await import('../sinks/mysql.js');
        const { crawlStatus } = await import('../sinks/mysql-status.js');
        // Read only: status never creates a database or tables.
        const pool = await connectMysql(flags.mysql, { readOnly: true });
        try {
          const s = await crawlStatus(pool, flags.crawlId);
          if (!s) throw new RawcrawlError('ERR_INVALID_OPTION', `no crawl named ${JSON.stringify(flags.crawlId)} in this database`);
          if (flags.json) {
            io.stdout.write(JSON.stringify(s, null, 2) + '\n');
          } else {
            const st = s.states;
            io.stdout.write(
              `crawl ${s.name} (since ${s.createdAt.toISOString()})\n` +
                `  queued ${st.queued}  claimed ${st.claimed}${s.claimedLeaseExpired > 0 ? ` (${s.claimedLeaseExpired} past their lease)` : ''}  done ${st.done}  failed ${st.failed}  skipped ${st.skipped}\n` +
                `  pages/s over the last minute: ${s.pagesPerSecondLastMinute.toFixed(2)}\n` +
                // Kept only for a limit: without one the count stays 0 and would mislead.
                (s.maxPages !== null ? `  pages counted toward --max-pages: ${s.pagesCounted} of ${s.maxPages}\n` : '') +
                (s.hostCount > s.hosts.length ? `  by host (the ${s.hosts.length} with the most URLs, of ${s.hostCount}):\n` : `  by host:\n`) +
                s.hosts.map((h) => `    ${h.host}  queued ${h.queued}  claimed ${h.claimed}  done ${h.done}  failed ${h.failed}\n`).join(''),
            );
          }
        } finally {
          await pool.end();
        }
        setExit(EXIT.OK);
      } catch (err) {
        io.stderr.write(errorLine(err) + '\n');
        setExit(err instanceof RawcrawlError && err.code === 'ERR_INVALID_OPTION' ? EXIT.USAGE : EXIT.FAILED);
      }
    });
}
