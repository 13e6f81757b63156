/**
 * Where `chaos` aims: a store fault hook that, once armed, parks the writer
 * at the named point of the critical section and reports it, until told to
 * continue (the orchestrator kills or pauses the process meanwhile).
 */
import type { FaultPoint } from '../store/store.js';
import type { FaultAction } from './messages.js';

export interface FaultPark {
  arm(action: FaultAction, point: FaultPoint): void;
  disarm(): void;
  /** Lets a parked writer go on. */
  release(): void;
  /** The hook to give the Store (`faults`). */
  faults(point: FaultPoint): Promise<void>;
}

export function faultPark(reached: (point: FaultPoint, action: FaultAction) => void): FaultPark {
  let armed: { action: FaultAction; point: FaultPoint } | null = null;
  let resume: (() => void) | null = null;
  return {
    arm: (action, point) => {
      armed = { action, point };
    },
    disarm: () => {
      armed = null;
    },
    release: () => resume?.(),
    faults: async (point) => {
      const a = armed;
      if (!a || a.point !== point) return;
      armed = null;
      await new Promise<void>((r) => {
        resume = r;
        reached(point, a.action);
      });
      resume = null;
    },
  };
}
