/**
 * The rebuild's decoding threads as every rebuild starts them (the projector worker's rebuild
 * thread, `npm run rebuild`, the bench and the tests): `threads` threads of workers/decode-thread.ts,
 * none for 0 (the fold's thread decodes too). One place names the entry file.
 */
import { decodeThreads, type StartDecoder } from "@/lib/projection/rebuild/decode-threads";

export const rebuildDecoder = (threads: number): StartDecoder | undefined => decodeThreads(new URL("./decode-thread.ts", import.meta.url), threads);
