import type { Probe } from './probe.js';

/**
 * The registry: every probe, in the order their results are shown. Adding a probe means one new
 * file in this folder and one line here.
 */
export const PROBES: readonly Probe[] = [];
