import type { Extractor } from './extractor.js';

/**
 * The registry: every text extractor, one per source format. Adding a format means one new file
 * in this folder and one line here.
 */
export const EXTRACTORS: readonly Extractor[] = [];
