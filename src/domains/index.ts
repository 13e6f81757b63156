/** The domain registry: built-in domains, plus any a user registers. */
import type { Domain } from './domain.js';
import { chemTile } from './chem_tile.js';
import { hotPot } from './hot_pot.js';
import { switchLight } from './switch_light.js';

import type { ReflectionRules } from '../core/reference.js';

export type { Domain, DomainPlay, Reflection } from './domain.js';

const registry = new Map<string, Domain>([hotPot, chemTile, switchLight].map((d) => [d.name, d]));

export const BUILTIN_DOMAINS: readonly string[] = ['hot_pot', 'chem_tile', 'switch_light'];

/** Adds a domain. Worker threads must register it too: do it in a module both import. */
export function registerDomain(domain: Domain): void {
  if (!/^[a-z0-9_-]+$/i.test(domain.name)) throw new Error(`Expected domain name to be [A-Za-z0-9_-]+, got \`${domain.name}\``);
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
