/** `chaos --store postgres://...`: writers killed inside the merge transaction and at random moments lose nothing acknowledged. */
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { sql } from './conformance/backends.js';
import { freshUrl, pgTest } from './pg-test.js';

for (const commit of ['each', 'batched'] as const) {
  pgTest(`chaos on postgres:// kills and pauses writers (--commit ${commit}) and reports nothing acknowledged lost`, async (t) => {
    const url = await freshUrl(t);
    const r = await cli(['chaos', '--kills', '4', '--processes', '2', '--threads', '2', '--seed', '3', '--commit', commit, '--store', url, '--json']);
    t.is(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    t.like(report, { ok: true, commit, store: url, kills: 4, killsInCriticalSection: 2, killsAtOtherPoints: 0, killsAtRandomMoments: 2, tornPlaybooks: 0, acknowledgedLost: 0, unexpected: 0, lostAfterRepair: 0 }, JSON.stringify(report));
    t.true(report.pauses >= 1, JSON.stringify(report));
    t.true(report.acknowledged > 0);
    // Every acknowledged observation is a committed row: at least as many records as acknowledgements.
    const schema = new URL(url).searchParams.get('schema')!;
    const [{ n }] = (await sql<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".episodes`)) as [{ n: string }];
    t.true(Number(n) >= report.acknowledged, `${n} records, ${report.acknowledged} acknowledged`);
    // A second chaos run refuses to reuse the schema.
    assertOneLineError(t, await cliHere(['chaos', '--kills', '1', '--store', url]), url, 'already holds a store');
  });
}
