/**
 * User domains: an experiment's `modules` lists files whose default export
 * (or `domain` export) is a Domain. The coordinator and every worker thread
 * import them, so both sides know the same domains.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BadInputError } from '../core/errors.js';
import type { Domain } from './domain.js';
import { domainNames, findDomain, registerDomain } from './index.js';

const loaded = new Map<string, Promise<void>>();
/**
 * The domains each loaded module registered, by module URL: what a worker thread that imports it will know (its
 * export, and any it registers itself as it is imported).
 */
const registeredBy = new Map<string, string[]>();

/** The domains the modules at `urls` register (once loaded): the ones worker threads can play besides the built-in ones. */
export function domainsOfModules(urls: readonly string[]): Set<string> {
  return new Set(urls.flatMap((u) => registeredBy.get(u) ?? []));
}

function isDomain(v: unknown): v is Domain {
  const d = v as Domain;
  return typeof d === 'object' && d !== null && typeof d.name === 'string' && typeof d.play === 'function' && typeof d.reflect === 'function';
}

/** Turns module paths (relative to `baseDir`) into file URLs. */
export function resolveModules(paths: readonly string[], baseDir: string): string[] {
  return paths.map((p) => pathToFileURL(isAbsolute(p) ? p : resolve(baseDir, p)).href);
}

export function loadDomainModules(urls: readonly string[]): Promise<void> {
  return Promise.all(
    urls.map((url) => {
      let p = loaded.get(url);
      if (!p) {
        const before = new Set(domainNames());
        p = import(url).then(
          (mod: Record<string, unknown>) => {
            const domain = mod['default'] ?? mod['domain'];
            if (!isDomain(domain)) throw new BadInputError(`${url}: a domain module must export a Domain (name, play, reflect) as default or \`domain\``);
            // Another module's domain of the same name would be replaced silently, and its episodes played by this one.
            const other = [...registeredBy].find(([u, names]) => u !== url && names.includes(domain.name))?.[0];
            if (other && findDomain(domain.name) !== domain) throw new BadInputError(`${url}: exports domain \`${domain.name}\`, as ${other} does; give one of them another name`);
            try {
              registerDomain(domain);
            } catch (err) {
              if (err instanceof BadInputError) throw new BadInputError(`${url}: ${err.message}`);
              throw err;
            }
            registeredBy.set(url, [...new Set([domain.name, ...domainNames().filter((n) => !before.has(n))])]);
          },
          (err: Error) => {
            throw new BadInputError(`domain module ${url} cannot be loaded: ${err.message}`);
          },
        );
        loaded.set(url, p);
      }
      return p;
    }),
  ).then(() => undefined);
}
