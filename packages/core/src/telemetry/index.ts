/**
 * Training telemetry with no dependency: `metrics.jsonl` (an append-only JSON-lines log) and TensorBoard event
 * files (TFRecord framing with CRC-32C, and the `Event` protobuf for scalars).
 * @packageDocumentation
 */
export { crc32c, maskedCrc32c } from './crc32c.js';
export { frameTfRecord, readTfRecords, TFRECORD_OVERHEAD, type TfRecord, type TfRecordScan } from './tfrecord.js';
export { encodeEvent, decodeEvent, type TfEvent, type ScalarValue } from './event-protobuf.js';
export { EventFileWriter, trimEventFiles, isEventFile, EVENTS_FOLDER, EVENT_FILE_VERSION, type EventFileWriterOptions } from './event-writer.js';
export { MetricsLog, parseMetricsLog, readMetricsLog, METRICS_FILE, type MetricsRecord, type ParsedMetricsLog } from './metrics-log.js';
