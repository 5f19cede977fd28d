export { WarcWriter, rotatedName, type ClaimedWarcName, type WarcWriterOptions, type WarcLocation, type WrittenExchange } from './writer.js';
export { readWarc, readWarcRecords, parseWarc, warcField, WarcRecordSplitter, type ReadWarcOptions, type WarcRecordRead, type WarcTruncation } from './reader.js';
export { streamWarcExchanges, warcExchanges, type WarcExchange } from './read-exchanges.js';
export type { WarcField } from './record.js';
