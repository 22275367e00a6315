export { CSV_CONTENT_TYPE, type CsvDownloadOptions, csvDownload, DEFAULT_CHUNK_BYTES, exportFilename, type HttpBodyInit } from "./csv.js";
export { csvColumns, csvRecord } from "./csv-record.js";
export { cursorRows, readSnapshot, rfc3339Utc, SNAPSHOT_IDLE_TIMEOUT_MS, type SnapshotOptions } from "./snapshot.js";
