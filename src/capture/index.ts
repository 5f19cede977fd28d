export { CaptureRecorder } from './recorder.js';
export { createCaptureSink, type CaptureSink, type CaptureSinkOptions, type PageCapture } from './sink.js';
export type { CapturedExchange, CaptureError, CaptureTls, PhaseTimings, ReadBoundary } from './exchange.js';
export { CAPTURE_FORMAT, CAPTURE_EXTENSION, encodeCapture, decodeCapture, readCapture, type CaptureFile, type CaptureHeader } from './capture-file.js';
export { replayResponse, scanResponse, type ResponseRecord, type StoredResponse, type ReplayLimits } from './replay-response.js';
export { diffRecords, type FieldDifference } from './record-diff.js';
export { iterateStored, loadStored, type StoredExchange } from './load.js';
export { startReplayServer, type ReplayServer, type ReplayServerOptions } from './replay-server.js';
export { sha1Label, base32 } from './digest.js';
