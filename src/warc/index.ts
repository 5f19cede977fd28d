export { WarcWriter, rotatedName, type ClaimedWarcName, type WarcWriterOptions, type WarcLocation, type WrittenExchange } from './writer.js';
export { readWarc, parseWarc, warcField, type WarcRecordRead } from './reader.js';
export { warcExchanges, type WarcExchange } from './read-exchanges.js';
export type { WarcField } from './record.js';
