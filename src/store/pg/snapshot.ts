/** Reads what the pure audit needs from the PostgreSQL store, like src/store/snapshot.ts does from files. */
import { episodeFact } from '../../core/audit.js';
import type { AuditInput, DomainState } from '../../core/audit.js';
import { SettingError } from '../../core/errors.js';
import type { SnapshotOptions } from '../snapshot.js';
import type { PgStore } from './pg-store.js';
import { builtInReflection, type ReflectionRules } from '../../core/reference.js';
import { pgRecordedCap } from './meta.js';

export async function pgDomainState(store: PgStore, domain: string, rules: ReflectionRules = builtInReflection): Promise<DomainState> {
  const row = await store.readPlaybookRow(domain);
  const episodes = (await store.listEpisodes(domain)).map(({ record }) => episodeFact(record, domain, rules));
  return { domain, playbook: row.exists ? row.playbook : null, episodes, findings: [] };
}

export async function pgAuditInput(store: PgStore, options: SnapshotOptions = {}): Promise<AuditInput> {
  const manifests = await store.readManifests();
  const runId = options.runId ?? null;
  let domains: string[];
  if (runId !== null) {
    const run = manifests.find((m) => m.run_id === runId);
    if (!run) throw new SettingError((n) => `${n.name('run')}: no run \`${runId}\` in ${store.location}`);
    domains = run.config.domains;
  } else {
    domains = [...new Set([...(await store.listDomains()), ...manifests.flatMap((m) => m.config.domains ?? [])])].sort();
    if (domains.length === 0) throw new SettingError((n) => `store ${store.location} has no domains; is ${n.name('store')} pointing at an ACE store?`);
  }
  const states = await Promise.all(domains.map((d) => pgDomainState(store, d, options.rules)));
  return { store: store.location, cap: options.cap, recordedCap: await pgRecordedCap(store, manifests), domains: states, manifests, runId };
}
