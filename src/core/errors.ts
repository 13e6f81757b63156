/**
 * Errors users can test with `instanceof` or by `code`. Each carries the exit
 * code the CLI turns it into, so there is one place that maps failures to
 * exit codes (see src/core/exit-codes.ts).
 */
import { EXIT } from './exit-codes.js';

export class AceError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(message: string, code: string, exitCode: number) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad input: a file, a flag or an experiment the tool refuses to act on. */
export class BadInputError extends AceError {
  readonly file?: string;
  constructor(message: string, file?: string) {
    super(message, 'E_BAD_INPUT', EXIT.usage);
    this.file = file;
  }
}

/** A file the system will not read as one (no permission, a directory in its place, a link to nothing): not torn, nothing to rebuild. */
export class UnreadableFileError extends BadInputError {}

/**
 * A file that is empty or not JSON (a writer crashed mid-write, or another tool wrote it so): the one kind of playbook
 * `repair --rebuild` may move aside and rebuild. A playbook that is JSON but holds entries ace-orch cannot read is no
 * such file: a rebuild from the episode files would drop what it holds.
 */
export class TornFileError extends BadInputError {}

/** The settings a refusal may name, which each front end says its own way: the CLI as flags, the library as options. */
export type Setting = 'cap' | 'run' | 'store' | 'mode' | 'commit';

/**
 * How a front end names `setting` (with `value`, the setting given that value, as in "--commit shared"),
 * and how it tells the user to give it `value` ("pass --cap 12").
 */
export interface SettingNames {
  name(setting: Setting, value?: string | number): string;
  give(setting: Setting, value: string | number): string;
}

/** The CLI's names, the default: flags. */
export const FLAG_NAMES: SettingNames = {
  name: (setting, value) => {
    if (setting === 'mode') return value === 'unlocked' ? '--no-lock' : '--lock';
    const flag = `--${setting}`;
    return value === undefined ? flag : `${flag} ${value}`;
  },
  give: (setting, value) => `pass ${FLAG_NAMES.name(setting, value)}`,
};

/**
 * Bad input about a setting. Its message names the setting as a flag; `sayAs` re-says it in another front
 * end's names (the library's options), keeping the error's class and fields.
 */
export class SettingError extends BadInputError {
  constructor(
    private readonly render: (names: SettingNames) => string,
    file?: string,
  ) {
    super(render(FLAG_NAMES), file);
  }

  sayAs(names: SettingNames): this {
    const said = this.render(names);
    // The stack starts with the message: ACE_DEBUG shows it, and should show what was said.
    if (this.stack) this.stack = this.stack.replace(this.message, said);
    this.message = said;
    return this;
  }
}

/** A cap lower than the one the store keeps, which would drop observations it holds. */
export class CapRefusedError extends SettingError {
  constructor(
    readonly requested: number,
    readonly kept: number,
    readonly recordedIn: string,
  ) {
    super(
      (n) =>
        `${n.name('cap', requested)}: this store keeps ${kept} observations per playbook (recorded in ${recordedIn}); a lower cap would drop observations it holds. Leave out ${n.name('cap')} to use the store's, or ${n.give('cap', kept)} or more`,
      recordedIn,
    );
  }
}

/** The store cannot keep its guarantees on this platform. */
export class UnsupportedPlatformError extends AceError {
  constructor(message: string) {
    super(message, 'E_PLATFORM', EXIT.usage);
  }
}

export class UsageError extends AceError {
  constructor(message: string) {
    super(message, 'E_USAGE', EXIT.usage);
  }
}

/** The lock could not be had within the timeout; names the locked file. */
export class LockTimeoutError extends AceError {
  readonly file: string;
  constructor(file: string, timeoutMs: number, retries: number, holder = 'another writer holds it') {
    super(`could not lock ${file} within ${timeoutMs} ms (${retries} retries); ${holder}`, 'E_LOCK_TIMEOUT', EXIT.usage);
    this.file = file;
  }
}

/**
 * A write was refused because the playbook or the lock changed under the
 * writer. The merge is retried from a fresh read; the lock is released first
 * if it is still this writer's, and left alone if another writer holds it now.
 */
export class LeaseLostError extends AceError {}

/** proper-lockfile reported the lock compromised mid-merge. */
export class LockCompromisedError extends LeaseLostError {
  constructor(file: string, reason: string) {
    super(`lock on ${file} was compromised: ${reason}`, 'E_LOCK_COMPROMISED', EXIT.usage);
  }
}

/**
 * The fence refused a write: the playbook's generation moved on since this
 * writer read it under what it thought was its lock (its lease was lost while
 * it was paused). The merge is retried from a fresh read.
 */
export class FencedWriteError extends LeaseLostError {
  constructor(file: string, expected: number, found: number) {
    super(`write to ${file} refused by the fence: read generation ${expected}, found ${found}`, 'E_FENCED', EXIT.usage);
  }
}

/**
 * A domain's play (or reflect) returned what cannot be merged: the episode fails, nothing of it is written,
 * and it is not retried (the same code would return the same).
 */
export class EpisodeResultError extends AceError {
  readonly retryable = false;
  constructor(message: string) {
    super(message, 'E_BAD_RESULT', EXIT.failed);
  }
}

/** An episode attempt ran past `--episode-timeout` and was abandoned: nothing of it is written. */
export class EpisodeTimeoutError extends AceError {
  constructor(ms: number) {
    super(`episode attempt abandoned after the ${ms} ms timeout`, 'E_TIMEOUT', EXIT.failed);
  }
}

/**
 * The fence refused a write because the playbook changed under the lock without a newer
 * generation: a tool that does not take this project's lock (or dropped the `generation` key)
 * wrote it. The merge is retried from a fresh read, so that write is kept.
 */
export class ForeignWriteError extends LeaseLostError {
  constructor(file: string) {
    super(`write to ${file} refused by the fence: another tool rewrote it since it was read under the lock`, 'E_FOREIGN_WRITE', EXIT.usage);
  }
}

/** A one-line description for users: the message, never a stack. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
