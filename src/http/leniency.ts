/**
 * Places where the parser accepted bytes a strict reading of RFC 9112 would not, the way browsers
 * do. Each one is recorded with the stream offset where it fired, so server quirks can be reported.
 */
export type LeniencyKind =
  | 'bare-lf'
  | 'obs-fold'
  | 'missing-reason-phrase'
  | 'empty-line-before-status'
  | 'duplicate-content-length'
  | 'transfer-encoding-with-content-length'
  | 'chunk-size-whitespace'
  | 'empty-transfer-encoding';

export interface Leniency {
  kind: LeniencyKind;
  offset: number;
}
