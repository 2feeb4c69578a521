/**
 * A decoding thread of a rebuild's bulk load (lib/projection/rebuild/decode-threads.ts): the
 * app's serde parses, validates and reveals each batch it is handed, while the rebuild's own
 * thread folds. Started by the rebuild (REBUILD_DECODE_THREADS of them), never on its own.
 */
import { serveDecoding } from "@/lib/projection/rebuild/decode-threads";
import { serde } from "@/modules";

serveDecoding(serde);
