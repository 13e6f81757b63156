/** The domain registry: built-in domains, plus any a user registers. */
import type { Domain } from './domain.js';
import { chemTile } from './chem_tile.js';
import { hotPot } from './hot_pot.js';
import { switchLight } from './switch_light.js';

import { BadInputError } from '../core/errors.js';
import type { ReflectionRules } from '../core/reference.js';

export type { Domain, DomainPlay, Reflection } from './domain.js';

const registry = new Map<string, Domain>([hotPot, chemTile, switchLight].map((d) => [d.name, d]));

export const BUILTIN_DOMAINS: readonly string[] = ['hot_pot', 'chem_tile', 'switch_light'];

/**
 * Adds a domain. Worker threads must register it too: do it in a module both import. A name that is not
 * [A-Za-z0-9_-]+ (it names a directory of the store), or a built-in domain's name given to another domain
 * (its playbook would take this one's results), is a BadInputError.
 */
export function registerDomain(domain: Domain): void {
  if (!/^[a-z0-9_-]+$/i.test(domain.name)) throw new BadInputError(`domain name \`${domain.name}\`: Expected letters, digits, '_' or '-' (it names the domain's directory in the store)`);
  if (BUILTIN_DOMAINS.includes(domain.name) && registry.get(domain.name) !== domain) {
    throw new BadInputError(`domain name \`${domain.name}\` is a built-in domain's: give this domain a name of its own, or its results would go into the built-in domain's playbook`);
  }
  registry.set(domain.name, domain);
}

export function findDomain(name: string): Domain | undefined {
  return registry.get(name);
}

export function domainNames(): string[] {
  return [...registry.keys()];
}

/** The registry's reflection rules, for the audit and repair of stores whose domains a user registered. */
export const registeredReflection: ReflectionRules = (name) => registry.get(name);
